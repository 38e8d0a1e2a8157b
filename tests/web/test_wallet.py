"""Learners' sandbox wallets: the portal seed, per-learner addresses, the faucet (real node)."""

from __future__ import annotations

import json
import stat
from decimal import Decimal

import pytest

from sandbox_chain.node.devnet import Devnet
from sandbox_chain.wallet import Wallet, WalletError
from web.services.node import NodeClient, NodeSettings
from web.services.wallet import (
    SEED_FILE,
    FaucetRefused,
    PortalWallet,
    request_faucet,
    wallet_view,
)

# BIP-39's all-"abandon" mnemonic, the usual public test seed; its BIP-44 test-network
# receive addresses m/44'/1'/0'/0/0 and /1 are the published ones.
ABANDON = " ".join(["abandon"] * 11 + ["about"])
ABANDON_ADDRESSES = ["mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV", "mzpbWabUQm1w8ijuJnAof5eiSTep27deVH"]


def test_seed_is_created_once_with_mode_0600(tmp_path):
    instance = tmp_path / "instance"
    first = PortalWallet(instance).learner(7)
    seed = instance / SEED_FILE
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    assert json.loads(seed.read_text())["mnemonic"]
    # Another process (a fresh object) finds the same seed: the learner keeps their address.
    assert PortalWallet(instance).learner(7) == first
    assert first.path == "m/44'/1'/0'/0/7"
    assert not [p for p in instance.iterdir() if p.name != SEED_FILE]  # no temp file left


def test_a_concurrent_creation_never_replaces_the_first_seed(tmp_path):
    wallet = PortalWallet(tmp_path)
    wallet._create()
    kept = (tmp_path / SEED_FILE).read_text()
    wallet._create()  # another process losing the race: its seed is dropped, not written
    assert (tmp_path / SEED_FILE).read_text() == kept


def test_learners_get_distinct_addresses_on_the_bip44_path(tmp_path):
    Wallet.restore(ABANDON).save(tmp_path / SEED_FILE)
    wallet = PortalWallet(tmp_path)
    assert [wallet.learner(i).address for i in (0, 1)] == ABANDON_ADDRESSES
    addresses = {wallet.learner(i).address for i in range(20)}
    assert len(addresses) == 20
    for bad in (-1, 2**31):
        with pytest.raises(WalletError, match="learner index"):
            wallet.learner(bad)


def test_a_damaged_seed_file_is_a_wallet_error(tmp_path):
    (tmp_path / SEED_FILE).write_text("{not json")
    with pytest.raises(WalletError, match="not a readable wallet file"):
        PortalWallet(tmp_path).learner(1)


@pytest.mark.network
def test_faucet_pays_the_learner_once_then_the_node_limits_it(tmp_path):
    net = Devnet(tmp_path / "net", nodes=1)
    (node,) = net.start()
    try:
        with NodeClient(NodeSettings(datadir=node.datadir)) as client:
            wallet = PortalWallet(tmp_path / "instance")
            alice, bob = wallet.learner(1), wallet.learner(2)
            paid = request_faucet(client, alice)
            assert paid.amount == Decimal("10")
            view = wallet_view(client, alice)
            assert view.balance == 0 and [p.txid for p in view.pending] == [paid.txid]
            assert view.pending_delta == Decimal("10")
            # Bob's wallet shows nothing of Alice's payment.
            other = wallet_view(client, bob)
            assert other.pending == [] and other.history.total == 0
            with pytest.raises(FaucetRefused) as refused:
                request_faucet(client, alice)
            assert refused.value.status == 429
            assert 3500 < refused.value.retry_after <= 3601
            client.call("generatetoaddress", 1, bob.address)
            mined = wallet_view(client, alice)
            assert mined.balance == Decimal("10") and mined.history.items[0].txid == paid.txid
    finally:
        net.stop()
