"""The block explorer's view-models: what its pages show, and which module explains each field.

Plain frozen dataclasses a template can show (amounts are `Decimal` coins, as the node writes
them), the decoding of a script's asm into words that say what they are, and `FIELD_MODULES`:
the course module that explains each field, which `FieldGuide` narrows to the modules a course
has. Nothing here talks to the node or imports Flask (`web.services.explorer` fills these in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")
COIN = Decimal(100_000_000)


def N_(msgid: str) -> str:
    """Mark an English message for the portal's catalog (Babel extracts `N_`) without
    translating it here: the portal translates it when it shows it."""
    return msgid


# The course module that explains each field the explorer shows (ids of courses/lune-101).
FIELD_MODULES: dict[str, str] = {
    "height": "00-onboarding",
    "hex": "00-onboarding",
    "blockhash": "02-blocks-pow",
    "prevhash": "02-blocks-pow",
    "version": "02-blocks-pow",
    "time": "02-blocks-pow",
    "mediantime": "07-nodes-consensus",
    "nonce": "02-blocks-pow",
    "bits": "02-blocks-pow",
    "target": "02-blocks-pow",
    "difficulty": "02-blocks-pow",
    "chainwork": "07-nodes-consensus",
    "confirmations": "07-nodes-consensus",
    "chaintip": "07-nodes-consensus",
    "merkleroot": "03-merkle",
    "blocktxs": "03-merkle",
    "signature": "04-keys-signatures",
    "pubkey": "04-keys-signatures",
    "address": "05-addresses",
    "pubkeyhash": "05-addresses",
    "txid": "06-transactions-utxo",
    "locktime": "06-transactions-utxo",
    "size": "06-transactions-utxo",
    "input": "06-transactions-utxo",
    "output": "06-transactions-utxo",
    "coinbase": "06-transactions-utxo",
    "sequence": "06-transactions-utxo",
    "value": "06-transactions-utxo",
    "fee": "06-transactions-utxo",
    "feerate": "08-wallets",
    "scriptsig": "06-transactions-utxo",
    "scriptpubkey": "06-transactions-utxo",
    "sighash": "06-transactions-utxo",
    "opcode": "06-transactions-utxo",
    "utxo": "06-transactions-utxo",
    "mempool": "06-transactions-utxo",
    "balance": "06-transactions-utxo",
    "derivationpath": "08-wallets",
}


# --- field → module links -------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleRef:
    """A course module a field links to."""

    course_id: str
    module_id: str
    title: str


class FieldGuide:
    """Which module of one course explains each field (fields whose module it lacks: none)."""

    def __init__(self, course_id: str, modules: dict[str, str]) -> None:
        """`modules`: module id → title, the course's modules (from its course.toml)."""
        self.course_id = course_id
        self._refs = {
            name: ModuleRef(course_id, module_id, modules[module_id])
            for name, module_id in FIELD_MODULES.items()
            if module_id in modules
        }

    def module(self, field_name: str) -> ModuleRef | None:
        """The module explaining `field_name`, or None (unknown field or module not in course)."""
        return self._refs.get(field_name)


# --- view-models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list."""

    items: list[T]
    number: int  # 1-based
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the whole list has (at least 1)."""
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class Target:
    """What a search resolved to: `kind` is "block", "tx" or "address"."""

    kind: str
    key: str


@dataclass(frozen=True)
class BlockSummary:
    """One line of a list of blocks."""

    height: int
    hash: str
    time: int
    n_tx: int
    size: int


@dataclass(frozen=True)
class ChainTip:
    """One leaf of the block tree (Core's getchaintips)."""

    height: int
    hash: str
    branchlen: int
    status: str  # active, valid-fork, valid-headers, invalid


@dataclass(frozen=True)
class ChainSummary:
    """The explorer's home page: the chain now and its latest blocks."""

    network: str
    height: int
    best_hash: str
    difficulty: float
    chainwork: str
    mempool_size: int
    mempool_bytes: int
    tips: int
    recent: list[BlockSummary]


@dataclass(frozen=True)
class ScriptToken:
    """One word of a script's asm, with what it is (`kind` is also its FIELD_MODULES name)."""

    text: str
    kind: str  # opcode, signature, pubkey, pubkeyhash, number, data
    sighash: str | None = None  # for a signature: ALL, NONE|ANYONECANPAY, ...


@dataclass(frozen=True)
class Script:
    """A decoded script, as `decodescript` shows it (asm, type, address, descriptor)."""

    hex: str
    asm: str
    tokens: list[ScriptToken]
    type: str | None = None  # pubkeyhash, pubkey, multisig, nulldata, nonstandard
    address: str | None = None
    desc: str | None = None


@dataclass(frozen=True)
class TxInput:
    """One input: the output it spends, and the scriptSig that unlocks it."""

    index: int
    sequence: int
    coinbase: str | None = None  # the coinbase's data (hex), for a coinbase input
    prev_txid: str | None = None
    prev_vout: int | None = None
    script_sig: Script | None = None
    value: Decimal | None = None  # of the spent output, when known
    address: str | None = None
    prev_script: Script | None = None


@dataclass(frozen=True)
class TxOutput:
    """One output: value and locking script; `state` is unspent, spent, unspendable or None."""

    index: int
    value: Decimal
    script_pubkey: Script
    state: str | None


@dataclass(frozen=True)
class TxSummary:
    """One transaction in a block's or an address's list."""

    txid: str
    coinbase: bool
    n_in: int
    n_out: int
    total_out: Decimal
    fee: Decimal | None
    height: int | None = None
    delta: Decimal | None = None  # on an address page: what it gained (+) or spent (-)


@dataclass(frozen=True)
class BlockView:
    """A block page: header fields, and a page of its transactions."""

    hash: str
    height: int
    confirmations: int  # -1 off the active chain
    version: int
    merkleroot: str
    time: int
    mediantime: int
    nonce: int
    bits: str
    target: str  # 64 hex digits
    difficulty: float
    chainwork: str
    size: int
    n_tx: int
    previous: str | None
    next: str | None
    txs: Page[TxSummary]

    @property
    def active(self) -> bool:
        """On the active chain (a fork's block has confirmations -1)."""
        return self.confirmations >= 0


@dataclass(frozen=True)
class TxView:
    """A transaction page."""

    txid: str
    version: int
    size: int
    locktime: int
    coinbase: bool
    inputs: list[TxInput]
    outputs: list[TxOutput]
    total_out: Decimal
    total_in: Decimal | None
    fee: Decimal | None
    confirmations: int
    block_hash: str | None
    block_height: int | None
    block_time: int | None
    hex: str

    @property
    def in_mempool(self) -> bool:
        """Waiting to be mined."""
        return self.block_hash is None

    @property
    def fee_rate(self) -> Decimal | None:
        """Satoshis per byte, to two decimals."""
        if self.fee is None or not self.size:
            return None
        return (self.fee * COIN / self.size).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Utxo:
    """An unspent output of an address."""

    txid: str
    vout: int
    value: Decimal
    height: int
    coinbase: bool


@dataclass(frozen=True)
class AddressView:
    """An address page: balance, unspent outputs, history with amounts, pending transactions."""

    address: str
    script_pubkey: str
    balance: Decimal
    utxos: list[Utxo]
    history: Page[TxSummary]
    pending: list[TxSummary]
    pending_delta: Decimal = field(default=Decimal(0))


@dataclass(frozen=True)
class MempoolEntry:
    """One unconfirmed transaction."""

    txid: str
    size: int
    fee: Decimal
    time: int
    depends: int  # unconfirmed parents

    @property
    def fee_rate(self) -> Decimal:
        """Satoshis per byte, to two decimals."""
        return (self.fee * COIN / self.size).quantize(Decimal("0.01")) if self.size else Decimal(0)


@dataclass(frozen=True)
class MempoolView:
    """The mempool page."""

    size: int
    bytes: int
    total_fee: Decimal
    entries: Page[MempoolEntry]


# --- decoding helpers -----------------------------------------------------------------------


def script_tokens(asm: str) -> list[ScriptToken]:
    """Split an asm string (Core's `ScriptToAsmStr`, with `[ALL]` sighash suffixes) into words
    that say what each is: a signature, a public key, a public-key hash, an opcode, data."""
    words = asm.split() if asm else []
    out = []
    for i, word in enumerate(words):
        if word.startswith("OP_") or word == "[error]":
            out.append(ScriptToken(word, "opcode"))
            continue
        m = re.fullmatch(r"([0-9a-f]+)\[([A-Z|]+)\]", word)
        if m:
            out.append(ScriptToken(m.group(1), "signature", m.group(2)))
        elif re.fullmatch(r"-?[0-9]{1,10}", word):
            out.append(ScriptToken(word, "number"))
        elif (len(word) == 66 and word[:2] in ("02", "03")) or (
            len(word) == 130 and word[:2] == "04"
        ):
            out.append(ScriptToken(word, "pubkey"))
        elif len(word) == 40 and i > 0 and words[i - 1] == "OP_HASH160":
            out.append(ScriptToken(word, "pubkeyhash"))
        elif word.startswith("30") and 18 <= len(word) // 2 <= 73:
            out.append(ScriptToken(word, "signature"))  # DER without a known hash type
        else:
            out.append(ScriptToken(word, "data"))
    return out
