"""The UTXO set: coins, layered views of them, and per-block undo data.

Follows Bitcoin Core `coins.h` (`Coin`, `CCoinsView`, `CCoinsViewCache`) and `undo.h`
(`CTxUndo`/`CBlockUndo`): connecting a block spends coins and records each spent coin, in
input order, as the block's undo data; disconnecting the block puts exactly those coins back.

A view is anything with `get_coin(key)`; a `CoinsViewCache` layers changes over a base view
without touching it, so a block (or a whole reorg) can be tried and then either flushed or
thrown away. Coins are keyed by `(txid, vout)` tuples: cheap to hash, unlike dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from .encoding import ByteReader, encode_varint
from .errors import ParseError, ValidationError

OutKey = tuple[bytes, int]  # (txid in internal byte order, output index)


@dataclass(frozen=True, slots=True)
class Coin:
    """One unspent output, with what validation needs to know about where it came from."""

    value: int  # satoshis
    script_pubkey: bytes
    height: int  # height of the block that created it
    is_coinbase: bool  # coinbase outputs must mature (COINBASE_MATURITY blocks) before spending

    def serialize(self) -> bytes:
        """value (8 LE) | height (4 LE) | coinbase (1) | CompactSize script."""
        return (
            self.value.to_bytes(8, "little", signed=True)
            + self.height.to_bytes(4, "little")
            + (b"\x01" if self.is_coinbase else b"\x00")
            + encode_varint(len(self.script_pubkey))
            + self.script_pubkey
        )

    @classmethod
    def read(cls, reader: ByteReader) -> Coin:
        """Read one serialized coin."""
        value = int.from_bytes(reader.read(8), "little", signed=True)
        height = reader.read_int(4)
        flag = reader.read(1)[0]
        if flag > 1:
            raise ParseError("coin flag must be 0 or 1")
        return cls(value, reader.read_var_bytes(), height, bool(flag))


class CoinsView(Protocol):
    """Anything that can look up a coin by outpoint."""

    def get_coin(self, key: OutKey) -> Coin | None:
        """The unspent coin at `key`, or None if it does not exist or is spent."""
        ...


class EmptyView:
    """A view with no coins (the base of an in-memory replay)."""

    def get_coin(self, key: OutKey) -> Coin | None:
        """Always None."""
        return None


class CoinsViewCache:
    """Changes (added and spent coins) layered over a base view.

    `changes` maps a key to its new coin, or to None when the coin was spent. Nothing reaches
    the base until the owner reads `changes` and writes them out (`flush_into` for an
    in-memory base, or SQL for the database).
    """

    __slots__ = ("base", "changes")

    def __init__(self, base: CoinsView) -> None:
        self.base = base
        self.changes: dict[OutKey, Coin | None] = {}

    def get_coin(self, key: OutKey) -> Coin | None:
        """The coin at `key` as seen through the pending changes."""
        if key in self.changes:
            return self.changes[key]
        return self.base.get_coin(key)

    def have_coin(self, key: OutKey) -> bool:
        """True if `key` is unspent in this view."""
        return self.get_coin(key) is not None

    def add_coin(self, key: OutKey, coin: Coin) -> None:
        """Create a coin (an output of a transaction being connected)."""
        self.changes[key] = coin

    def spend_coin(self, key: OutKey) -> Coin:
        """Spend the coin at `key` and return it (for undo data)."""
        coin = self.get_coin(key)
        if coin is None:
            raise ValidationError(
                "bad-txns-inputs-missingorspent", f"{key[0][::-1].hex()}:{key[1]}"
            )
        self.changes[key] = None
        return coin

    def flush_into(self, target: CoinsViewCache | MemoryCoins) -> None:
        """Apply these changes onto another in-memory view, then forget them."""
        for key, coin in self.changes.items():
            target.set(key, coin)
        self.changes = {}

    def set(self, key: OutKey, coin: Coin | None) -> None:
        """Record a change directly (used when flushing one cache into another)."""
        self.changes[key] = coin


class MemoryCoins:
    """A complete UTXO set held in a dict (replays, tests, the crash check)."""

    def __init__(self) -> None:
        self.coins: dict[OutKey, Coin] = {}

    def get_coin(self, key: OutKey) -> Coin | None:
        """The coin at `key`, or None."""
        return self.coins.get(key)

    def set(self, key: OutKey, coin: Coin | None) -> None:
        """Add (coin) or remove (None) an entry."""
        if coin is None:
            self.coins.pop(key, None)
        else:
            self.coins[key] = coin

    def __iter__(self) -> Iterator[tuple[OutKey, Coin]]:
        return iter(self.coins.items())

    def __len__(self) -> int:
        return len(self.coins)


def serialize_undo(spent: list[Coin]) -> bytes:
    """Undo data of one block: the coins its inputs spent, in block order."""
    return encode_varint(len(spent)) + b"".join(c.serialize() for c in spent)


def parse_undo(data: bytes) -> list[Coin]:
    """Inverse of `serialize_undo`."""
    reader = ByteReader(data)
    coins = [Coin.read(reader) for _ in range(reader.read_varint())]
    reader.expect_end("undo data")
    return coins
