"""Each learner's sandbox wallet: an address derived for them, its balance and history, the faucet.

One portal wallet seed — a BIP-39 mnemonic in `sandbox_chain.wallet`'s file format, in the
instance folder (`portal-wallet.json`, mode 0600) — is created on first use. Learner number *i*
(the user's id) gets the BIP-32 key `m/44'/1'/0'/0/i` (BIP-44 layout, coin type 1 as on every
test network) and its P2PKH address: the same learner always gets the same address, two learners
never share one, and the seed never leaves the server (the page shows the address only).

Creating the seed is atomic across processes: the file is written aside, then hard-linked into
place, which fails if another process got there first (whose seed is then used).

The faucet asks the node's `faucet` RPC to pay the learner's address. The node keeps its own
per-address limit (`--faucet-interval`); its refusal becomes `FaucetRefused` with status 429 and
the seconds to wait, an empty faucet 503. Nothing here imports Flask.
"""

from __future__ import annotations

import math
import os
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox_chain.bip32 import format_path, parse_path
from sandbox_chain.wallet import Wallet, WalletError, account_path

from .explorer import Explorer
from .explorer_models import N_, AddressView
from .node import NodeClient, RPCError

SEED_FILE = "portal-wallet.json"
RECEIVE_BRANCH = 0
MAX_LEARNER_INDEX = 2**31 - 1  # a normal (non-hardened) BIP-32 index
RPC_WALLET_INSUFFICIENT_FUNDS = -6  # the node's "faucet is empty"
RPC_FORBIDDEN = -34  # the node's faucet rate limit (older nodes answered -1)
_WAIT = re.compile(r"try again in ([0-9]+) s")

_create_lock = threading.Lock()


class FaucetRefused(Exception):
    """The faucet did not pay: `status` is the HTTP status, `retry_after` seconds if limited."""

    def __init__(self, status: int, msgid: str, retry_after: int | None = None, **params: Any):
        self.status = status
        self.msgid = msgid  # English, with %(name)s placeholders (the catalog's id)
        self.params = params
        self.retry_after = retry_after
        super().__init__(msgid % params)


@dataclass(frozen=True)
class LearnerWallet:
    """A learner's sandbox key: where it sits in the portal's tree, and its address."""

    index: int
    path: str
    address: str


@dataclass(frozen=True)
class FaucetPayment:
    """What the faucet paid."""

    txid: str
    amount: Decimal


class PortalWallet:
    """The portal's HD wallet: one seed in the instance folder, one address per learner."""

    def __init__(self, instance_dir: str | Path, network: str = "regtest") -> None:
        self.path = Path(instance_dir) / SEED_FILE
        self.network = network
        self._wallet: Wallet | None = None

    def wallet(self) -> Wallet:
        """The seed's wallet, created (0600, atomically) the first time it is needed."""
        if self._wallet is None:
            with _create_lock:
                if self._wallet is None:
                    self._wallet = self._load_or_create()
        return self._wallet

    def _load_or_create(self) -> Wallet:
        try:
            if not self.path.exists():
                self._create()
        except OSError as exc:
            raise WalletError(f"cannot create the portal wallet seed {self.path}: {exc}") from None
        return Wallet.load(self.path)

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = Wallet.create(network=self.network)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fresh.save(tmp)  # mode 0600, fsynced
        try:
            os.link(tmp, self.path)  # fails if another process created the seed meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def learner(self, index: int) -> LearnerWallet:
        """The key and address of learner number `index` (their user id)."""
        if not 0 <= index <= MAX_LEARNER_INDEX:
            raise WalletError(f"a learner index is 0 to {MAX_LEARNER_INDEX}, not {index}")
        wallet = self.wallet()
        path = format_path(parse_path(f"{account_path(wallet.network)}/{RECEIVE_BRANCH}/{index}"))
        return LearnerWallet(index, path, wallet.address(RECEIVE_BRANCH, index))


def wallet_view(node: NodeClient, learner: LearnerWallet, page: int = 1) -> AddressView:
    """Balance, unspent outputs, history (with amounts) and pending payments of the address."""
    return Explorer(node).address(learner.address, page)


def request_faucet(node: NodeClient, learner: LearnerWallet) -> FaucetPayment:
    """Ask the node's faucet to pay the learner's address (its default amount)."""
    try:
        paid = node.call("faucet", learner.address)
    except RPCError as err:
        wait = _WAIT.search(err.message)
        if err.code == RPC_FORBIDDEN or wait:
            seconds = int(wait.group(1)) if wait else None
            if seconds is None:
                raise FaucetRefused(
                    429, N_("The faucet paid this address recently; try again later.")
                ) from None
            if seconds < 120:
                raise FaucetRefused(
                    429,
                    N_("The faucet paid this address recently; try again in %(seconds)s seconds."),
                    retry_after=seconds,
                    seconds=seconds,
                ) from None
            raise FaucetRefused(
                429,
                N_("The faucet paid this address recently; try again in %(minutes)s minutes."),
                retry_after=seconds,
                minutes=math.ceil(seconds / 60),
            ) from None
        if err.code == RPC_WALLET_INSUFFICIENT_FUNDS:
            raise FaucetRefused(
                503, N_("The faucet is empty for now; ask your instructor to refill it.")
            ) from None
        raise FaucetRefused(400, N_("The faucet refused: %(reason)s"), reason=err.message) from None
    return FaucetPayment(str(paid["txid"]), Decimal(str(paid["amount"])))
