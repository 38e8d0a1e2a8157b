"""A batch of 1,000 in one transaction; anchoring and verifying against a real node process."""

from __future__ import annotations

import json
import random

import pytest
from credkit import ADDRESS_KEY, ADDRESS_SPK, ISSUED, mine

from web.credentials.chainsource import RestSource, RPCSource
from web.credentials.issuance import anchor_batch
from web.credentials.verify import Verifier


@pytest.mark.slow
def test_a_batch_of_1000_in_one_transaction_each_verifiable_alone(issuer, chain):
    signed = [issuer.sign(issuer.credential(f"l{i}@example.org")) for i in range(1000)]
    docs, txid = issuer.anchor(chain, signed)
    mine(chain)
    tx, _ = chain.get_transaction(bytes.fromhex(txid)[::-1])
    assert len(tx.vout) == 2 and tx.vout[0].script_pubkey[:2] == b"\x6a\x20"
    for i in random.Random(7).sample(range(1000), 3):
        alone = json.loads(json.dumps(docs[i]))  # nothing else of the batch is at hand
        report = issuer.verify(alone, chain)
        assert report.ok, report.first_failure()
        assert "path of 10 steps" in report.step("merkle").message


@pytest.mark.network
def test_anchor_by_rpc_verify_by_rest_and_rpc(issuer, node):
    client, url, _datadir = node
    address = ADDRESS_KEY.public_key().address("regtest")
    client.call("generatetoaddress", 101, address)
    assert ADDRESS_SPK  # the issuer's coinbases pay this script
    signed = [issuer.sign(issuer.credential(f"n{i}@example.org")) for i in range(5)]
    docs, built, _ = anchor_batch(
        signed, RPCSource(client), ADDRESS_KEY, "https://academy.example/issuer#a", ISSUED
    )
    for source in (RestSource(url), RPCSource(client)):
        report = Verifier(
            profile=issuer.profile, chain=source, resolver=issuer.resolver(), at=ISSUED
        ).verify(docs[3])
        assert report.first_failure().name == "best_chain"  # still in the mempool
    client.call("generatetoaddress", 2, address)
    for source in (RestSource(url), RPCSource(client)):
        report = Verifier(
            profile=issuer.profile, chain=source, resolver=issuer.resolver(), at=ISSUED
        ).verify(docs[3])
        assert report.ok, "\n".join(s.line() for s in report.steps)
        assert "2 confirmations" in report.step("best_chain").message
    assert built.txid in report.step("anchor").message


@pytest.mark.network
def test_an_unreachable_node_fails_the_chain_steps_with_a_message(issuer, anchored):
    docs, _ = anchored
    report = Verifier(
        profile=issuer.profile, chain=RestSource("http://127.0.0.1:9"), at=ISSUED,
        resolver=issuer.resolver(),
    ).verify(docs[0])  # fmt: skip
    assert report.first_failure().name == "anchor"
    assert report.step("anchor").message.startswith("chain lookup failed: cannot read")
