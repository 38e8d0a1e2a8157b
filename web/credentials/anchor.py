"""Anchoring a batch: its Merkle root in an OP_RETURN output paid from the issuer's address.

As Blockcerts anchors on Bitcoin: one transaction per batch, spending coins of the issuer's
issuing address (P2PKH), with one OP_RETURN output holding exactly the 32-byte Merkle root and the
change back to the same address. Whoever verifies a certificate checks that the transaction's
inputs all spend from an address the issuer's profile lists, so nobody else can anchor in the
issuer's name. The raw transaction is kept with the batch, so it can be broadcast again if a
reorganisation drops it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox_chain.address import address_from_pubkey_hash
from sandbox_chain.keys import PrivateKey
from sandbox_chain.params import get_params
from sandbox_chain.script import classify, op_return_script, p2pkh_script
from sandbox_chain.sighash import sign_p2pkh_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut
from sandbox_chain.wallet import DUST_LIMIT, Coin, estimate_size

from .chainsource import Broadcaster
from .errors import AnchorError

OP_RETURN_SIZE = 8 + 1 + 2 + 32  # value, script length, OP_RETURN PUSH32, root
DEFAULT_FEE_RATE = 2  # satoshis per byte


@dataclass(frozen=True)
class AnchorTransaction:
    """A signed anchor transaction, ready to broadcast."""

    tx: Transaction
    root: bytes
    fee: int

    @property
    def txid(self) -> str:
        """Its txid as nodes show it."""
        return self.tx.txid_hex


def build_anchor(
    root: bytes, key: PrivateKey, coins: list[Coin], fee_rate: int = DEFAULT_FEE_RATE
) -> AnchorTransaction:
    """A transaction writing `root` in an OP_RETURN output, paid by `key`'s P2PKH coins."""
    if len(root) != 32:
        raise AnchorError("a Merkle root is 32 bytes")
    script = p2pkh_script(key.public_key().hash160())
    chosen: list[Coin] = []
    total = 0
    fee = 0
    for coin in sorted((c for c in coins if c.script_pubkey == script), key=lambda c: -c.value):
        chosen.append(coin)
        total += coin.value
        fee = math.ceil((estimate_size(len(chosen), 1) + OP_RETURN_SIZE) * fee_rate)
        if total >= fee + DUST_LIMIT:
            break
    else:
        raise AnchorError(
            f"the issuing address has {total} sat spendable, an anchor needs about "
            f"{max(fee, 500) + DUST_LIMIT} sat: fund it (`lune chain faucet ADDRESS`) "
            "and mine a block"
        )
    vout = [TxOut(0, op_return_script(root)), TxOut(total - fee, script)]
    tx = Transaction(
        version=2,
        vin=[TxIn(OutPoint(c.txid, c.vout), b"", 0xFFFFFFFF) for c in chosen],
        vout=vout,
        locktime=0,
    )
    for i, coin in enumerate(chosen):
        sign_p2pkh_input(tx, i, key, coin.script_pubkey)
    return AnchorTransaction(tx, root, fee)


def anchor_root(
    source: Broadcaster, root: bytes, key: PrivateKey, fee_rate: int = DEFAULT_FEE_RATE
) -> AnchorTransaction:
    """Build and broadcast the anchor of `root` on `source`."""
    script = p2pkh_script(key.public_key().hash160())
    built = build_anchor(root, key, source.coins(script), fee_rate)
    txid = source.broadcast(built.tx)
    if txid != built.txid:
        raise AnchorError(f"the node answered txid {txid}, expected {built.txid}")
    return built


def op_return_payloads(tx: Transaction) -> list[bytes]:
    """The data pushed by each OP_RETURN output of a transaction."""
    out: list[bytes] = []
    for txout in tx.vout:
        kind, pushes = classify(txout.script_pubkey)
        if kind == "nulldata" and isinstance(pushes, list):
            out.extend(bytes(p) for p in pushes)
    return out


def address_of_script(script_pubkey: bytes, network: str) -> str | None:
    """The P2PKH address a script pays, or None for any other script."""
    kind, data = classify(script_pubkey)
    if kind != "p2pkh" or not isinstance(data, bytes | bytearray):
        return None
    return address_from_pubkey_hash(bytes(data), get_params(network))
