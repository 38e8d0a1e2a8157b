"""A learner in Chromium: search a txid in the explorer, follow a field's link to the course
module that explains it, then press the faucet button of their own wallet (twice).

Real pieces only: a node process on a random loopback port, the portal served by Werkzeug on
another, Debian's Chromium driven by Playwright. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.network, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL, PASSWORD = "lea@lune.test", "correct horse battery"


@pytest.fixture
def node(tmp_path):
    from sandbox_chain.node.devnet import Devnet

    net = Devnet(tmp_path / "net", nodes=1)
    (n,) = net.start()
    yield n
    net.stop()


@pytest.fixture
def portal(tmp_path, node):
    """The portal (fresh database, lune-101 synced) served on a free loopback port."""
    from werkzeug.serving import make_server

    from web import create_app
    from web.commands import upgrade_database
    from web.extensions import db
    from web.services import accounts
    from web.services.catalog import sync_courses

    instance = tmp_path / "instance"
    instance.mkdir()
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "browser-test-secret",
            "DATABASE_URL": f"sqlite:///{instance / 'portal.db'}",
            "COURSES_DIR": str(ROOT / "courses"),
            "REDIS_URL": None,
            "NODE_DATADIR": str(node.datadir),
        }
    )
    upgrade_database(app)
    with app.app_context():
        sync_courses(ROOT / "courses")
        accounts.create_user(EMAIL, "Léa Learner", PASSWORD)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is needed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"explorer-{name}.png"), full_page=True)


def test_learner_searches_a_txid_follows_a_field_link_and_uses_the_faucet(portal, node, page):
    from sandbox_chain.keys import PrivateKey
    from sandbox_chain.params import REGTEST

    rpc = node.client()
    someone = PrivateKey.from_int(0xC0FFEE).public_key().address(REGTEST)
    txid = rpc.call("faucet", someone)["txid"]
    rpc.call("generatetoaddress", 1, someone)

    page.goto(f"{portal}/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{portal}/explorer/")
    assert page.locator("h1").inner_text() == "Block explorer"
    _shot(page, "1-home")

    page.fill("#explorer-q", txid)
    page.click("form.explorer-search button")
    page.wait_for_url(re.compile(f"/explorer/tx/{txid}$"))
    assert page.locator("#txid").inner_text() == txid
    fee = rpc.call("getrawtransaction", txid, 2)["fee"]
    assert page.locator("#fee").inner_text() == f"{fee:.8f}"
    assert page.locator(".tok-signature").first.is_visible()
    _shot(page, "2-transaction")

    # The "Fee" label is a link to the module that explains fees.
    page.locator("table.fields th a.field-link", has_text="Fee").first.click()
    page.wait_for_url(re.compile("/learn/lune-101/06-transactions-utxo$"))
    assert "Transactions and the UTXO model" in page.locator("h1").first.inner_text()
    _shot(page, "3-module-from-field-link")

    page.goto(f"{portal}/wallet/")
    address = page.locator("#my-address").inner_text()
    page.click("#faucet-button")
    page.wait_for_url(re.compile("/wallet/$"))
    assert "The faucet sent you 10.00000000 coins" in page.locator(".flash.success").inner_text()
    assert page.locator("#pending").inner_text() == "+10.00000000"
    _shot(page, "4-wallet-paid")
    pending = rpc.call("getrawmempool")
    assert len(pending) == 1
    paid = rpc.call("getrawtransaction", pending[0], 1)
    assert address in [o["scriptPubKey"].get("address") for o in paid["vout"]]

    # A second press within the hour: the node's per-address limit, said in the page.
    response = page.request.get(f"{portal}/wallet/")
    assert response.status == 200
    page.click("#faucet-button")
    assert "try again in" in page.locator(".flash.error").inner_text()
    _shot(page, "5-wallet-limited")
    assert rpc.call("getrawmempool") == pending  # nothing more was paid
    rpc.close()
