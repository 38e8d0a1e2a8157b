"""Result fields a Bitcoin Core client reads, checked on an in-process node (no child process).

Each test names the Core source that fixes the expected shape; the node is started on free
loopback ports and its RPC methods are called through the node's own dispatcher and encoder.
"""

from __future__ import annotations

import pytest

from sandbox_chain.keys import PrivateKey
from sandbox_chain.node.app import build_dispatcher
from sandbox_chain.node.descriptor import with_checksum
from sandbox_chain.node.node import Node, NodeConfig
from sandbox_chain.node.rpc import RPCError, encode_json
from sandbox_chain.params import REGTEST
from sandbox_chain.script import multisig_script, p2pkh_script
from sandbox_chain.sighash import sign_p2pkh_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut

pytestmark = pytest.mark.network

KEY = PrivateKey.from_int(0x7E57)
ADDRESS = KEY.public_key().address(REGTEST)
SCRIPT = p2pkh_script(KEY.public_key().hash160())


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A started node with 101 blocks mined to KEY, and its RPC dispatcher."""
    node = Node(NodeConfig(datadir=tmp_path_factory.mktemp("fidelity"), rpcport=0, port=0))
    node.start()
    rpc = build_dispatcher(node)
    rpc.call("generatetoaddress", [101, ADDRESS])
    yield node, rpc
    node.stop()


def spend(prev_txid_hex: str, value: int, fee: int) -> Transaction:
    """A signed one-in one-out P2PKH spend of output 0 of `prev_txid_hex` back to KEY."""
    tx = Transaction(
        2,
        [TxIn(OutPoint(bytes.fromhex(prev_txid_hex)[::-1], 0), b"")],
        [TxOut(value - fee, SCRIPT)],
        0,
    )
    sign_p2pkh_input(tx, 0, KEY, SCRIPT)
    return tx


def coinbase_txid(rpc, height: int) -> str:
    return rpc.call("getblock", [rpc.call("getblockhash", [height])])["tx"][0]


def test_getrawtransaction_verbose_fields_follow_core(live):
    # rawtransaction.cpp: `in_active_chain` only when a blockhash was passed, and first;
    # TxToJSON adds time/blocktime only for a block of the active chain.
    _, rpc = live
    txid = coinbase_txid(rpc, 5)
    block_hash = rpc.call("getblockhash", [5])
    plain = rpc.call("getrawtransaction", [txid, True])
    assert "in_active_chain" not in plain
    assert list(plain)[-5:] == ["hex", "blockhash", "confirmations", "time", "blocktime"]
    given = rpc.call("getrawtransaction", [txid, True, block_hash])
    assert list(given)[0] == "in_active_chain" and given["in_active_chain"] is True
    assert given["blockhash"] == block_hash and given["time"] == given["blocktime"]


def test_testmempoolaccept_reject_fields_follow_core(live):
    # mempool.cpp testmempoolaccept: missing inputs are "missing-inputs" without details;
    # any other rejection has reject-details = TxValidationState::ToString() ("reason, debug").
    _, rpc = live
    orphan = spend("11" * 32, 10_000, 1_000)
    [verdict] = rpc.call("testmempoolaccept", [[orphan.serialize().hex()]])
    assert verdict == {
        "txid": orphan.txid_hex,
        "wtxid": orphan.txid_hex,
        "allowed": False,
        "reject-reason": "missing-inputs",
    }
    cb = coinbase_txid(rpc, 1)
    bad = spend(cb, 50 * 100_000_000, 1_000)
    bad.vin[0].script_sig = bad.vin[0].script_sig[:-1] + b"\x00"  # corrupt the pubkey
    [verdict] = rpc.call("testmempoolaccept", [[bad.serialize().hex()]])
    reason, details = verdict["reject-reason"], verdict["reject-details"]
    assert verdict["allowed"] is False and reason.startswith("mandatory-script-verify")
    assert details == reason or details.startswith(reason + ", ")
    # sendrawtransaction's -26 message is the same ToString().
    with pytest.raises(RPCError) as info:
        rpc.call("sendrawtransaction", [bad.serialize().hex()])
    assert (info.value.code, info.value.message) == (-26, details)


def test_mempool_entry_counts_every_ancestor_and_descendant(live):
    # txmempool.h / mempool.cpp entryToJSON: counts, sizes and fees cover all in-pool
    # ancestors (descendants), the entry itself included, not only direct parents (children).
    _, rpc = live
    value = 50 * 100_000_000
    a = spend(coinbase_txid(rpc, 2), value, 1_000)
    b = spend(a.txid_hex, value - 1_000, 2_000)
    c = spend(b.txid_hex, value - 3_000, 3_000)
    for tx in (a, b, c):
        rpc.call("sendrawtransaction", [tx.serialize().hex()])
    pool = rpc.call("getrawmempool", [True])
    top, mid, leaf = pool[a.txid_hex], pool[b.txid_hex], pool[c.txid_hex]
    size = top["vsize"] + mid["vsize"] + leaf["vsize"]
    assert (top["descendantcount"], top["descendantsize"]) == (3, size)
    assert (leaf["ancestorcount"], leaf["ancestorsize"]) == (3, size)
    assert (mid["ancestorcount"], mid["descendantcount"]) == (2, 2)
    assert top["fees"]["descendant"] == 6_000 and leaf["fees"]["ancestor"] == 6_000
    assert mid["fees"]["ancestor"] == 3_000 and mid["fees"]["descendant"] == 5_000
    rpc.call("generatetoaddress", [1, ADDRESS])


def test_fee_rates_are_written_as_core_amounts(live):
    # Core writes fee rates with ValueFromAmount: 0.00001000, never 1e-05.
    _, rpc = live
    for method, field in (("getmempoolinfo", "minrelaytxfee"), ("getnetworkinfo", "relayfee")):
        text = encode_json(rpc.call(method)).decode()
        assert f'"{field}":0.00001000' in text


def test_script_descriptors_are_core_descriptors_with_checksums(live):
    # core_write.cpp ScriptToUniv: desc is InferDescriptor(...)->ToString(), checksum included;
    # scantxoutset takes it back and refuses a wrong checksum (-5, CheckChecksum's message).
    _, rpc = live
    tx = rpc.call("getrawtransaction", [coinbase_txid(rpc, 7), True])
    desc = tx["vout"][0]["scriptPubKey"]["desc"]
    assert desc == with_checksum(f"addr({ADDRESS})")
    found = rpc.call("scantxoutset", ["start", [desc]])
    assert found["success"] and found["unspents"][0]["desc"] == desc
    with pytest.raises(RPCError) as info:
        rpc.call("scantxoutset", ["start", [desc[:-8] + "qqqqqqqq"]])
    assert info.value.code == -5 and "does not match computed checksum" in info.value.message


def test_decodescript_fields_follow_core(live):
    # rawtransaction.cpp decodescript: ScriptToUniv without hex (asm, desc, [address], type);
    # bad hex is ParseHexV's -8 "argument must be hexadecimal string (not '...')".
    _, rpc = live
    script = p2pkh_script(KEY.public_key().hash160())
    got = rpc.call("decodescript", [script.hex()])
    assert list(got)[:4] == ["asm", "desc", "address", "type"]
    assert got["desc"] == with_checksum(f"addr({ADDRESS})") and got["type"] == "pubkeyhash"
    assert rpc.call("decodescript", [""])["type"] == "nonstandard"
    with pytest.raises(RPCError) as info:
        rpc.call("decodescript", ["zz"])
    assert (info.value.code, info.value.message) == (
        -8,
        "argument must be hexadecimal string (not 'zz')",
    )


def test_script_sig_asm_names_the_sighash_type(live):
    # core_write.cpp TxToUniv: the scriptSig's asm is ScriptToAsmStr(scriptSig, true), which
    # writes a strictly encoded signature's hash type as "[ALL]" instead of its last byte.
    _, rpc = live
    tx = spend(coinbase_txid(rpc, 3), 50 * 100_000_000, 1_000)
    sig_len = tx.vin[0].script_sig[0]
    sig = tx.vin[0].script_sig[1 : 1 + sig_len]
    pub = KEY.public_key().sec()
    got = rpc.call("decoderawtransaction", [tx.serialize().hex()])["vin"][0]["scriptSig"]
    assert got["asm"] == f"{sig[:-1].hex()}[ALL] {pub.hex()}"
    assert got["hex"] == tx.vin[0].script_sig.hex()
    # An output script is not a scriptSig: its pushes are never decoded that way.
    data = rpc.call("decodescript", [(bytes([len(sig)]) + sig).hex()])
    assert data["asm"] == sig.hex()


def test_network_rpcs_follow_core(live):
    # net.cpp listbanned: ban_created, banned_until, ban_duration (the ban's length) and
    # time_remaining; disconnectnode: exactly one of address and nodeid, else -32602.
    node, rpc = live
    node.peers.misbehaving("127.0.0.1:9", 100, "test")
    try:
        [ban] = rpc.call("listbanned")
        assert list(ban) == [
            "address",
            "ban_created",
            "banned_until",
            "ban_duration",
            "time_remaining",
        ]
        assert ban["ban_duration"] == ban["banned_until"] - ban["ban_created"] == 600
        assert 0 < ban["time_remaining"] <= 600
    finally:
        rpc.call("clearbanned")
    for params in ([], ["127.0.0.1:9", 1]):
        with pytest.raises(RPCError) as info:
            rpc.call("disconnectnode", params)
        assert (info.value.code, info.value.message) == (
            -32602,
            "Only one of address and nodeid should be provided.",
        )
    with pytest.raises(RPCError) as info:
        rpc.call("disconnectnode", ["127.0.0.1:9"])
    assert info.value.code == -29


def test_genesis_coinbase_is_not_a_transaction(live):
    # rawtransaction.cpp getrawtransaction: Core refuses the genesis coinbase (its output was
    # never added to the UTXO set) with -5 and this message.
    _, rpc = live
    genesis = rpc.call("getblock", [rpc.call("getblockhash", [0])])
    with pytest.raises(RPCError) as info:
        rpc.call("getrawtransaction", [genesis["tx"][0], True])
    assert (info.value.code, info.value.message) == (
        -5,
        "The genesis block coinbase is not considered an ordinary transaction "
        "and cannot be retrieved",
    )


def test_testmempoolaccept_fees_follow_core(live):
    # mempool.cpp testmempoolaccept: an allowed transaction's fees carry base,
    # effective-feerate (coins per kvB) and effective-includes (wtxids).
    _, rpc = live
    tx = spend(coinbase_txid(rpc, 1), 50 * 100_000_000, 2_260)
    [verdict] = rpc.call("testmempoolaccept", [[tx.serialize().hex()]])
    assert verdict["allowed"] is True and verdict["vsize"] == tx.size()
    fees = verdict["fees"]
    assert list(fees) == ["base", "effective-feerate", "effective-includes"]
    assert fees["base"] == 2_260
    assert fees["effective-feerate"] == 2_260 * 1000 // tx.size()
    assert fees["effective-includes"] == [tx.txid_hex]


def test_every_method_explains_itself_in_help(live):
    # Core's `help <method>` always has a description after the usage line.
    _, rpc = live
    silent = [name for name, m in rpc.methods.items() if not m.help.strip()]
    assert silent == []
    assert "transaction" in rpc.call("help", ["getrawtransaction"]).split("\n\n", 1)[1]


def test_faucet_pays_a_raw_multisig_descriptor_as_the_docs_say(live):
    # docs/node.md: the raw(...) descriptor of a bare multisig script is accepted wherever
    # an address is, the faucet included.
    _, rpc = live
    pubs = [PrivateKey.from_int(k).public_key().sec() for k in (11, 12)]
    script = multisig_script(1, pubs)
    paid = rpc.call("faucet", [f"raw({script.hex()})", 1])
    out = next(
        o
        for o in rpc.call("getrawtransaction", [paid["txid"], True])["vout"]
        if o["scriptPubKey"]["hex"] == script.hex()
    )
    assert out["value"] == 100_000_000 and out["scriptPubKey"]["type"] == "multisig"
    assert out["scriptPubKey"]["desc"].startswith(f"multi(1,{pubs[0].hex()},{pubs[1].hex()})#")


def test_transaction_not_in_the_given_block_says_so_as_core(live):
    # rawtransaction.cpp getrawtransaction: every "not found" message ends with Core's hint.
    _, rpc = live
    with pytest.raises(RPCError) as info:
        rpc.call("getrawtransaction", [coinbase_txid(rpc, 1), True, rpc.call("getblockhash", [2])])
    assert (info.value.code, info.value.message) == (
        -5,
        "No such transaction found in the provided block. "
        "Use gettransaction for wallet transactions.",
    )


def test_rest_chaininfo_is_getblockchaininfo(live):
    # rest.cpp rest_chaininfo answers getblockchaininfo's object; the explorer's mempool_size
    # comes on top.
    from sandbox_chain.node.rest import RestAPI

    node, rpc = live
    rest = RestAPI(node).chaininfo({})
    assert rest.pop("mempool_size") == len(rpc.call("getrawmempool"))
    assert rest == rpc.call("getblockchaininfo")


@pytest.mark.parametrize(
    ("maxfeerate", "code", "message"),
    [
        (-0.1, -3, "Amount out of range"),
        (1, -8, "Fee rates larger than or equal to 1BTC/kvB are not accepted"),
        ("lots", -3, "Invalid amount"),
    ],
)
def test_maxfeerate_is_checked_as_core(live, maxfeerate, code, message):
    # util.cpp AmountFromValue and ParseFeeRate (sendrawtransaction, testmempoolaccept).
    _, rpc = live
    raw = spend(coinbase_txid(rpc, 1), 50 * 100_000_000, 1_000).serialize().hex()
    for method, first in (("sendrawtransaction", raw), ("testmempoolaccept", [raw])):
        with pytest.raises(RPCError) as info:
            rpc.call(method, [first, maxfeerate])
        assert (info.value.code, info.value.message) == (code, message)


def test_verbosity_takes_its_old_name_too(live):
    # Core declares "verbosity|verbose" for getblock and getrawtransaction: either name works
    # as a named argument, and the usage line shows the first.
    _, rpc = live
    block_hash = rpc.call("getblockhash", [1])
    txid = coinbase_txid(rpc, 1)
    for name in ("verbosity", "verbose"):
        assert rpc.call("getrawtransaction", {"txid": txid, name: 1})["txid"] == txid
        assert isinstance(rpc.call("getblock", {"blockhash": block_hash, name: 0}), str)
    assert "( verbosity )" in rpc.methods["getrawtransaction"].usage()
    with pytest.raises(RPCError) as info:
        rpc.call("getblock", {"blockhash": block_hash, "verbosity": 0, "verbose": 1})
    assert (info.value.code, info.value.message) == (-8, "Unknown named parameter verbose")


def test_spent_outputs_shown_as_core_with_higher_verbosity(live):
    # blockchain.cpp getblock: verbosity 2 adds each transaction's fee, 3 also each input's
    # prevout; rawtransaction.cpp getrawtransaction: verbosity 2 adds both for a confirmed
    # transaction, and is verbosity 1 for one still in the mempool.
    _, rpc = live
    tx = spend(coinbase_txid(rpc, 8), 50 * 100_000_000, 4_321)
    rpc.call("sendrawtransaction", [tx.serialize().hex()])
    assert "fee" not in rpc.call("getrawtransaction", [tx.txid_hex, 2])
    [block_hash] = rpc.call("generatetoaddress", [1, ADDRESS])
    got = rpc.call("getrawtransaction", [tx.txid_hex, 2])
    assert got["fee"] == 4_321 and list(got)[list(got).index("vout") + 1] == "fee"
    prevout = got["vin"][0]["prevout"]
    assert list(got["vin"][0])[-2:] == ["prevout", "sequence"]
    assert prevout == {
        "generated": True,
        "height": 8,
        "value": 50 * 100_000_000,
        "scriptPubKey": rpc.call("gettxout", [coinbase_txid(rpc, 9), 0])["scriptPubKey"],
    }
    two = rpc.call("getblock", [block_hash, 2])["tx"]
    assert "fee" not in two[0] and two[1]["fee"] == 4_321 and "prevout" not in two[1]["vin"][0]
    three = rpc.call("getblock", [block_hash, 3])["tx"]
    assert three[1]["vin"][0]["prevout"] == prevout and "prevout" not in three[0]["vin"][0]
