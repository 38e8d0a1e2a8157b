"""The explorer's service layer against a real node on a random loopback port."""

from __future__ import annotations

import itertools
import socket
from decimal import Decimal

import pytest

from grader.course.config import load_course
from sandbox_chain.keys import PrivateKey
from sandbox_chain.node.devnet import Devnet
from sandbox_chain.params import REGTEST
from web.services.explorer import BadQuery, Explorer, NotFound, page_number
from web.services.explorer_models import FIELD_MODULES, FieldGuide, Target, script_tokens
from web.services.node import NodeClient, NodeSettings, NodeUnavailable

pytestmark = pytest.mark.network

# Bitcoin's regtest genesis block (chainparams.cpp, CRegTestParams): public constants.
GENESIS_HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
GENESIS_MERKLE = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
MINER = PrivateKey.from_int(0xB10C).public_key().address(REGTEST)


_fresh = itertools.count(0xE0E0)


def _address() -> str:
    """A new address for each payment (the node's faucet pays an address once an hour)."""
    return PrivateKey.from_int(next(_fresh)).public_key().address(REGTEST)


@pytest.fixture(scope="module")
def devnode(tmp_path_factory):
    """One real node process (regtest, free ports on 127.0.0.1) for the module."""
    net = Devnet(tmp_path_factory.mktemp("explorer-node"), nodes=1)
    (node,) = net.start()
    yield node
    net.stop()


@pytest.fixture
def rpc(devnode):
    """A node client for the module's node."""
    with NodeClient(NodeSettings(datadir=devnode.datadir)) as c:
        yield c


@pytest.fixture
def explorer(rpc):
    return Explorer(rpc)


@pytest.fixture
def payment(rpc):
    """A faucet payment to a fresh address, still in the mempool: (txid, address)."""
    address = _address()
    paid = rpc.call("faucet", address)
    return paid["txid"], address


# --- search -----------------------------------------------------------------------------------


def test_search_resolves_height_hash_txid_and_address(explorer, payment):
    txid, address = payment
    assert explorer.search("0").key == GENESIS_HASH
    assert explorer.search(f"  {GENESIS_HASH.upper()} ").kind == "block"
    assert explorer.search(txid).kind == "tx"
    assert explorer.search(txid).key == txid
    assert (explorer.search(address).kind, explorer.search(address).key) == ("address", address)


@pytest.mark.parametrize(
    ("query", "error", "says"),
    [
        ("", BadQuery, "Type a block height"),
        ("   ", BadQuery, "Type a block height"),
        ("x" * 500, BadQuery, "too long"),
        ("hello world", BadQuery, "is not a block height"),
        ("12ab", BadQuery, "is not a block height"),
        ("-1", BadQuery, "is not a block height"),
        ("99999999", NotFound, "No block at height 99999999"),
        ("0" * 64, NotFound, "No block or transaction has the hash"),
        # A mainnet address: well formed, wrong network; the reason names the version byte.
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", BadQuery, "version byte 0x00"),
        ("mu4XDBd7nbZmAbHxYn5MNtCSnbhAnpZbyZ", BadQuery, "not an address of this network"),
    ],
)
def test_bad_searches_say_what_is_wrong(explorer, query, error, says):
    with pytest.raises(error) as got:
        explorer.search(query)
    assert says in str(got.value)
    assert got.value.status == (404 if error is NotFound else 400)


# --- pages ------------------------------------------------------------------------------------


def test_genesis_block_page_shows_bitcoins_regtest_genesis(explorer):
    block = explorer.block(GENESIS_HASH)
    assert (block.height, block.merkleroot, block.nonce, block.bits, block.time) == (
        0,
        GENESIS_MERKLE,
        2,
        "207fffff",
        1296688602,
    )
    assert block.target == "7fffff" + "0" * 58  # compact bits 0x207fffff, expanded
    assert block.previous is None and block.active
    assert [t.txid for t in block.txs.items] == [GENESIS_MERKLE]  # one transaction: its root
    assert block.txs.items[0].coinbase and block.txs.items[0].fee is None


def test_unknown_or_malformed_block_hash(explorer):
    with pytest.raises(NotFound):
        explorer.block("ab" * 32)
    with pytest.raises(BadQuery, match="64 hexadecimal digits"):
        explorer.block("not-a-hash")


def test_mempool_transaction_then_mined(explorer, rpc, payment):
    txid, address = payment
    tx = explorer.transaction(txid)
    assert tx.in_mempool and tx.confirmations == 0 and tx.block_height is None
    (vin,) = tx.inputs
    # The input spends one of the faucet's coinbase outputs: its value and address are shown.
    assert vin.value == Decimal("50") and vin.address and vin.prev_script.type == "pubkeyhash"
    kinds = [(t.kind, t.sighash) for t in vin.script_sig.tokens]
    assert kinds == [("signature", "ALL"), ("pubkey", None)]
    paid = [o for o in tx.outputs if o.script_pubkey.address == address]
    assert [o.value for o in paid] == [Decimal("10")] and paid[0].state == "unspent"
    assert [t.kind for t in paid[0].script_pubkey.tokens] == [
        "opcode",
        "opcode",
        "pubkeyhash",
        "opcode",
        "opcode",
    ]
    # The fee is what the inputs bring minus what the outputs take, and the node agrees.
    assert tx.fee == tx.total_in - tx.total_out > 0
    assert tx.fee == rpc.call("getmempoolentry", txid)["fees"]["base"]
    assert tx.fee_rate == (tx.fee * 100_000_000 / tx.size).quantize(Decimal("0.01"))

    assert txid in [e.txid for e in explorer.mempool().entries.items]
    block_hash = rpc.call("generatetoaddress", 1, MINER)[0]
    mined = explorer.transaction(txid)
    assert (mined.block_hash, mined.confirmations) == (block_hash, 1)
    assert mined.block_height == rpc.call("getblockcount")
    assert mined.fee == tx.fee
    assert txid not in [e.txid for e in explorer.mempool().entries.items]
    block = explorer.block(block_hash)
    assert txid in [t.txid for t in block.txs.items]
    assert [t.fee for t in block.txs.items if t.txid == txid] == [tx.fee]
    # The faucet's coin it spent is gone from the UTXO set; the spending side shows "spent".
    parent = explorer.transaction(vin.prev_txid)
    assert parent.coinbase and parent.outputs[vin.prev_vout].state == "spent"


def test_address_history_with_amounts_pending_then_confirmed(explorer, rpc, payment):
    txid, address = payment
    before = explorer.address(address)
    assert before.balance == 0 and before.history.total == 0
    assert [(p.txid, p.delta) for p in before.pending] == [(txid, Decimal("10"))]
    assert before.pending_delta == Decimal("10") and before.pending[0].fee > 0
    rpc.call("generatetoaddress", 1, MINER)
    after = explorer.address(address)
    assert after.balance == Decimal("10") and not after.pending
    assert [(h.txid, h.delta, h.height) for h in after.history.items] == [
        (txid, Decimal("10"), rpc.call("getblockcount"))
    ]
    assert [(u.txid, u.value) for u in after.utxos] == [(txid, Decimal("10"))]


def test_bad_address_and_page_arguments(explorer):
    with pytest.raises(BadQuery, match="not an address of this network"):
        explorer.address("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")
    with pytest.raises(BadQuery, match="is not an address"):
        explorer.address("../../rest/chaininfo")
    with pytest.raises(NotFound, match="no page 2"):
        explorer.block(GENESIS_HASH, page=2)
    for bad in ("0", "abc", "-3", "1e3", "100001"):
        with pytest.raises(BadQuery, match="page number must be a whole number"):
            page_number(bad)
    assert page_number(None) == 1 and page_number("7") == 7


def test_unknown_txid(explorer):
    with pytest.raises(NotFound, match="No transaction has the txid"):
        explorer.transaction("cd" * 32)
    # The genesis block lists its coinbase, which no node serves: the page says why.
    with pytest.raises(NotFound, match="genesis block's coinbase"):
        explorer.transaction(GENESIS_MERKLE)


def test_summary_and_tips(explorer, rpc):
    summary = explorer.summary()
    assert summary.network == "regtest" and summary.height == rpc.call("getblockcount")
    assert summary.recent[0].hash == summary.best_hash == rpc.call("getbestblockhash")
    assert [b.height for b in summary.recent] == list(
        range(summary.height, summary.height - len(summary.recent), -1)
    )
    (tip,) = explorer.tips()
    assert (tip.status, tip.hash, tip.branchlen) == ("active", summary.best_hash, 0)


def _competing_block(rpc) -> str:
    """Submit a block on the tip's parent (equal work): the node keeps its tip, so the new
    block is a valid fork. Built with the library, as a miner elsewhere would."""
    from sandbox_chain.block import Block, BlockHeader
    from sandbox_chain.encoding import hex_to_hash
    from sandbox_chain.miner import coinbase_transaction, solve_template
    from sandbox_chain.script import p2pkh_script
    from sandbox_chain.validation import block_subsidy

    tip = rpc.call("getblockheader", rpc.call("getbestblockhash"), True)
    script = p2pkh_script(PrivateKey.from_int(0xF0F0).public_key().hash160())
    coinbase = coinbase_transaction(
        tip["height"], script, block_subsidy(tip["height"], REGTEST), extranonce=0xF0F0
    )
    header = BlockHeader(
        version=0x20000000,
        prev_hash=hex_to_hash(tip["previousblockhash"]),
        merkle_root=coinbase.txid(),
        time=tip["time"] + 1,
        bits=int(tip["bits"], 16),
        nonce=0,
    )
    block = solve_template(Block(header, [coinbase]), REGTEST)
    # Core answers "inconclusive" for a valid block that does not become the tip.
    assert rpc.call("submitblock", block.serialize().hex()) == "inconclusive"
    return block.hash_hex


def test_a_fork_shows_in_the_tips_and_its_block_is_off_the_active_chain(explorer, rpc):
    rpc.call("generatetoaddress", 1, MINER)
    fork = _competing_block(rpc)
    tips = {t.hash: t for t in explorer.tips()}
    # As in Core: its blocks are stored but were never connected, hence never fully validated.
    assert (tips[fork].status, tips[fork].branchlen) == ("valid-headers", 1)
    block = explorer.block(fork)
    assert not block.active and block.confirmations == -1 and block.next is None
    assert explorer.search(fork) == Target("block", fork)


# --- scripts and field links -------------------------------------------------------------------


def test_script_tokens_name_each_word():
    multisig = "1 " + "02" + "ab" * 32 + " " + "04" + "cd" * 64 + " 2 OP_CHECKMULTISIG"
    assert [t.kind for t in script_tokens(multisig)] == [
        "number",
        "pubkey",
        "pubkey",
        "number",
        "opcode",
    ]
    assert [t.kind for t in script_tokens("OP_RETURN 6c756e65")] == ["opcode", "data"]
    sig = "3044" + "11" * 68 + "[NONE|ANYONECANPAY]"
    assert [(t.kind, t.sighash) for t in script_tokens(sig)] == [("signature", "NONE|ANYONECANPAY")]
    assert script_tokens("") == []


def test_every_field_links_to_a_module_of_lune_101():
    course = load_course("lune-101")
    guide = FieldGuide(course.id, {m.id: m.title for m in course.modules})
    unlinked = [name for name in FIELD_MODULES if guide.module(name) is None]
    assert not unlinked, f"fields whose module is not in lune-101: {unlinked}"
    ref = guide.module("merkleroot")
    assert (ref.course_id, ref.module_id) == ("lune-101", "03-merkle")
    assert guide.module("nonce").module_id == "02-blocks-pow"
    assert guide.module("signature").module_id == "04-keys-signatures"
    assert guide.module("address").module_id == "05-addresses"
    assert guide.module("fee").module_id == "06-transactions-utxo"
    # A course without some module: its fields are shown without a link, not a broken one.
    small = FieldGuide("tiny", {"03-merkle": "Merkle trees"})
    assert small.module("merkleroot").title == "Merkle trees" and small.module("nonce") is None


# --- reaching the node --------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_node_that_is_not_there_is_node_unavailable(tmp_path, devnode):
    with pytest.raises(NodeUnavailable, match="no running node found"):
        NodeClient(NodeSettings(datadir=tmp_path / "empty"))
    down = NodeSettings(url=f"http://127.0.0.1:{_closed_port()}/", user="u", password="p")
    with NodeClient(down) as c, pytest.raises(NodeUnavailable, match="does not answer"):
        c.call("getblockcount")
    with NodeClient(down) as c, pytest.raises(NodeUnavailable, match="does not answer"):
        c.rest("chaininfo")
    with NodeClient(down) as c, pytest.raises(NodeUnavailable):
        Explorer(c).search("0")


def test_wrong_credentials_are_node_unavailable(tmp_path, devnode):
    wrong = NodeSettings(url=devnode.rpc_url, user="__cookie__", password="not-the-cookie")
    with NodeClient(wrong) as c, pytest.raises(NodeUnavailable, match="refused our credentials"):
        c.call("getblockcount")
    cookie = tmp_path / "cookie"
    cookie.write_text("no colon here")
    with pytest.raises(NodeUnavailable, match="not user:password"):
        NodeClient(NodeSettings(url=devnode.rpc_url, cookie_file=cookie))
    # With the node's own cookie file named explicitly, it works.
    good = NodeSettings(url=devnode.rpc_url, cookie_file=devnode.datadir / ".cookie")
    with NodeClient(good) as c:
        assert c.call("getblockcount") >= 0


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"NODE_URL": "ftp://127.0.0.1/"}, "NODE_URL"),
        ({"NODE_URL": "127.0.0.1:18443"}, "NODE_URL"),
        ({"NODE_TIMEOUT": "soon"}, "NODE_TIMEOUT"),
        ({"NODE_TIMEOUT": "0"}, "NODE_TIMEOUT"),
    ],
)
def test_bad_node_settings_name_the_setting(config, says):
    with pytest.raises(NodeUnavailable, match=says):  # a 503 wherever the node is used
        NodeSettings.from_config(config)


def test_node_settings_from_config():
    s = NodeSettings.from_config(
        {"NODE_URL": "http://127.0.0.1:1/", "NODE_USER": "u", "NODE_PASSWORD": "p"}
    )
    assert s.endpoint() == ("http://127.0.0.1:1/", "u", "p")
    assert NodeSettings.from_config({}).datadir.as_posix() == ".lune/demo/chain"


# --- the explorer's pages in the portal ---------------------------------------------------------
#
# No application context is held between requests (Flask would reuse it, and its `g`).


@pytest.fixture
def portal(app_factory, devnode):
    """(app, client, auth) of a portal reading the module's node."""
    from portalkit import Auth

    from web.extensions import db

    app = app_factory(NODE_DATADIR=str(devnode.datadir))
    client = app.test_client()
    yield app, client, Auth(app, client)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(portal):
    return portal[1]


@pytest.fixture
def learner(portal):
    app, _, auth = portal
    with app.app_context():
        auth.user("learner@lune.test", "Léa Learner")
    auth.login("learner@lune.test")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/explorer/", "/explorer/search?q=0", f"/explorer/block/{GENESIS_HASH}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_search_redirects_to_the_page_and_fields_link_to_modules(client, learner, payment):
    txid, address = payment
    response = client.get("/explorer/search", query_string={"q": "0"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/explorer/block/{GENESIS_HASH}")
    assert (
        client.get(f"/explorer/search?q={txid}")
        .headers["Location"]
        .endswith(f"/explorer/tx/{txid}")
    )
    assert (
        client.get(f"/explorer/search?q={address}")
        .headers["Location"]
        .endswith(f"/explorer/address/{address}")
    )
    page = client.get(f"/explorer/block/{GENESIS_HASH}").get_data(as_text=True)
    assert GENESIS_MERKLE in page
    assert 'href="/learn/lune-101/03-merkle"' in page  # the Merkle root's label
    assert 'href="/learn/lune-101/02-blocks-pow"' in page  # nonce, bits, hash
    tx = client.get(f"/explorer/tx/{txid}").get_data(as_text=True)
    for module in ("04-keys-signatures", "05-addresses", "06-transactions-utxo"):
        assert f'href="/learn/lune-101/{module}"' in tx
    assert "tok-signature" in tx and "[ALL]" in tx and address in tx


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("", 400, "Type a block height"),
        ("hello", 400, "is not a block height"),
        ("99999999", 404, "No block at height 99999999"),
        ("f" * 64, 404, "No block or transaction has the hash"),
    ],
)
def test_bad_searches_answer_4xx_with_the_reason(client, learner, query, status, says):
    response = client.get("/explorer/search", query_string={"q": query})
    assert response.status_code == status
    assert says in response.get_data(as_text=True)


def test_bad_search_in_french(client, learner):
    response = client.get(
        "/explorer/search", query_string={"q": "99999999"}, headers={"Accept-Language": "fr"}
    )
    assert response.status_code == 404
    assert "Aucun bloc à la hauteur 99999999" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/explorer/block/xyz", 400),
        (f"/explorer/block/{'ab' * 32}", 404),
        (f"/explorer/block/{GENESIS_HASH}?page=0", 400),
        (f"/explorer/block/{GENESIS_HASH}?page=9", 404),
        ("/explorer/tx/1234", 400),
        (f"/explorer/tx/{'cd' * 32}", 404),
        ("/explorer/address/1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", 400),
        ("/explorer/address/not-an-address!", 400),
        ("/explorer/address/%2E%2E%2Frest", 404),  # no such route once the slash is decoded
        ("/explorer/mempool?page=abc", 400),
    ],
)
def test_bad_pages_answer_4xx(client, learner, path, status):
    assert client.get(path).status_code == status


def test_every_page_renders(client, learner, payment):
    txid, address = payment
    for path in (
        "/explorer/",
        "/explorer/mempool",
        "/explorer/tips",
        f"/explorer/address/{address}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    assert txid in client.get("/explorer/mempool").get_data(as_text=True)
    assert "+10.00000000" in client.get(f"/explorer/address/{address}").get_data(as_text=True)


def test_a_node_that_is_down_is_a_503_page(app_factory, tmp_path):
    from portalkit import Auth

    from web.extensions import db

    app = app_factory(NODE_DATADIR=str(tmp_path / "no-node"))
    client = app.test_client()
    auth = Auth(app, client)
    with app.app_context():
        auth.user("down@lune.test")
    auth.login("down@lune.test")
    for path in ("/explorer/", "/explorer/search?q=0", f"/explorer/tx/{'ab' * 32}"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "sandbox node is not answering" in response.get_data(as_text=True)
        assert response.headers["Retry-After"]
    with app.app_context():
        db.engine.dispose()
