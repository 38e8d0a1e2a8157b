"""The explorer's REST API over HTTP, and its OpenAPI description."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import yaml

from sandbox_chain.keys import PrivateKey
from sandbox_chain.node.rest import RestAPI
from sandbox_chain.params import REGTEST

OPENAPI = Path(__file__).resolve().parents[3] / "sandbox_chain" / "openapi.yaml"
KEY = PrivateKey.from_int(0xBEEF)
ADDRESS = KEY.public_key().address(REGTEST)


class _FakeNode:
    params = REGTEST


def test_every_route_is_in_the_openapi_file_and_vice_versa():
    spec = yaml.safe_load(OPENAPI.read_text())
    assert spec["openapi"].startswith("3.")
    served = {template for template, _ in RestAPI(_FakeNode()).routes}  # type: ignore[arg-type]
    assert served == set(spec["paths"])
    for template, item in spec["paths"].items():
        declared = {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", template)), template


@pytest.mark.network
def test_explorer_routes(node):
    rpc = node.rpc
    paid = rpc.faucet(ADDRESS, 2)  # mines the faucet to maturity first on regtest
    get = lambda path: requests.get(node.url + path, timeout=30)  # noqa: E731
    info = get("/rest/chaininfo").json()
    assert info["blocks"] == rpc.getblockcount() and info["mempool_size"] == 1
    tip = info["bestblockhash"]
    assert get(f"/rest/blockhashbyheight/{info['blocks']}").json() == {"blockhash": tip}
    assert get(f"/rest/blockhashbyheight/{info['blocks']}.json").json() == {"blockhash": tip}
    block = get(f"/rest/block/{tip}").json()
    assert block["hash"] == tip and block["tx"][0]["vin"][0]["coinbase"]
    page = get("/rest/blocks?limit=3").json()
    assert [b["height"] for b in page] == [info["blocks"], info["blocks"] - 1, info["blocks"] - 2]
    assert [b["height"] for b in get("/rest/blocks?from=1&limit=5").json()] == [1, 0]
    mempool = get("/rest/mempool").json()
    assert [t["txid"] for t in mempool["transactions"]] == [paid["txid"]]
    pending = get(f"/rest/address/{ADDRESS}").json()
    assert pending["mempool"] == [paid["txid"]] and pending["balance"] == 0
    [mined] = rpc.generatetoaddress(1, ADDRESS)
    addr = get(f"/rest/address/{ADDRESS}").json()
    coinbase_value = rpc.getblock(mined, 2)["tx"][0]["vout"][0]["value"]  # 50 + the fee
    assert addr["balance"] == pytest.approx(2 + float(coinbase_value)) and addr["mempool"] == []
    assert {h["txid"] for h in addr["history"]} == {paid["txid"], rpc.getblock(mined)["tx"][0]}
    tx = get(f"/rest/tx/{paid['txid']}").json()
    assert tx["blockhash"] == mined and tx["confirmations"] == 1
    assert get("/rest/chaintips").json()[0]["hash"] == mined
    # Bad input: 400/404/405 with a JSON error, never a 500; no credentials needed.
    for path, status in [
        ("/rest/block/xyz", 400),
        (f"/rest/block/{'00' * 32}", 404),
        (f"/rest/tx/{'00' * 32}", 404),
        ("/rest/blockhashbyheight/-1", 400),
        ("/rest/blockhashbyheight/99999999", 404),
        ("/rest/blockhashbyheight/abc", 400),
        ("/rest/blocks?limit=0", 400),
        ("/rest/blocks?limit=abc", 400),
        ("/rest/address/notanaddress", 400),
        ("/rest/nothing", 404),
    ]:
        r = get(path)
        assert r.status_code == status and "error" in r.json(), path
    assert requests.post(node.url + "/rest/chaininfo", data=b"", timeout=10).status_code == 405
