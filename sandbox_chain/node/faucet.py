"""The faucet: sandbox coins for learners, paid from a key the node owns, rate-limited.

The key lives in the data directory (`faucet.wif`, mode 0600, created on first start). Its
coins are coinbase outputs the node mined to it; on regtest an empty faucet refills itself by
mining `coinbase_maturity + 1` blocks (a classroom node must be mined to it by someone).
Payments may spend the faucet's own unconfirmed change, so many learners can be paid within
one block. Each address is paid at most once per `faucet_interval` seconds; the last payment per
address is kept in `faucet.sqlite` so a restart does not reset the limit.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from pathlib import Path

from ..chainstate import Chain
from ..errors import ValidationError
from ..keys import PrivateKey
from ..params import COIN
from ..script import p2pkh_script
from ..wallet import Coin as WalletCoin
from ..wallet import WalletError, build_transaction, chain_coins, write_file_atomic
from .chainaccess import ChainAccess
from .mining import mine_one
from .rpc.dispatch import (
    RPC_INVALID_PARAMETER,
    RPC_MISC_ERROR,
    RPC_VERIFY_REJECTED,
    RPC_WALLET_INSUFFICIENT_FUNDS,
    RPCError,
)
from .rpc.util import output_script

KEY_NAME = "faucet.wif"
DB_NAME = "faucet.sqlite"
MAX_PAYMENT = 100 * COIN
FAUCET_FEE_RATE = 2  # satoshis per byte: above the 1 sat/B relay minimum


class FaucetError(Exception):
    """A payment the faucet refuses; `code` is the JSON-RPC error code to answer with."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class Faucet:
    """Pays sandbox coins from the node's faucet key."""

    def __init__(self, node: ChainAccess) -> None:
        self.node = node
        self.lock = threading.Lock()
        self.key: PrivateKey | None = None
        self.db: sqlite3.Connection | None = None

    def _key(self) -> PrivateKey:
        if self.key is None:
            raise FaucetError(RPC_MISC_ERROR, "the faucet is not open")
        return self.key

    @property
    def script(self) -> bytes:
        """The faucet's P2PKH scriptPubKey."""
        return p2pkh_script(self._key().public_key().hash160())

    @property
    def address(self) -> str:
        """The faucet's address (mine to it to refill a classroom faucet)."""
        return self._key().public_key().address(self.node.params)

    def open(self) -> None:
        """Load (or create) the key and the rate-limit table."""
        datadir = Path(self.node.datadir)
        key_path = datadir / KEY_NAME
        if key_path.exists():
            self.key = PrivateKey.from_wif(key_path.read_text().strip())
        else:
            self.key = PrivateKey.from_int(secrets.randbelow(2**255) + 1)
            write_file_atomic(key_path, self.key.to_wif(network=self.node.params).encode())
        self.db = sqlite3.connect(datadir / DB_NAME, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS payouts (address TEXT PRIMARY KEY, paid_at REAL, txid TEXT)"
        )

    def close(self) -> None:
        """Close the rate-limit database."""
        if self.db is not None:
            self.db.close()
            self.db = None

    def _spendable(self, chain: Chain) -> list[WalletCoin]:
        """Mature confirmed coins and unconfirmed change, minus what the mempool spends."""
        return chain_coins(chain, [self.script], unconfirmed=True)[0]

    def balance(self) -> int:
        """Satoshis the faucet can spend now."""
        return sum(c.value for c in self.node.chain_call(self._spendable))

    def pay(self, address: str, amount: int | None = None) -> tuple[bytes, int]:
        """Pay `amount` satoshis (default: the node's setting) to `address`; return (txid, amount).

        Raises `FaucetError` for a bad address or amount, a rate-limited address, or an empty
        faucet on a network where it cannot refill itself.
        """
        params = self.node.params
        value = self.node.config.faucet_amount if amount is None else amount
        try:  # an address, or the raw(HEX) descriptor of a script without one (bare multisig)
            target = output_script(address, params)
        except RPCError as err:
            raise FaucetError(err.code, err.message) from None
        if not 0 < value <= MAX_PAYMENT:
            raise FaucetError(
                RPC_INVALID_PARAMETER, f"amount must be between 0 and {MAX_PAYMENT // COIN} coins"
            )
        with self.lock:
            if self.db is None:
                raise FaucetError(RPC_MISC_ERROR, "the faucet is not open")
            row = self.db.execute(
                "SELECT paid_at FROM payouts WHERE address=?", (address,)
            ).fetchone()
            interval = self.node.config.faucet_interval
            if row is not None and time.time() - row[0] < interval:
                wait = int(interval - (time.time() - row[0])) + 1
                raise FaucetError(
                    RPC_MISC_ERROR,
                    f"faucet: {address} was paid recently; try again in {wait} s",
                )
            tx = None
            for attempt in range(2):  # on regtest: refill once, then try again
                coins = self.node.chain_call(self._spendable)
                try:
                    tx = build_transaction(
                        coins, [(target, value)], self.script, FAUCET_FEE_RATE, [self._key()]
                    )
                    break
                except WalletError as exc:
                    if attempt == 0 and params.name == "regtest":
                        for _ in range(params.coinbase_maturity + 1):
                            mine_one(self.node, self.script)
                        continue
                    raise FaucetError(
                        RPC_WALLET_INSUFFICIENT_FUNDS,
                        f"faucet is empty ({exc}); mine blocks to {self.address} to refill it",
                    ) from None
            if tx is None:
                raise FaucetError(RPC_WALLET_INSUFFICIENT_FUNDS, "faucet is empty")
            try:
                txid = self.node.accept_tx(tx)
            except ValidationError as err:
                raise FaucetError(RPC_VERIFY_REJECTED, f"faucet payment rejected: {err}") from None
            self.db.execute(
                "INSERT OR REPLACE INTO payouts VALUES (?, ?, ?)",
                (address, time.time(), txid[::-1].hex()),
            )
            return txid, value
