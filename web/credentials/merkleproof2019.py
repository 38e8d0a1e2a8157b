"""The `merkle-proof-2019` cryptosuite: a Blockcerts Merkle receipt as a Data Integrity proof.

Follows W3C CCG "Merkle Proof Signature Suite 2019" and Blockcerts' reference encoder
(`@blockcerts/lds-merkle-proof-2019`): the receipt {path, merkleRoot, targetHash, anchors} is
mapped to CBOR with integer keys — an array of [key, value] pairs, key 0 merkleRoot, 1 targetHash,
2 anchors, 3 path — where every hash is the CBOR encoding of its bytes wrapped in a CBOR byte
string, a path step is [0 (left) | 1 (right), hash] and an anchor `blink:<chain>:<network>:<txid>`
is [[0, chain id], [1, network id], [2, txid]]. The CBOR is then multibase base58btc (`z…`).

Chain ids are Blockcerts' (btc 0, eth 1, mtc 2, base 3, mocknet -1) plus `lune` for the sandbox
chain: id 19541 (0x4C55, "LU"), networks regtest 1 and classroom 2. A Lune anchor reads
`blink:lune:regtest:<txid>` with the txid as nodes show it (byte-reversed hex)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cbor2

from .errors import ProofError
from .multibase import decode_base58btc, encode_base58btc

CRYPTOSUITE = "merkle-proof-2019"
ROOT_KEYS = {"merkleRoot": 0, "targetHash": 1, "anchors": 2, "path": 3}
PATH_KEYS = {"left": 0, "right": 1}
CHAINS: dict[str, tuple[int, dict[str, int]]] = {
    "btc": (0, {"mainnet": 1, "testnet": 3}),
    "eth": (1, {"mainnet": 1, "ropsten": 3, "rinkeby": 4, "goerli": 5, "sepolia": 11155111}),
    "mtc": (2, {"mainnet": 137, "mumbai": 80001}),
    "base": (3, {"mainnet": 8453, "sepolia": 84532}),
    "mocknet": (-1, {"mocknet": -1}),
    "lune": (0x4C55, {"regtest": 1, "classroom": 2}),
}
SANDBOX_CHAIN = "lune"


@dataclass(frozen=True)
class Anchor:
    """Where a Merkle root was written: chain, network and transaction id."""

    chain: str
    network: str
    txid: str  # hex as block explorers show it

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """An anchor from its `blink:chain:network:txid` form."""
        parts = text.split(":") if isinstance(text, str) else []
        if len(parts) != 4 or parts[0] != "blink":
            raise ProofError(f"anchor {text!r} is not blink:<chain>:<network>:<txid>")
        _, chain, network, txid = parts
        if chain not in CHAINS or network not in CHAINS[chain][1]:
            raise ProofError(f"anchor names an unknown chain or network: {chain}:{network}")
        _hex_bytes(txid, "anchor txid")
        return cls(chain, network, txid.lower())

    def __str__(self) -> str:
        return f"blink:{self.chain}:{self.network}:{self.txid}"


def _hex_bytes(text: Any, what: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except (TypeError, ValueError):
        raise ProofError(f"{what} is not hex") from None


def _wrap(hex_text: str, what: str) -> bytes:
    return cbor2.dumps(_hex_bytes(hex_text, what))


def _unwrap(value: Any, what: str) -> str:
    if not isinstance(value, bytes):
        raise ProofError(f"{what} is not a CBOR byte string")
    try:
        inner = cbor2.loads(value)
    except (cbor2.CBORDecodeError, ValueError, TypeError) as exc:
        raise ProofError(f"{what} is not CBOR: {exc}") from None
    if not isinstance(inner, bytes):
        raise ProofError(f"{what} does not hold bytes")
    return inner.hex()


def encode_receipt(receipt: dict[str, Any]) -> str:
    """The `proofValue` of a receipt {path, merkleRoot, targetHash, anchors}, keys in its order."""
    pairs: list[list[Any]] = []
    for key, value in receipt.items():
        if key not in ROOT_KEYS:
            raise ProofError(f"a merkle-proof-2019 receipt has no {key!r}")
        if key == "path":
            mapped: Any = [
                [PATH_KEYS[side], _wrap(h, "path hash")]
                for step in value
                for side, h in step.items()
            ]
        elif key == "anchors":
            mapped = []
            for text in value:
                anchor = Anchor.parse(text)
                chain_id, networks = CHAINS[anchor.chain]
                mapped.append(
                    [[0, chain_id], [1, networks[anchor.network]], [2, _wrap(anchor.txid, "txid")]]
                )
        else:
            mapped = _wrap(value, key)
        pairs.append([ROOT_KEYS[key], mapped])
    return encode_base58btc(cbor2.dumps(pairs))


def decode_receipt(proof_value: object) -> dict[str, Any]:
    """The receipt a merkle-proof-2019 `proofValue` encodes (`ProofError` if it is malformed)."""
    raw = decode_base58btc(proof_value, "merkle-proof-2019 proofValue")
    try:
        pairs = cbor2.loads(raw)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise ProofError(f"merkle-proof-2019 proofValue is not CBOR: {exc}") from None
    names = {v: k for k, v in ROOT_KEYS.items()}
    chains = {cid: (name, {v: k for k, v in nets.items()}) for name, (cid, nets) in CHAINS.items()}
    receipt: dict[str, Any] = {}
    try:
        for key, value in pairs:
            name = names[key]
            if name == "path":
                sides = {v: k for k, v in PATH_KEYS.items()}
                receipt[name] = [{sides[s]: _unwrap(h, "path hash")} for s, h in value]
            elif name == "anchors":
                anchors = []
                for (k0, chain_id), (k1, network_id), (k2, txid) in value:
                    if (k0, k1, k2) != (0, 1, 2):
                        raise ProofError("an anchor is [[0, chain], [1, network], [2, txid]]")
                    chain, networks = chains[chain_id]
                    anchors.append(f"blink:{chain}:{networks[network_id]}:{_unwrap(txid, 'txid')}")
                receipt[name] = anchors
            else:
                receipt[name] = _unwrap(value, name)
    except ProofError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofError(
            f"merkle-proof-2019 proofValue has an unexpected structure: {exc}"
        ) from None
    missing = [k for k in ROOT_KEYS if k not in receipt]
    if missing:
        raise ProofError(f"merkle-proof-2019 receipt lacks {', '.join(missing)}")
    return receipt


def anchor_proof(receipt: dict[str, Any], verification_method: str, created: str) -> dict[str, Any]:
    """The DataIntegrityProof carrying a receipt."""
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "proofPurpose": "assertionMethod",
        "verificationMethod": verification_method,
        "proofValue": encode_receipt(receipt),
    }
