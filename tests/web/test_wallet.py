"""Learners' sandbox wallets: the portal seed, per-learner addresses, the faucet (real node)."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path

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


# --- the wallet pages in the portal -------------------------------------------------------------
#
# These tests hold no application context between requests: Flask reuses a context that is
# already pushed, and with it `g`, where Flask-WTF caches the CSRF token of the first request.


@pytest.fixture(scope="module")
def devnode(tmp_path_factory):
    net = Devnet(tmp_path_factory.mktemp("wallet-node"), nodes=1)
    (node,) = net.start()
    yield node
    net.stop()


def _portal(app_factory, **config):
    """(app, client, sign_in): `sign_in(email)` creates a learner, signs in, returns its id."""
    from portalkit import Auth

    app = app_factory(**config)
    client = app.test_client()
    auth = Auth(app, client)

    def sign_in(email: str) -> int:
        with app.app_context():
            user_id = auth.user(email).id
        auth.login(email)
        return user_id

    return app, client, sign_in


@pytest.fixture
def portal(app_factory, devnode):
    """The portal reading the module's node, with a faucet limit of 2 presses per learner."""
    from web.extensions import db

    app, client, sign_in = _portal(
        app_factory, NODE_DATADIR=str(devnode.datadir), FAUCET_LIMIT="2 per hour"
    )
    yield app, client, sign_in
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _press(client):
    from portalkit import csrf_token

    return client.post("/wallet/faucet", data={"csrf_token": csrf_token(client, "/wallet/")})


@pytest.mark.network
def test_each_learner_sees_only_their_own_wallet(portal):
    app, client, sign_in = portal
    bob = sign_in("bob@lune.test")
    alice = sign_in("alice@lune.test")
    wallet = PortalWallet(app.instance_path)
    page = client.get("/wallet/").get_data(as_text=True)
    assert wallet.learner(alice).address in page
    assert wallet.learner(bob).address not in page
    assert f"m/44&#39;/1&#39;/0&#39;/0/{alice}" in page
    seed = Path(app.instance_path) / SEED_FILE
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600


@pytest.mark.network
def test_faucet_button_pays_then_both_limits_refuse(portal, devnode):
    app, client, sign_in = portal
    alice = sign_in("alice@lune.test")
    address = PortalWallet(app.instance_path).learner(alice).address
    paid = _press(client)
    assert paid.status_code == 303 and paid.headers["Location"].endswith("/wallet/")
    page = client.get("/wallet/").get_data(as_text=True)
    assert "The faucet sent you 10.00000000 coins" in page
    assert "+10.00000000" in page  # pending, until a block is mined
    # The node pays an address once an hour: the second press is refused with the wait.
    again = _press(client)
    assert again.status_code == 429
    assert "try again in 60 minutes" in again.get_data(as_text=True)
    assert 3500 < int(again.headers["Retry-After"]) <= 3601
    # The portal's own limit (2 per hour here) stops the third press before the node.
    assert _press(client).status_code == 429
    with NodeClient(NodeSettings(datadir=devnode.datadir)) as rpc:
        seen = rpc.rest(f"address/{address}")
    assert seen["utxos"] == [] and len(seen["mempool"]) == 1


@pytest.mark.network
def test_faucet_needs_a_signed_in_user_and_a_csrf_token(portal):
    app, client, sign_in = portal
    assert client.get("/wallet/").status_code == 302
    assert client.post("/wallet/faucet").status_code in (302, 400)
    sign_in("alice@lune.test")
    assert client.post("/wallet/faucet", data={}).status_code == 400


@pytest.mark.network
def test_wallet_page_with_the_node_down_still_shows_the_address(app_factory, tmp_path):
    app, client, sign_in = _portal(app_factory, NODE_DATADIR=str(tmp_path / "no-node"))
    user = sign_in("down@lune.test")
    response = client.get("/wallet/")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert PortalWallet(app.instance_path).learner(user).address in page
    assert "sandbox node is not answering" in page
    assert _press(client).status_code == 503


def test_a_damaged_seed_file_is_a_503_not_a_500(app_factory, tmp_path):
    app, client, sign_in = _portal(app_factory, NODE_DATADIR=str(tmp_path / "no-node"))
    (Path(app.instance_path) / SEED_FILE).write_text("{damaged")
    sign_in("alice@lune.test")
    response = client.get("/wallet/")
    assert response.status_code == 503
    assert "wallet is unavailable" in response.get_data(as_text=True)
