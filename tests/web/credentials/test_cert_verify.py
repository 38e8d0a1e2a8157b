"""Acceptance: a genuine certificate verifies; each kind of forgery or problem fails at its step."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from credkit import ADDRESS_KEY, ISSUED, OUTSIDER_KEY, OUTSIDER_SPK, START, failed_at, mine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from web.credentials import merkleproof2019
from web.credentials.anchor import anchor_root
from web.credentials.chainsource import LocalSource
from web.credentials.issuance import attach_anchor, sign_credential
from web.credentials.merkle import merkle_paths
from web.credentials.statuslist import StatusRegistry
from web.credentials.timefmt import format_time
from web.credentials.verify import Verifier


def _receipt(doc):
    proof = next(p for p in doc["proof"] if p["cryptosuite"] == merkleproof2019.CRYPTOSUITE)
    return proof, merkleproof2019.decode_receipt(proof["proofValue"])


def test_a_genuine_certificate_passes_every_step(issuer, chain, anchored):
    docs, txid = anchored
    report = issuer.verify(json.dumps(docs[1]), chain, email="learner1@example.org")
    assert report.ok, "\n".join(s.line() for s in report.steps)
    assert [s.name for s in report.steps] == [
        "json", "signature", "issuer_key", "merkle", "anchor", "best_chain",
        "issuing_address", "status", "validity", "recipient",
    ]  # fmt: skip
    assert txid in report.step("anchor").message
    assert "1 confirmations" in report.step("best_chain").message


def test_the_plain_email_is_nowhere_in_the_certificate(anchored):
    docs, _ = anchored
    assert "learner0@example.org" not in json.dumps(docs[0])
    ident = docs[0]["credentialSubject"]["identifier"][0]
    assert ident["hashed"] is True and ident["identityHash"].startswith("sha256$")


def test_one_changed_character_in_the_subject(issuer, chain, anchored):
    doc = copy.deepcopy(anchored[0][0])
    doc["credentialSubject"]["result"][0]["value"] = "95"  # was 85
    report = issuer.verify(doc, chain)
    assert failed_at(report) == (
        "signature",
        "signature does not match: the credential or its proof was changed after signing, "
        "or another key signed it",
    )
    assert "changed after anchoring" in report.step("merkle").message


def test_a_proof_by_another_key(issuer, chain, anchored):
    doc = copy.deepcopy(anchored[0][0])
    # The issuer's key id in the proof, another key's signature.
    forged = sign_credential(doc, issuer.key_id, Ed25519PrivateKey.generate(), ISSUED)
    doc["proof"] = [forged.document["proof"][0], doc["proof"][1]]
    assert failed_at(issuer.verify(doc, chain))[0] == "signature"
    # A key of the forger's own, named in the proof, is not one of the issuer's.
    other = sign_credential(doc, "https://forger.example/i#k", Ed25519PrivateKey.generate(), ISSUED)
    doc["proof"] = [other.document["proof"][0], doc["proof"][1]]
    assert failed_at(issuer.verify(doc, chain)) == (
        "signature",
        "signed by https://forger.example/i#k, which is not a key of issuer "
        "https://academy.example/issuer",
    )


def test_a_key_used_outside_its_validity_window(issuer, chain):
    # key-1 was rotated out: key-2 takes over 10 days before the certificate is signed.
    issuer.add_key("key-2", ISSUED - timedelta(days=10))
    issuer.profile.expire_key(issuer.key_id, ISSUED - timedelta(days=10))
    signed = issuer.sign(issuer.credential("late@example.org"))  # still by key-1
    docs, _ = issuer.anchor(chain, [signed])
    mine(chain)
    name, message = failed_at(issuer.verify(docs[0], chain))
    assert name == "issuer_key"
    assert "outside its window: key https://academy.example/issuer#key-1 expired on" in message
    # Before the rotation the same key was fine, and what it signed then still verifies.
    early = issuer.sign(issuer.credential("early@example.org"), at=ISSUED - timedelta(days=20))
    docs, _ = issuer.anchor(chain, [early])
    mine(chain)
    assert issuer.verify(docs[0], chain).ok
    # A key used before its window opens.
    key3 = issuer.add_key("key-3", ISSUED + timedelta(days=5))
    docs, _ = issuer.anchor(chain, [issuer.sign(issuer.credential("x@example.org"), key3)])
    mine(chain)
    assert "is valid from" in failed_at(issuer.verify(docs[0], chain))[1]


def test_a_compromised_key_is_only_trusted_where_the_anchor_predates_the_revocation(
    issuer, chain, anchored
):
    docs, _ = anchored
    issuer.add_key("key-2", ISSUED + timedelta(days=2))  # signs the status lists from then on
    # Revoked after the anchor's block: the certificate signed and anchored before stays valid.
    issuer.profile.revoke_key(issuer.key_id, ISSUED + timedelta(days=400), "laptop stolen")
    assert issuer.verify(docs[0], chain).ok
    # Revoked before the anchor's block (the thief backdated the signature): refused.
    issuer.profile.revoke_key(issuer.key_id, ISSUED + timedelta(days=2), "laptop stolen")
    name, message = failed_at(issuer.verify(docs[0], chain))
    assert name == "issuer_key" and "the anchor is dated" in message


def test_only_the_issuers_own_anchor_dates_a_revoked_keys_signature(issuer, chain):
    issuer.add_key("key-2", ISSUED + timedelta(days=2))
    signed = [issuer.sign(issuer.credential("t@example.org"))]
    docs, _ = issuer.anchor(chain, signed, key=OUTSIDER_KEY)  # the thief anchors it himself
    mine(chain)
    issuer.profile.revoke_key(issuer.key_id, ISSUED + timedelta(days=400), "laptop stolen")
    report = issuer.verify(docs[0], chain)
    assert report.step("issuer_key").message.endswith(
        "no valid anchor proves this signature came before"
    )
    assert not report.step("issuing_address").ok


def test_a_wrong_merkle_path(issuer, chain, anchored):
    doc = copy.deepcopy(anchored[0][0])
    proof, receipt = _receipt(doc)
    ((side, value),) = receipt["path"][0].items()
    receipt["path"][0] = {side: ("00" if value[:2] != "00" else "11") + value[2:]}
    proof["proofValue"] = merkleproof2019.encode_receipt(receipt)
    name, message = failed_at(issuer.verify(doc, chain))
    assert name == "merkle" and message.startswith("the Merkle path leads to")
    assert issuer.verify(doc, chain).step("signature").ok  # the other proof still holds


def test_a_root_absent_from_the_transaction(issuer, chain, anchored):
    doc = copy.deepcopy(anchored[0][0])
    proof, receipt = _receipt(doc)
    other_tx = chain.get_block(chain.get_block_hash(3)).txs[0].txid_hex  # a coinbase
    receipt["anchors"] = [f"blink:lune:regtest:{other_tx}"]
    proof["proofValue"] = merkleproof2019.encode_receipt(receipt)
    name, message = failed_at(issuer.verify(doc, chain))
    assert name == "anchor"
    assert message.endswith(f"is not in an OP_RETURN output of transaction {other_tx}")


def test_a_malformed_anchor_txid_is_a_failed_step(issuer, chain, anchored):
    doc = copy.deepcopy(anchored[0][0])
    proof, receipt = _receipt(doc)
    receipt["anchors"] = ["blink:lune:regtest:abcd"]
    proof["proofValue"] = merkleproof2019.encode_receipt(receipt)
    assert failed_at(issuer.verify(doc, chain)) == (
        "anchor",
        "anchor txid 'abcd' is not 32 bytes of hex",
    )


def test_a_transaction_reorganised_away_then_mined_again(issuer, chain, anchored):
    from sandbox_chain import miner
    from sandbox_chain.block import merkle_root

    docs, txid = anchored
    assert issuer.verify(docs[0], chain).ok
    # A longer branch from the anchor block's parent, without the anchor transaction.
    parent = chain.get_header_info(chain.tip).prev_hash
    for i in range(2):
        info = chain.get_header_info(parent)
        block = miner.create_block_template(chain, OUTSIDER_SPK, extra_txs=[])
        block.txs[0] = miner.coinbase_transaction(
            info.height + 1, block.txs[0].vout[0].script_pubkey, 50 * 10**8, extranonce=77 + i
        )
        block.header.prev_hash = parent
        block.header.time = info.time + 1
        block.header.bits = chain.next_bits(parent, block.header.time)
        block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
        block = miner.solve_block(block, chain)
        chain.submit_block(block)
        parent = block.hash()
    assert chain.tip == parent  # the reorganisation happened
    name, message = failed_at(issuer.verify(docs[0], chain))
    assert name == "best_chain"
    assert message.startswith(f"transaction {txid} is not in a block of the best chain")
    # The transaction went back to the mempool; the next block holds it again: valid again.
    mine(chain)
    assert issuer.verify(docs[0], chain).ok


def test_a_transaction_paid_by_another_address(issuer, chain):
    signed = [issuer.sign(issuer.credential("a@example.org"))]
    docs, _ = issuer.anchor(chain, signed, key=OUTSIDER_KEY)
    mine(chain)
    name, message = failed_at(issuer.verify(docs[0], chain))
    outsider = OUTSIDER_KEY.public_key().address(chain.params)
    assert (name, message) == (
        "issuing_address",
        f"paid by {outsider}, which is not an issuing address of https://academy.example/issuer",
    )


def test_revoked(issuer, chain, anchored):
    docs, _ = anchored
    index = int(docs[2]["credentialStatus"][0]["statusListIndex"])
    event = issuer.registry.revoke(index, "exam fraud", ISSUED + timedelta(days=3))
    name, message = failed_at(issuer.verify(docs[2], chain, at=ISSUED + timedelta(days=4)))
    assert (name, message) == ("status", f"revoked since {event.time} (status list version 1)")
    assert issuer.verify(docs[1], chain).ok  # the others of the batch are not affected


def test_suspended_then_reinstated(issuer, chain, anchored):
    docs, _ = anchored
    index = int(docs[0]["credentialStatus"][1]["statusListIndex"])
    issuer.registry.suspend(index, "under review", ISSUED + timedelta(days=2))
    name, message = failed_at(issuer.verify(docs[0], chain))
    assert name == "status" and message.startswith("suspended since")
    issuer.registry.reinstate(index, "review cleared", ISSUED + timedelta(days=3))
    report = issuer.verify(docs[0], chain)
    assert report.ok and "neither revoked nor suspended" in report.step("status").message


def test_a_forged_status_list_is_refused(issuer, chain, anchored):
    docs, _ = anchored
    resolver = issuer.resolver()
    forged = StatusRegistry("https://academy.example/status", format_time(START))

    lst = forged.list_credential(
        "revocation", "https://academy.example/issuer", issuer.key_id, Ed25519PrivateKey.generate()
    )
    resolver.pin(lst)
    report = Verifier(
        profile=issuer.profile, chain=LocalSource(chain), resolver=resolver, at=ISSUED
    ).verify(docs[0])
    assert failed_at(report)[0] == "status"
    assert "signature does not match" in report.step("status").message


def test_expired_and_not_yet_valid(issuer, chain):
    from dataclasses import replace

    from credkit import ACHIEVEMENT

    yearly = replace(ACHIEVEMENT, valid_for_days=365)
    doc = issuer.credential("e@example.org", achievement=yearly)
    assert doc["validUntil"] == format_time(ISSUED + timedelta(days=365))
    docs, _ = issuer.anchor(chain, [issuer.sign(doc)])
    mine(chain)
    assert issuer.verify(docs[0], chain, at=ISSUED + timedelta(days=364)).ok
    assert failed_at(issuer.verify(docs[0], chain, at=ISSUED + timedelta(days=366))) == (
        "validity",
        f"expired on {doc['validUntil']}",
    )
    assert failed_at(issuer.verify(docs[0], chain, at=ISSUED - timedelta(days=1))) == (
        "validity",
        f"not yet valid: valid from {doc['validFrom']}",
    )


def test_an_unknown_remote_context(issuer, chain, anchored):
    doc = copy.deepcopy(anchored[0][0])
    doc["@context"].append("https://w3id.org/blockcerts/v3")
    report = issuer.verify(doc, chain)
    name, message = failed_at(report)
    assert name == "json"
    assert message.startswith("unknown remote context 'https://w3id.org/blockcerts/v3'")
    assert all(not s.ok for s in report.steps)


def test_malformed_json(issuer, chain):
    report = issuer.verify(b'{"@context": [', chain)
    name, message = failed_at(report)
    assert name == "json" and message.startswith("malformed JSON:")
    assert failed_at(issuer.verify(b"[1, 2]", chain))[1] == (
        "malformed credential: the JSON is not an object"
    )


def test_each_proof_verifies_on_its_own(issuer, chain, anchored):
    docs, _ = anchored
    only_signature = docs[0] | {"proof": [docs[0]["proof"][0]]}
    report = issuer.verify(only_signature, chain)
    assert report.step("signature").ok and report.step("issuer_key").ok
    assert failed_at(report) == ("merkle", "no merkle-proof-2019 proof")
    only_anchor = docs[0] | {"proof": [docs[0]["proof"][1]]}
    report = issuer.verify(only_anchor, chain)
    assert [s.name for s in report.steps if not s.ok] == ["signature", "issuer_key"]


def test_without_a_node_the_chain_steps_fail(issuer, anchored):
    report = issuer.verify(anchored[0][0], None)
    assert [s.name for s in report.steps if not s.ok] == [
        "anchor", "best_chain", "issuing_address",
    ]  # fmt: skip
    assert "no sandbox node" in report.step("anchor").message


def test_unconfirmed_anchor_and_confirmation_threshold(issuer, chain):
    signed = [issuer.sign(issuer.credential("u@example.org"))]
    docs, txid = issuer.anchor(chain, signed)
    name, message = failed_at(issuer.verify(docs[0], chain))
    assert name == "best_chain" and "unconfirmed" in message
    mine(chain)
    strict = Verifier(
        profile=issuer.profile,
        chain=LocalSource(chain),
        resolver=issuer.resolver(),
        at=ISSUED,
        min_confirmations=3,
    )
    assert failed_at(strict.verify(docs[0]))[1].endswith("1 confirmations, 3 required")


def test_re_anchoring_a_batch_gives_valid_proofs(issuer, chain):
    # A batch whose transaction was lost (never mined, dropped) is anchored again: the new
    # merkle-proof-2019 proof replaces the old one and the signature is untouched.
    signed = [issuer.sign(issuer.credential(f"r{i}@example.org")) for i in range(2)]
    root, paths = merkle_paths([s.target_hash for s in signed])
    built = anchor_root(LocalSource(chain), root, ADDRESS_KEY)
    mine(chain)
    docs = attach_anchor(signed, built.txid, "regtest", root, paths, "k", ISSUED)
    again = attach_anchor(
        [type(signed[0])(docs[0], signed[0].target_hash)],
        built.txid,
        "regtest",
        root,
        paths[:1],
        "k",
        ISSUED,
    )
    assert len(again[0]["proof"]) == 2
    assert issuer.verify(again[0], chain).ok


def _leaf_paths(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaf_paths(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _leaf_paths(value, (*path, n))
    else:
        yield path


def test_any_changed_field_fails_and_nothing_raises(issuer, chain, anchored):
    doc = anchored[0][0]
    body = {k: v for k, v in doc.items() if k != "proof"}
    count = 0
    for path in _leaf_paths(body):
        for value in ("x", None, [1]):
            changed = copy.deepcopy(doc)
            node = changed
            for key in path[:-1]:
                node = node[key]
            if node[path[-1]] == value:
                continue
            node[path[-1]] = value
            report = issuer.verify(changed, chain)  # a report, never an exception
            assert not report.ok, f"{path} = {value!r} still verifies"
            count += 1
    assert count > 100
    # Garbage in the proofs is reported too, never raised.
    for proof_value in (None, 5, "x", {"a": 1}, [None]):
        changed = copy.deepcopy(doc) | {"proof": proof_value}
        assert not issuer.verify(changed, chain).ok
