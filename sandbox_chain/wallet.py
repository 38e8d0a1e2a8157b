"""A learner's HD wallet: BIP-39 mnemonic, BIP-32 keys on a BIP-44-like path, P2PKH payments.

Follows BIP-39 (mnemonic → seed), BIP-32 (seed → key tree) and BIP-44's path layout
`m/44'/1'/0'/change/index` with coin type 1 (every test network's coin type). Receiving
addresses are on branch 0, change on branch 1.

The wallet file (`wallet.json` in the learner's data directory) holds the mnemonic in clear
text: this is a sandbox for learning, never for real money. It is written atomically (temp file,
fsync, rename) with mode 0600, so a crash leaves the old or the new wallet, never half of one.

Balances and coins come from a node (`scantxoutset` over the wallet's addresses, as Core does
for descriptors), so the wallet keeps no chain state of its own. `build_transaction` — coin
selection, fee, change and signing — is a pure function, also used by the node's faucet.
Bare m-of-n multisig scripts (no address format exists for them: Bitcoin wraps them in P2SH,
which the sandbox does not have) are built by `multisig_output`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import bip39
from .address import decode_address
from .bip32 import master_key_from_seed
from .errors import ChainError
from .keys import PrivateKey, PublicKey
from .mempool import dust_threshold
from .params import COIN, NetworkParams, get_params
from .script import classify, multisig_script, p2pkh_script, push_data
from .sighash import sign_input, sign_p2pkh_input
from .transaction import OutPoint, Transaction, TxIn, TxOut

WALLET_NAME = "wallet.json"
WALLET_VERSION = 1
COIN_TYPE = 1  # BIP-44 coin type of every test network
GAP_LIMIT = 20  # BIP-44: addresses looked at past the last one handed out
# The mempool's dust rule (Core's GetDustThreshold) for a P2PKH output: 546 satoshis.
DUST_LIMIT = dust_threshold(p2pkh_script(bytes(20)))
MIN_FEE_RATE = 1  # satoshis per byte: Core's minimum relay fee
# Sizes of a P2PKH spend (Core's estimate with a 72-byte signature, compressed key).
TX_OVERHEAD = 10
P2PKH_INPUT_SIZE = 148
OUTPUT_SIZE = 34


class WalletError(ChainError):
    """The wallet cannot do what was asked (bad file, not enough coins, bad address...)."""


@dataclass(frozen=True)
class Coin:
    """An unspent output the wallet can spend."""

    txid: bytes  # internal byte order
    vout: int
    value: int  # satoshis
    script_pubkey: bytes


def estimate_size(n_inputs: int, n_outputs: int) -> int:
    """Bytes of a signed P2PKH transaction (upper estimate: signatures are 71 or 72 bytes)."""
    return TX_OVERHEAD + n_inputs * P2PKH_INPUT_SIZE + n_outputs * OUTPUT_SIZE


def build_transaction(
    coins: list[Coin],
    outputs: list[tuple[bytes, int]],
    change_script: bytes,
    fee_rate: int,
    keys: list[PrivateKey],
) -> Transaction:
    """Select coins, add change, and sign: a transaction ready for `sendrawtransaction`.

    `outputs` are (scriptPubKey, satoshis); `fee_rate` is satoshis per byte. Coins are taken
    largest first until they pay the outputs and the fee. Change below the dust limit is left
    to the miner instead of creating an output nobody would spend. Every coin must be P2PKH
    and locked to one of `keys`. Raises `WalletError` if the coins do not suffice.
    """
    if fee_rate < MIN_FEE_RATE:
        raise WalletError(f"fee rate must be at least {MIN_FEE_RATE} sat/B")
    if not outputs or any(v <= 0 for _, v in outputs):
        raise WalletError("a payment needs at least one output with a positive amount")
    by_hash = {}
    for key in keys:
        by_hash[p2pkh_script(key.public_key().hash160())] = key
    target = sum(v for _, v in outputs)
    chosen: list[Coin] = []
    total = 0
    for coin in sorted(coins, key=lambda c: c.value, reverse=True):
        if coin.script_pubkey not in by_hash:
            continue
        chosen.append(coin)
        total += coin.value
        fee = math.ceil(estimate_size(len(chosen), len(outputs) + 1) * fee_rate)
        if total >= target + fee:
            break
    else:
        fee = math.ceil(estimate_size(max(len(chosen), 1), len(outputs) + 1) * fee_rate)
        raise WalletError(
            f"insufficient funds: {total} sat spendable, {target + fee} sat needed "
            f"({target} + {fee} fee)"
        )
    vout = [TxOut(value, script) for script, value in outputs]
    change = total - target - fee
    if change >= dust_threshold(change_script):
        vout.append(TxOut(change, change_script))
    tx = Transaction(
        version=2,
        vin=[TxIn(OutPoint(c.txid, c.vout), b"", 0xFFFFFFFF) for c in chosen],
        vout=vout,
        locktime=0,
    )
    for i, coin in enumerate(chosen):
        sign_p2pkh_input(tx, i, by_hash[coin.script_pubkey], coin.script_pubkey)
    return tx


def multisig_output(m: int, pubkeys_hex: list[str]) -> dict[str, Any]:
    """A bare m-of-n multisig output script from SEC public keys (hex).

    Returns {"m": m, "n": n, "script": hex, "descriptor": "raw(hex)"}: the descriptor is what
    `generatetoaddress`, `generateblock` and `scantxoutset` accept on the node (which also
    reads and shows it as Core does, `multi(m,KEY,...)#checksum`).
    """
    pubs = []
    for text in pubkeys_hex:
        try:
            pubs.append(PublicKey.from_sec(bytes.fromhex(text)).sec())
        except (ValueError, ChainError) as exc:
            raise WalletError(f"not a public key: {text[:20]}…: {exc}") from None
    if not 1 <= m <= len(pubs) <= 3:
        raise WalletError("standard bare multisig is 1 <= m <= n <= 3 keys")
    script = multisig_script(m, pubs)
    return {"m": m, "n": len(pubs), "script": script.hex(), "descriptor": f"raw({script.hex()})"}


def sign_multisig_input(
    tx: Transaction, input_index: int, keys: list[PrivateKey], script_pubkey: bytes
) -> bytes:
    """Sign a bare multisig input in place with m of its keys: scriptSig `OP_0 <sig>...`.

    Signatures are put in the order of the public keys in the script, as OP_CHECKMULTISIG
    requires; the leading OP_0 feeds its historical off-by-one pop (BIP-147's NULLDUMMY).
    """
    kind, details = classify(script_pubkey)
    if kind != "multisig":
        raise WalletError(f"the spent output is {kind}, not multisig")
    m, pubs = details
    by_pub = {k.public_key().sec(True): k for k in keys} | {
        k.public_key().sec(False): k for k in keys
    }
    signers = [by_pub[p] for p in pubs if p in by_pub][:m]
    if len(signers) < m:
        raise WalletError(f"{m} of the script's keys are needed, {len(signers)} given")
    sigs = [sign_input(tx, input_index, k, script_pubkey) for k in signers]
    tx.vin[input_index].script_sig = b"\x00" + b"".join(push_data(sig) for sig in sigs)
    return tx.vin[input_index].script_sig


def write_file_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file so a crash leaves the old or the new content, never a mix.

    Temp file in the same directory, fsync, rename over the target, fsync the directory (the
    rename is only durable once the directory is). The node writes its cookie, faucet key and
    saved mempool with it too.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def write_wallet_file(path: Path, data: dict[str, Any]) -> None:
    """Write the wallet file atomically with mode 0600 (see `write_file_atomic`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomic(path, json.dumps(data, indent=2).encode())


def chain_coins(
    chain: Any, scripts: Iterable[bytes], *, unconfirmed: bool = False
) -> tuple[list[Coin], int]:
    """(spendable coins, immature satoshis) of `scripts` in an in-process `Chain`.

    Coinbase outputs younger than the maturity are immature, outputs a mempool transaction
    already spends are left out. With `unconfirmed`, outputs of mempool transactions paying
    `scripts` (one's own change, say) count as spendable too, as the node's faucet spends them.
    """
    wanted = dict.fromkeys(scripts)  # in the order given: coin selection stays deterministic
    maturity = chain.params.coinbase_maturity
    spenders = chain.mempool.spenders
    coins, immature = [], 0
    for script in wanted:
        for outpoint, coin in chain.utxos_for_script(script):
            if coin.is_coinbase and chain.height + 1 - coin.height < maturity:
                immature += coin.value
            elif (outpoint.txid, outpoint.vout) not in spenders:
                coins.append(Coin(outpoint.txid, outpoint.vout, coin.value, script))
    if unconfirmed:
        for txid in chain.mempool.txids():
            tx = chain.mempool.get(txid)
            for n, out in enumerate(tx.vout if tx else []):
                if out.script_pubkey in wanted and (txid, n) not in spenders:
                    coins.append(Coin(txid, n, out.value, out.script_pubkey))
    return coins, immature


def _is_chain(source: Any) -> bool:
    # Class attributes only: an RPC client answers any attribute name with a remote call.
    return callable(getattr(type(source), "utxos_for_script", None))


def account_path(network: str) -> str:
    """BIP-44-like account path: m/44'/1'/0' (coin type 1 on every sandbox network)."""
    return f"m/44'/{COIN_TYPE}'/0'"


@dataclass
class Wallet:
    """An HD wallet: the mnemonic (and optional passphrase), the network, and address counters.

    Keys: `m/44'/1'/0'/0/i` receive, `m/44'/1'/0'/1/i` change. The account key is derived once
    (hardened steps need the private key) and cached.
    """

    mnemonic: str
    network: str = "regtest"
    language: str = "english"
    passphrase: str = ""
    next_receive: int = 0
    next_change: int = 0
    _account: Any = field(default=None, repr=False, compare=False)
    _keys: dict[tuple[int, int], PrivateKey] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __repr__(self) -> str:  # never print the mnemonic by accident
        return f"Wallet(network={self.network!r}, next_receive={self.next_receive})"

    # --- creation and files ------------------------------------------------------------

    @classmethod
    def create(cls, language: str = "english", words: int = 12, network: str = "regtest") -> Wallet:
        """A new wallet with a fresh random mnemonic (BIP-39, from the OS's CSPRNG)."""
        if language not in bip39.LANGUAGES:
            raise WalletError(f"unknown word-list language {language!r}")
        try:
            mnemonic = bip39.generate_mnemonic(words, language)
        except ValueError as exc:
            raise WalletError(str(exc)) from None
        return cls(mnemonic=mnemonic, network=network, language=language)

    @classmethod
    def restore(cls, mnemonic: str, passphrase: str = "", network: str = "regtest") -> Wallet:
        """A wallet from an existing mnemonic; its words and checksum are checked."""
        mnemonic = " ".join(mnemonic.split())
        # Some words ("abandon", "animal", "badge"…) are on both the English and the French
        # list: the language is the one whose checksum holds, not the first holding every word.
        languages = [lang for lang in bip39.LANGUAGES if bip39.is_valid_mnemonic(mnemonic, lang)]
        if not languages:
            try:
                bip39.mnemonic_to_entropy(mnemonic)  # raises, naming the problem
            except ChainError as exc:
                raise WalletError(f"not a valid BIP-39 mnemonic: {exc}") from None
        return cls(mnemonic=mnemonic, network=network, language=languages[0], passphrase=passphrase)

    def to_json(self) -> dict[str, Any]:
        """What the wallet file holds."""
        return {
            "version": WALLET_VERSION,
            "network": self.network,
            "language": self.language,
            "mnemonic": self.mnemonic,
            "passphrase": self.passphrase,
            "account": account_path(self.network),
            "next_receive": self.next_receive,
            "next_change": self.next_change,
        }

    def save(self, path: Path) -> None:
        """Write the wallet file atomically, mode 0600."""
        write_wallet_file(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> Wallet:
        """Read a wallet file (WalletError if missing or damaged)."""
        try:
            data = json.loads(Path(path).read_text())
            if data.get("version") != WALLET_VERSION:
                raise WalletError(f"{path}: unsupported wallet version {data.get('version')!r}")
            return cls(
                mnemonic=str(data["mnemonic"]),
                network=str(data["network"]),
                language=str(data.get("language", "english")),
                passphrase=str(data.get("passphrase", "")),
                next_receive=int(data["next_receive"]),
                next_change=int(data["next_change"]),
            )
        except FileNotFoundError:
            raise WalletError(
                f"no wallet at {path}: create one with `lune chain wallet create`"
            ) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WalletError(f"{path} is not a readable wallet file: {exc}") from None

    # --- keys and addresses ------------------------------------------------------------

    @property
    def params(self) -> NetworkParams:
        """The network's parameters (address prefixes, coinbase maturity)."""
        return get_params(self.network)

    def key(self, branch: int, index: int) -> PrivateKey:
        """The private key at m/44'/1'/0'/branch/index."""
        cached = self._keys.get((branch, index))
        if cached is not None:
            return cached
        if self._account is None:
            seed = bip39.mnemonic_to_seed(self.mnemonic, self.passphrase)
            self._account = master_key_from_seed(seed, self.network).derive(
                account_path(self.network)
            )
        key = self._account.child(branch).child(index).private_key
        self._keys[(branch, index)] = key
        return key

    def address(self, branch: int, index: int) -> str:
        """The P2PKH address of a key of the wallet."""
        return self.key(branch, index).public_key().address(self.params)

    def new_address(self) -> str:
        """The next unused receiving address (save the wallet afterwards)."""
        address = self.address(0, self.next_receive)
        self.next_receive += 1
        return address

    def scan_keys(self) -> dict[bytes, PrivateKey]:
        """scriptPubKey → key for every address handed out, plus GAP_LIMIT beyond (BIP-44)."""
        out = {}
        for branch, used in ((0, self.next_receive), (1, self.next_change)):
            for index in range(used + GAP_LIMIT):
                key = self.key(branch, index)
                out[p2pkh_script(key.public_key().hash160())] = key
        return out

    # --- talking to a node ---------------------------------------------------------------

    def coins(self, rpc: Any) -> tuple[list[Coin], int, int]:
        """(spendable coins, immature satoshis, tip height) from a node's `scantxoutset`.

        `rpc` is any client with `.call(method, *params)` (e.g. `node.client.RPCClient`), or
        an in-process `chainstate.Chain` (a notebook without a node). Coinbase outputs younger
        than the maturity and outputs the mempool already spends are not spendable.
        """
        if _is_chain(rpc):
            return self._coins_from_chain(rpc)
        keys = self.scan_keys()
        descriptors = [f"raw({script.hex()})" for script in keys]
        scan = rpc.call("scantxoutset", "start", descriptors)
        height = scan["height"]
        maturity = self.params.coinbase_maturity
        spendable, immature = [], 0
        for u in scan["unspents"]:
            value = int(round(Decimal(str(u["amount"])) * COIN))
            if u["coinbase"] and height + 1 - u["height"] < maturity:
                immature += value
                continue
            if rpc.call("gettxout", u["txid"], u["vout"], True) is None:
                continue  # spent by a transaction waiting in the mempool
            script = bytes.fromhex(u["scriptPubKey"])
            spendable.append(Coin(bytes.fromhex(u["txid"])[::-1], u["vout"], value, script))
        return spendable, immature, height

    def _coins_from_chain(self, chain: Any) -> tuple[list[Coin], int, int]:
        spendable, immature = chain_coins(chain, self.scan_keys())
        return spendable, immature, chain.height

    def balance(self, rpc: Any) -> dict[str, int]:
        """Satoshis: spendable now, and immature (coinbase outputs not yet 100 blocks deep)."""
        coins, immature, height = self.coins(rpc)
        return {"spendable": sum(c.value for c in coins), "immature": immature, "height": height}

    def send(self, rpc: Any, address: str, amount: int, fee_rate: int = 2) -> str:
        """Pay `amount` satoshis to `address`; change goes to a fresh change address.

        `rpc` is a node client or an in-process `Chain` (see `coins`). Returns the txid (as the
        node shows it). Save the wallet afterwards (the change counter moved).
        """
        try:
            target = decode_address(address, self.params)
        except ChainError as exc:
            raise WalletError(f"invalid address {address!r}: {exc}") from None
        coins, _, _ = self.coins(rpc)
        keys = self.scan_keys()
        change_key = self.key(1, self.next_change)
        change_script = p2pkh_script(change_key.public_key().hash160())
        tx = build_transaction(
            coins, [(target, amount)], change_script, fee_rate, list(keys.values())
        )
        if _is_chain(rpc):
            try:
                txid = rpc.accept_to_mempool(tx)[::-1].hex()
            except ChainError as exc:
                raise WalletError(f"rejected: {exc}") from None
        else:
            txid = rpc.call("sendrawtransaction", tx.serialize().hex())
        if any(o.script_pubkey == change_script for o in tx.vout):
            self.next_change += 1
        return txid
