"""The node's JSON-RPC over real HTTP: Core's method shapes, error codes and HTTP behaviour."""

from __future__ import annotations

import base64
import decimal
import json
import os
import signal
import stat
import subprocess
import sys

import pytest
import requests
from bitcoinrpc.authproxy import AuthServiceProxy, JSONRPCException

from sandbox_chain.keys import PrivateKey
from sandbox_chain.node.rpc import RPCError
from sandbox_chain.params import REGTEST
from sandbox_chain.script import p2pkh_script
from sandbox_chain.sighash import sign_p2pkh_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut
from sandbox_chain.wallet import multisig_output, sign_multisig_input

pytestmark = pytest.mark.network

KEY = PrivateKey.from_int(0x1234567)
ADDRESS = KEY.public_key().address(REGTEST)
SCRIPT = p2pkh_script(KEY.public_key().hash160())


def post(node, body, auth=True, **kw):
    headers = {"Content-Type": "application/json"}
    return requests.post(
        node.url + "/",
        data=body,
        auth=node.cookie() if auth else None,
        headers=headers,
        timeout=30,
        **kw,
    )


def rpc_error(node, method, *params) -> RPCError:
    with pytest.raises(RPCError) as info:
        node.rpc.call(method, *params)
    return info.value


@pytest.fixture(scope="module")
def funded(node):
    """101 blocks mined to KEY: its first coinbase is mature."""
    node.rpc.generatetoaddress(101, ADDRESS)
    return node


def spend_first_coinbase(node, fee=10_000, to=SCRIPT, height=1) -> Transaction:
    block = node.rpc.getblock(node.rpc.getblockhash(height), 2)
    cb = block["tx"][0]
    value = round(decimal.Decimal(str(cb["vout"][0]["value"])) * 100_000_000)
    tx = Transaction(
        2,
        [TxIn(OutPoint(bytes.fromhex(cb["txid"])[::-1], 0), b"")],
        [TxOut(int(value) - fee, to)],
        0,
    )
    sign_p2pkh_input(tx, 0, KEY, SCRIPT)
    return tx


def test_chain_queries_have_core_shapes(funded):
    rpc = funded.rpc
    info = rpc.getblockchaininfo()
    assert info["chain"] == "regtest" and info["blocks"] == rpc.getblockcount() >= 101
    assert info["bestblockhash"] == rpc.getbestblockhash()
    assert rpc.getblockhash(0) == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    tip = rpc.getbestblockhash()
    b1 = rpc.getblock(tip)
    assert b1["hash"] == tip and b1["confirmations"] == 1 and isinstance(b1["tx"][0], str)
    b2 = rpc.getblock(tip, 2)
    assert (
        b2["tx"][0]["vin"][0]["coinbase"]
        and b2["tx"][0]["vout"][0]["scriptPubKey"]["address"] == ADDRESS
    )
    raw = rpc.getblock(tip, 0)
    assert raw.startswith(rpc.getblockheader(tip, False))
    header = rpc.getblockheader(tip)
    assert header["height"] == info["blocks"] and header["previousblockhash"] == rpc.getblockhash(
        info["blocks"] - 1
    )
    assert rpc.getblock(tip, True)["tx"] == b1["tx"]  # Core accepts a bool verbosity
    txid = b1["tx"][0]
    tx = rpc.getrawtransaction(txid, True)
    assert tx["txid"] == txid and tx["blockhash"] == tip and tx["confirmations"] == 1
    assert rpc.decoderawtransaction(tx["hex"])["txid"] == txid
    out = rpc.gettxout(txid, 0)
    assert out["confirmations"] == 1 and out["coinbase"] is True and out["value"] == 50
    assert rpc.gettxout(txid, 5) is None
    assert rpc.getchaintips()[0] == {
        "height": info["blocks"],
        "hash": tip,
        "branchlen": 0,
        "status": "active",
    }
    assert float(rpc.getdifficulty()) == pytest.approx(4.656542373906925e-10)
    assert rpc.validateaddress(ADDRESS)["isvalid"] and not rpc.validateaddress("1nope")["isvalid"]
    net = rpc.getnetworkinfo()
    assert net["connections"] == 0 and rpc.getpeerinfo() == []
    assert rpc.getmininginfo()["blocks"] == info["blocks"]
    assert "getblockcount" in rpc.help() and rpc.uptime() >= 0


def test_transaction_life_cycle_and_core_error_codes(funded):
    rpc = funded.rpc
    tx = spend_first_coinbase(funded)
    accepted = rpc.testmempoolaccept([tx.serialize().hex()])
    assert accepted[0]["allowed"] is True and rpc.getrawmempool() == []
    txid = rpc.sendrawtransaction(tx.serialize().hex())
    assert txid == tx.txid_hex and rpc.getrawmempool() == [txid]
    assert rpc.sendrawtransaction(tx.serialize().hex()) == txid  # already have it: Core says txid
    assert rpc.getrawmempool(True)[txid]["fees"]["base"] == decimal.Decimal("0.0001")
    assert rpc.getmempoolinfo()["size"] == 1
    assert rpc.gettxout(txid, 0)["confirmations"] == 0
    assert rpc.gettxout(tx.vin[0].prevout.txid[::-1].hex(), 0) is None  # spent in the mempool
    # A conflicting spend is rejected with Core's reason (-26).
    err = rpc_error(
        funded, "sendrawtransaction", spend_first_coinbase(funded, fee=20_000).serialize().hex()
    )
    assert err.code == -26 and err.message.startswith("txn-mempool-conflict")
    verdict = rpc.testmempoolaccept([spend_first_coinbase(funded, fee=20_000).serialize().hex()])[0]
    assert verdict["allowed"] is False and verdict["reject-reason"] == "txn-mempool-conflict"
    [block_hash] = rpc.generatetoaddress(1, ADDRESS)
    assert txid in rpc.getblock(block_hash)["tx"] and rpc.getrawmempool() == []
    # Now its outputs are in the UTXO set: -27; unknown inputs: -25; bad hex: -22.
    err = rpc_error(funded, "sendrawtransaction", tx.serialize().hex())
    assert err.code == -27
    orphan = Transaction(2, [TxIn(OutPoint(b"\x11" * 32, 0), b"\x51")], [TxOut(1000, SCRIPT)], 0)
    err = rpc_error(funded, "sendrawtransaction", orphan.serialize().hex())
    assert (err.code, err.message) == (-25, "bad-txns-inputs-missingorspent")
    assert rpc_error(funded, "sendrawtransaction", "zz").code == -22
    assert rpc_error(funded, "decoderawtransaction", "00").code == -22
    # A bad signature: -26 with a script-verify reason.
    bad = spend_first_coinbase(funded)
    bad.vin[0].prevout = OutPoint(
        bytes.fromhex(rpc.getblock(rpc.getblockhash(2))["tx"][0])[::-1], 0
    )
    err = rpc_error(funded, "sendrawtransaction", bad.serialize().hex())
    assert err.code == -26 and "script" in err.message.lower()
    assert rpc.getrawtransaction(txid, 1)["confirmations"] == 1


def test_parameter_errors_follow_core(node):
    assert rpc_error(node, "getblockhash", 10**6).code == -8
    assert rpc_error(node, "getblockhash", "1").code == -3
    assert rpc_error(node, "getblock", "00" * 31).code == -8
    assert rpc_error(node, "getblock", "zz" * 32).code == -8
    assert rpc_error(node, "getblock", "00" * 32).code == -5
    assert rpc_error(node, "getrawtransaction", "00" * 32).code == -5
    assert rpc_error(node, "getblockhash").code == -1  # missing argument: usage text
    assert rpc_error(node, "getblockcount", 1).code == -1  # too many arguments
    assert rpc_error(node, "nosuchmethod").code == -32601
    assert rpc_error(node, "generatetoaddress", 1, "not-an-address").code == -5
    assert rpc_error(node, "addnode", "127.0.0.1:1", "explode").code == -8


def test_http_layer(node):
    # Named parameters, JSON-RPC 2.0 reply shape, batch in order, notifications.
    r = post(
        node,
        json.dumps(
            {"jsonrpc": "2.0", "id": "x", "method": "getblockhash", "params": {"height": 0}}
        ),
    )
    assert r.status_code == 200 and r.json() == {
        "jsonrpc": "2.0",
        "result": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
        "error": None,
        "id": "x",
    }
    batch = [
        {"id": 1, "method": "getblockcount"},
        {"id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "method": "getblockcount"},
        7,
    ]
    r = post(node, json.dumps(batch))
    replies = r.json()
    assert r.status_code == 200 and [x["id"] for x in replies] == [1, 2, None]
    assert replies[1]["error"]["code"] == -32601 and replies[2]["error"]["code"] == -32600
    r = post(node, json.dumps({"jsonrpc": "2.0", "method": "getblockcount"}))
    assert r.status_code == 204
    # Malformed JSON: 400 with Core's parse error object, never a 500.
    r = post(node, b"{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == -32700
    # Bad credentials: 401 with a Basic challenge, as Core.
    r = post(node, b"{}", auth=False)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.post(node.url + "/", data=b"{}", auth=("__cookie__", "wrong"), timeout=10)
    assert r.status_code == 401
    # Oversize body: 413 without reading it.
    r = requests.post(
        node.url + "/", data=b" " * (8 * 1024 * 1024 + 1), auth=node.cookie(), timeout=30
    )
    assert r.status_code == 413
    assert requests.get(node.url + "/", auth=node.cookie(), timeout=10).status_code == 405
    assert requests.get(node.url + "/nope", timeout=10).status_code == 404


def test_client_batch(node):
    count, missing, h0 = node.rpc.batch([("getblockcount",), ("nope",), ("getblockhash", 0)])
    assert count == node.rpc.getblockcount() and h0 == node.rpc.getblockhash(0)
    assert isinstance(missing, RPCError) and missing.code == -32601


def test_cookie_file_is_private(node):
    path = node.datadir / ".cookie"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    user, password = node.cookie()
    assert user == "__cookie__" and len(password) == 64


def test_a_bitcoin_core_client_works_unchanged(funded):
    """python-bitcoinrpc, written for Bitcoin Core, used as its README shows."""
    user, password = funded.cookie()
    host = funded.url.split("//")[1]
    proxy = AuthServiceProxy(f"http://{user}:{password}@{host}", timeout=30)
    count = proxy.getblockcount()
    assert count == funded.rpc.getblockcount()
    info = proxy.getblockchaininfo()
    assert info["bestblockhash"] == proxy.getbestblockhash()
    block = proxy.getblock(proxy.getblockhash(1), 2)
    assert block["tx"][0]["vout"][0]["value"] == decimal.Decimal("50.00000000")
    assert proxy.batch_([["getblockhash", 0], ["getblockcount"]])[1] == count
    with pytest.raises(JSONRPCException) as info:
        proxy.getblock("00" * 32)
    assert info.value.error["code"] == -5 and info.value.error["message"] == "Block not found"
    with pytest.raises(JSONRPCException) as info:
        proxy.nosuchmethod()
    assert info.value.error["code"] == -32601
    bad = AuthServiceProxy(f"http://{user}:wrong@{host}", timeout=30)
    with pytest.raises(JSONRPCException):
        bad.getblockcount()


def test_amounts_are_written_with_eight_decimals(funded):
    user, password = funded.cookie()
    body = {
        "id": 1,
        "method": "gettxout",
        "params": [funded.rpc.getblock(funded.rpc.getblockhash(3))["tx"][0], 0],
    }
    r = post(funded, json.dumps(body))
    assert '"value":50.00000000' in r.text
    assert base64  # the client above builds Basic auth itself


def test_rpcuser_and_rpcpassword_replace_the_cookie(node_factory):
    n = node_factory("userpass", "--rpcuser", "alice", "--rpcpassword", "s3cret")
    assert not (n.datadir / ".cookie").exists()
    assert n.rpc.getblockcount() == 0
    ok = requests.post(
        n.url + "/", data=b'{"method":"uptime","id":1}', auth=("alice", "s3cret"), timeout=10
    )
    assert ok.status_code == 200 and ok.json()["result"] >= 0
    bad = requests.post(n.url + "/", data=b"{}", auth=("alice", "nope"), timeout=10)
    assert bad.status_code == 401


def test_clean_stop_removes_the_cookie_and_keeps_the_chain(node_factory):
    n = node_factory("stopper")
    n.rpc.generatetoaddress(2, ADDRESS)
    paid = n.rpc.faucet(ADDRESS)["txid"]  # mines 101 blocks to the faucet, then pays
    height = n.rpc.getblockcount()
    assert n.rpc.stop() == "Lune node stopping"
    assert n.proc.wait(20) == 0
    assert not (n.datadir / ".cookie").exists() and not (n.datadir / "node.json").exists()
    n.start()
    assert n.rpc.getblockcount() == height
    assert n.rpc.getrawmempool() == [paid]  # the mempool was saved and re-validated
    assert n.stop(signal.SIGTERM) == 0  # SIGTERM: the same clean stop
    assert not (n.datadir / ".cookie").exists()


def test_generateblock_submitblock_and_multisig_outputs(funded):
    rpc = funded.rpc
    pubs = [PrivateKey.from_int(i).public_key().sec().hex() for i in (21, 22, 23)]
    desc = multisig_output(2, pubs)["descriptor"]
    [mined] = rpc.generatetoaddress(1, desc)  # a coinbase paid to a bare 2-of-3 script
    assert rpc.getblock(mined, 2)["tx"][0]["vout"][0]["scriptPubKey"]["type"] == "multisig"
    scan = rpc.scantxoutset("start", [desc])
    assert scan["success"] and [u["height"] for u in scan["unspents"]] == [rpc.getblockcount()]
    assert rpc.decodescript(desc[4:-1])["type"] == "multisig"
    # Spend it after maturity with two of the three keys (custody: 2-of-3).
    rpc.generatetoaddress(100, ADDRESS)
    cb = rpc.getblock(mined, 2)["tx"][0]
    value = int(decimal.Decimal(str(cb["vout"][0]["value"])) * 100_000_000)
    spend = Transaction(
        2,
        [TxIn(OutPoint(bytes.fromhex(cb["txid"])[::-1], 0), b"")],
        [TxOut(value - 10_000, SCRIPT)],
        0,
    )
    keys = [PrivateKey.from_int(23), PrivateKey.from_int(21)]
    sign_multisig_input(spend, 0, keys, bytes.fromhex(desc[4:-1]))
    assert rpc.sendrawtransaction(spend.serialize().hex()) == spend.txid_hex
    # generateblock with an explicit transaction from the mempool.
    tx = spend_first_coinbase(funded, fee=30_000, to=p2pkh_script(b"\x01" * 20), height=2)
    rpc.sendrawtransaction(tx.serialize().hex())
    assert rpc.getmempoolentry(tx.txid_hex)["fees"]["base"] == decimal.Decimal("0.0003")
    block = rpc.generateblock(ADDRESS, [tx.txid_hex])
    assert rpc.getblock(block["hash"])["tx"][1] == tx.txid_hex
    assert tx.txid_hex not in rpc.getrawmempool()
    # A block built but not submitted, then submitted by hand; a second time: duplicate.
    built = rpc.generateblock(ADDRESS, [], False)
    assert rpc.getbestblockhash() != built["hash"]
    assert rpc.submitblock(built["hex"]) is None and rpc.getbestblockhash() == built["hash"]
    assert rpc.submitblock(built["hex"]) == "duplicate"
    assert rpc_error(funded, "submitblock", "00").code == -22
    assert rpc_error(funded, "getmempoolentry", "00" * 32).code == -5
    assert rpc.echo(1, "a", [True]) == [1, "a", [True]]


def test_second_node_on_the_same_datadir_fails_cleanly(node):
    cmd = [
        sys.executable,
        "-m",
        "sandbox_chain.node",
        "--datadir",
        str(node.datadir),
        "--rpcport",
        "0",
        "--port",
        "0",
    ]
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1 and "in use" in second.stderr
    # The running node keeps its cookie and node.json, and keeps answering.
    assert (node.datadir / ".cookie").exists() and (node.datadir / "node.json").exists()
    assert node.rpc.getblockcount() >= 0
