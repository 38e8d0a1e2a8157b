"""Verifying a Lune certificate, step by step, trusting nobody: not us, not the node.

Each step says ✓ or ✗ and, when it fails, what failed. The certificate is valid only when every
step holds:

1. JSON and contexts — the file is JSON, an OpenBadgeCredential with the VC 2.0 and OB 3.0.3
   contexts, and every term is defined (nothing unsigned hides in it);
2. signature — the `eddsa-rdfc-2022` proof verifies with the key its `verificationMethod` names;
3. issuer key — that key is one of the issuer's assertion keys and was valid when it signed (for a
   key revoked since, only if the anchor proves the signature came before the revocation);
4. Merkle proof — the credential's hash is the proof's `targetHash`, and its path leads to the root;
5. anchor — the root is in an OP_RETURN output of the transaction the anchor names;
6. best chain — that transaction is in a block of the node's best chain, with enough confirmations;
7. issuing address — every input of that transaction spends from the issuer's issuing address;
8. status — the issuer's signed status lists neither revoke nor suspend it;
9. validity window — now is within `validFrom` … `validUntil`.

Steps 2–3 and 4–7 are the two proofs; each verifies on its own (a proof set). Verifying one
certificate needs nothing of the other certificates of its batch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox_chain.errors import ChainError

from . import eddsa, merkleproof2019
from .anchor import address_of_script, op_return_payloads
from .chainsource import ChainSource
from .credential import subject_matches_email
from .errors import CredentialError, DocumentError
from .issuer import IssuerProfile
from .jsonld import OB_V3, VC_V2, canonicalize
from .merkle import root_from_path
from .resolver import Resolver
from .statuslist import bit_at, decode_bits, list_version
from .timefmt import format_time, now, parse_time

MAX_BYTES = 1 << 20
STEPS = (
    ("json", "JSON and contexts"),
    ("signature", "Signature (eddsa-rdfc-2022)"),
    ("issuer_key", "Issuer key"),
    ("merkle", "Merkle proof (merkle-proof-2019)"),
    ("anchor", "Anchor transaction"),
    ("best_chain", "Best chain"),
    ("issuing_address", "Issuing address"),
    ("status", "Status"),
    ("validity", "Validity window"),
)
TITLES = dict(STEPS) | {"recipient": "Recipient"}
MAX_VERSION_WALK = 1000


@dataclass
class Step:
    """One verification step's outcome."""

    name: str
    ok: bool
    message: str

    @property
    def title(self) -> str:
        """The step's human name."""
        return TITLES.get(self.name, self.name)

    def line(self) -> str:
        """`✓ Title: message`."""
        return f"{'✓' if self.ok else '✗'} {self.title}: {self.message}"


@dataclass
class Report:
    """Every step of one verification."""

    steps: list[Step] = field(default_factory=list)
    credential: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True only when every step holds."""
        return bool(self.steps) and all(s.ok for s in self.steps)

    def step(self, name: str) -> Step:
        """The step called `name`."""
        return next(s for s in self.steps if s.name == name)

    def first_failure(self) -> Step | None:
        """The first step that failed, if any."""
        return next((s for s in self.steps if not s.ok), None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable form (the CLI's --json, the portal's API)."""
        return {
            "valid": self.ok,
            "id": (self.credential or {}).get("id"),
            "steps": [{"name": s.name, "ok": s.ok, "message": s.message} for s in self.steps],
        }


@dataclass
class _Anchored:
    block_time: datetime | None = None


class Verifier:
    """Verifies certificates of one issuer (its profile given, or found through `resolver`).

    `chain` answers the chain steps (a node by REST or RPC, or an in-process chain); without it
    those steps fail, since nothing else can prove the anchor. `at` fixes "now" (tests, or
    "was it valid on…"); `email` adds a check that the certificate names that learner.
    """

    def __init__(
        self,
        *,
        profile: IssuerProfile | None = None,
        chain: ChainSource | None = None,
        resolver: Resolver | None = None,
        min_confirmations: int = 1,
        at: datetime | None = None,
    ) -> None:
        self.profile = profile
        self.chain = chain
        self.resolver = resolver or Resolver()
        self.min_confirmations = min_confirmations
        self.at = at
        self._lists: dict[str, dict[str, Any]] = {}

    # --- entry point -----------------------------------------------------------------------

    def verify(self, data: bytes | str | dict[str, Any], email: str | None = None) -> Report:
        """Verify one certificate (raw JSON bytes or text, or an already-parsed object)."""
        report = Report()
        try:
            doc, canon = self._read(data)
        except CredentialError as exc:
            report.steps.append(Step("json", False, str(exc)))
            for name, _ in STEPS[1:]:
                report.steps.append(Step(name, False, "not checked: the credential is unreadable"))
            return report
        report.credential = doc
        report.steps.append(
            Step("json", True, f"{doc.get('id')} is an OpenBadgeCredential; every term is defined")
        )
        profile, profile_problem = self._profile(doc)
        eddsa_proof, merkle_proof, proof_problem = self._split_proofs(doc)
        signature = self._signature(doc, canon, profile, profile_problem, eddsa_proof)
        anchored = _Anchored()
        merkle, receipt = self._merkle(doc, canon, merkle_proof, proof_problem)
        chain_steps = self._chain_steps(receipt, profile, profile_problem, anchored)
        key_step = self._issuer_key(doc, profile, profile_problem, eddsa_proof, anchored, signature)
        report.steps += [signature, key_step, merkle, *chain_steps]
        report.steps.append(self._status(doc, profile, profile_problem))
        report.steps.append(self._validity(doc))
        if email is not None:
            match = subject_matches_email(doc, email)
            report.steps.append(
                Step(
                    "recipient",
                    match,
                    f"issued to {email}" if match else f"not issued to {email}",
                )
            )
        return report

    # --- step 1 ------------------------------------------------------------------------------

    def _read(self, data: bytes | str | dict[str, Any]) -> tuple[dict[str, Any], str]:
        if isinstance(data, dict):
            doc = data
        else:
            raw = data.encode("utf-8") if isinstance(data, str) else data
            if len(raw) > MAX_BYTES:
                raise DocumentError(f"a credential is at most {MAX_BYTES} bytes")
            try:
                doc = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                raise DocumentError(f"malformed JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise DocumentError("malformed credential: the JSON is not an object")
        ctx = doc.get("@context")
        if not isinstance(ctx, list) or ctx[:1] != [VC_V2] or OB_V3 not in ctx:
            raise DocumentError(f"@context must list {VC_V2} first and {OB_V3}")
        types = doc.get("type")
        if not isinstance(types, list) or not {"VerifiableCredential", "OpenBadgeCredential"} <= {
            t for t in types if isinstance(t, str)
        }:
            raise DocumentError("type must include VerifiableCredential and OpenBadgeCredential")
        for name in ("id", "issuer", "validFrom", "credentialSubject"):
            if name not in doc:
                raise DocumentError(f"the credential has no {name}")
        canon = canonicalize(eddsa.unsecured(doc))
        return doc, canon

    # --- the issuer --------------------------------------------------------------------------

    @staticmethod
    def _issuer_id(doc: dict[str, Any]) -> str | None:
        issuer = doc.get("issuer")
        value = issuer.get("id") if isinstance(issuer, dict) else issuer
        return value if isinstance(value, str) else None

    def _profile(self, doc: dict[str, Any]) -> tuple[IssuerProfile | None, str | None]:
        issuer_id = self._issuer_id(doc)
        if issuer_id is None:
            return None, "the credential names no issuer id"
        profile = self.profile
        if profile is None:
            try:
                profile = IssuerProfile(self.resolver.get(issuer_id))
            except CredentialError as exc:
                return None, f"issuer profile unavailable: {exc}"
        if profile.id != issuer_id:
            return None, f"the issuer profile is {profile.id}, the credential names {issuer_id}"
        return profile, None

    @staticmethod
    def _split_proofs(
        doc: dict[str, Any],
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
        proofs = doc.get("proof")
        if proofs is None:
            return None, None, "the credential has no proof"
        proofs = proofs if isinstance(proofs, list) else [proofs]
        by_suite: dict[str, dict[str, Any]] = {}
        for p in proofs:
            if isinstance(p, dict) and isinstance(p.get("cryptosuite"), str):
                by_suite.setdefault(p["cryptosuite"], p)
        return by_suite.get(eddsa.CRYPTOSUITE), by_suite.get(merkleproof2019.CRYPTOSUITE), None

    # --- steps 2 and 3: the signature ---------------------------------------------------------

    def _signature(
        self,
        doc: dict[str, Any],
        canon: str,
        profile: IssuerProfile | None,
        profile_problem: str | None,
        proof: dict[str, Any] | None,
    ) -> Step:
        if proof is None:
            return Step("signature", False, f"no {eddsa.CRYPTOSUITE} proof")
        if profile is None:
            return Step("signature", False, f"cannot check: {profile_problem}")
        vm = proof.get("verificationMethod")
        key = profile.key(vm) if isinstance(vm, str) else None
        if key is None:
            return Step(
                "signature", False, f"signed by {vm}, which is not a key of issuer {profile.id}"
            )
        try:
            eddsa.verify_proof(doc, proof, key.public_key, document_canon=canon)
        except CredentialError as exc:
            return Step("signature", False, str(exc))
        return Step("signature", True, f"valid signature by {vm}")

    def _issuer_key(
        self,
        doc: dict[str, Any],
        profile: IssuerProfile | None,
        profile_problem: str | None,
        proof: dict[str, Any] | None,
        anchored: _Anchored,
        signature: Step,
    ) -> Step:
        if proof is None or profile is None:
            return Step("issuer_key", False, f"cannot check: {profile_problem or 'no signature'}")
        vm = proof.get("verificationMethod")
        key = profile.key(vm) if isinstance(vm, str) else None
        if key is None:
            return Step("issuer_key", False, f"{vm} is not an assertion key of {profile.id}")
        if not signature.ok:
            return Step("issuer_key", False, "not checked: the signature does not verify")
        try:
            created = parse_time(proof.get("created"), "proof created")
        except CredentialError as exc:
            return Step("issuer_key", False, str(exc))
        problem = key.problem_at(created)
        if problem:
            return Step(
                "issuer_key",
                False,
                f"signed on {format_time(created)}, outside its window: {problem}",
            )
        if key.revoked is not None:
            # A compromised key can sign with any date: only the chain can date the signature.
            if anchored.block_time is None:
                return Step(
                    "issuer_key",
                    False,
                    f"key {key.id} was revoked on {format_time(key.revoked)} and no valid anchor "
                    "proves this signature came before",
                )
            if anchored.block_time >= key.revoked:
                return Step(
                    "issuer_key",
                    False,
                    f"key {key.id} was revoked on {format_time(key.revoked)}; the anchor is "
                    f"dated {format_time(anchored.block_time)}",
                )
        return Step(
            "issuer_key",
            True,
            f"{key.id} belongs to {profile.id} and was valid on {format_time(created)}",
        )

    # --- steps 4 to 7: the anchor ---------------------------------------------------------------

    def _merkle(
        self, doc: dict[str, Any], canon: str, proof: dict[str, Any] | None, problem: str | None
    ) -> tuple[Step, dict[str, Any] | None]:
        if proof is None:
            return Step("merkle", False, problem or f"no {merkleproof2019.CRYPTOSUITE} proof"), None
        try:
            receipt = merkleproof2019.decode_receipt(proof.get("proofValue"))
            target = hashlib.sha256(canon.encode("utf-8")).hexdigest()
            if receipt["targetHash"] != target:
                return Step(
                    "merkle",
                    False,
                    f"the credential's hash {target[:16]}… is not the proof's targetHash "
                    f"{receipt['targetHash'][:16]}…: it was changed after anchoring",
                ), None
            root = root_from_path(bytes.fromhex(target), receipt["path"])
        except CredentialError as exc:
            return Step("merkle", False, str(exc)), None
        if root.hex() != receipt["merkleRoot"]:
            return Step(
                "merkle",
                False,
                f"the Merkle path leads to {root.hex()[:16]}…, not to the root "
                f"{receipt['merkleRoot'][:16]}…",
            ), None
        return Step(
            "merkle", True, f"path of {len(receipt['path'])} steps leads to {root.hex()}"
        ), receipt

    def _chain_steps(
        self,
        receipt: dict[str, Any] | None,
        profile: IssuerProfile | None,
        profile_problem: str | None,
        anchored: _Anchored,
    ) -> list[Step]:
        names = ("anchor", "best_chain", "issuing_address")
        if receipt is None:
            return [Step(n, False, "not checked: no valid Merkle proof") for n in names]
        if self.chain is None:
            return [
                Step(n, False, "not checked: no sandbox node to ask (give --node)") for n in names
            ]
        try:
            return self._ask_chain(receipt, profile, profile_problem, anchored)
        except (CredentialError, ChainError, ValueError) as exc:
            done = [Step(n, False, f"chain lookup failed: {exc}") for n in names]
            return done

    def _ask_chain(
        self,
        receipt: dict[str, Any],
        profile: IssuerProfile | None,
        profile_problem: str | None,
        anchored: _Anchored,
    ) -> list[Step]:
        chain = self.chain
        assert chain is not None
        anchors = []
        for text in receipt["anchors"]:
            try:
                anchors.append(merkleproof2019.Anchor.parse(text))
            except CredentialError:
                continue
        ours = [a for a in anchors if a.chain == merkleproof2019.SANDBOX_CHAIN]
        if not ours:
            return [
                Step("anchor", False, "no anchor on the Lune sandbox chain"),
                Step("best_chain", False, "not checked: no anchor"),
                Step("issuing_address", False, "not checked: no anchor"),
            ]
        anchor = ours[0]
        if len(anchor.txid) != 64:
            msg = f"anchor txid {anchor.txid!r} is not 32 bytes of hex"
            return [Step(n, False, msg) for n in ("anchor", "best_chain", "issuing_address")]
        if anchor.network != chain.network:
            msg = f"anchored on {anchor.network}, the node runs {chain.network}"
            return [Step(n, False, msg) for n in ("anchor", "best_chain", "issuing_address")]
        got = chain.transaction(anchor.txid)
        if got is None:
            return [
                Step("anchor", False, f"transaction {anchor.txid} is not on the chain"),
                Step("best_chain", False, "not checked: transaction not found"),
                Step("issuing_address", False, "not checked: transaction not found"),
            ]
        tx, block_hash = got
        root = bytes.fromhex(receipt["merkleRoot"])
        if tx.txid_hex != anchor.txid:
            anchor_step = Step(
                "anchor", False, f"the node returned another transaction for {anchor.txid}"
            )
        elif root in op_return_payloads(tx):
            anchor_step = Step(
                "anchor", True, f"root {root.hex()[:16]}… is in an OP_RETURN of {anchor.txid}"
            )
        else:
            anchor_step = Step(
                "anchor",
                False,
                f"the Merkle root {root.hex()[:16]}… is not in an OP_RETURN output of "
                f"transaction {anchor.txid}",
            )
        best = self._best_chain(anchor.txid, block_hash, anchored)
        paid = self._paid_by_issuer(tx, profile, profile_problem, anchored, chain)
        if not (anchor_step.ok and paid.ok):
            # Only an anchor the issuer paid for dates the signature (see `_issuer_key`).
            anchored.block_time = None
        return [anchor_step, best, paid]

    def _best_chain(self, txid: str, block_hash: str | None, anchored: _Anchored) -> Step:
        chain = self.chain
        assert chain is not None
        if block_hash is None:
            return Step(
                "best_chain",
                False,
                f"transaction {txid} is not in a block of the best chain (unconfirmed: not yet "
                "mined, or its block was reorganised away)",
            )
        block = chain.block(block_hash)
        if block is None or block.confirmations < 1:
            return Step("best_chain", False, f"block {block_hash} is not on the best chain")
        if txid not in block.txids:
            return Step("best_chain", False, f"block {block_hash} does not contain {txid}")
        if block.confirmations < self.min_confirmations:
            return Step(
                "best_chain",
                False,
                f"in block {block.height} with {block.confirmations} confirmations, "
                f"{self.min_confirmations} required",
            )
        anchored.block_time = datetime.fromtimestamp(block.time, tz=now().tzinfo)
        return Step(
            "best_chain",
            True,
            f"in block {block.height} ({block_hash[:16]}…) of the best chain, "
            f"{block.confirmations} confirmations, dated {format_time(anchored.block_time)}",
        )

    def _paid_by_issuer(
        self,
        tx: Any,
        profile: IssuerProfile | None,
        profile_problem: str | None,
        anchored: _Anchored,
        chain: ChainSource,
    ) -> Step:
        if profile is None:
            return Step("issuing_address", False, f"cannot check: {profile_problem}")
        payers = set()
        for txin in tx.vin:
            prev_txid = txin.prevout.txid[::-1].hex()
            prev = chain.transaction(prev_txid)
            if prev is None or txin.prevout.vout >= len(prev[0].vout):
                return Step("issuing_address", False, f"spent output {prev_txid} not found")
            script = prev[0].vout[txin.prevout.vout].script_pubkey
            payers.add(address_of_script(script, chain.network) or f"script {script.hex()[:20]}…")
        when = anchored.block_time
        for payer in sorted(payers):
            window = next(
                (a for a in profile.addresses if a.address == payer and a.network == chain.network),
                None,
            )
            if window is None:
                return Step(
                    "issuing_address",
                    False,
                    f"paid by {payer}, which is not an issuing address of {profile.id}",
                )
            problem = window.problem_at(when) if when is not None else None
            if problem:
                return Step(
                    "issuing_address", False, f"paid by {payer} at the wrong time: {problem}"
                )
        return Step("issuing_address", True, f"paid by {', '.join(sorted(payers))}, the issuer's")

    # --- step 8: status -----------------------------------------------------------------------

    def _status(
        self, doc: dict[str, Any], profile: IssuerProfile | None, profile_problem: str | None
    ) -> Step:
        entries = doc.get("credentialStatus")
        if entries is None:
            return Step("status", True, "the credential has no status list (it cannot be revoked)")
        entries = entries if isinstance(entries, list) else [entries]
        if profile is None:
            return Step("status", False, f"cannot check: {profile_problem}")
        seen = []
        for entry in entries:
            try:
                purpose, index, url = self._entry(entry)
                listed = self._list(url, purpose, profile)
                bits = decode_bits(listed["credentialSubject"]["encodedList"])
                if bit_at(bits, index):
                    since = self._since(url, purpose, index, listed, profile)
                    word = "revoked" if purpose == "revocation" else "suspended"
                    return Step("status", False, f"{word} {since}")
                seen.append(f"{purpose} list of {listed.get('validFrom')}")
            except CredentialError as exc:
                return Step("status", False, str(exc))
        return Step("status", True, f"neither revoked nor suspended ({'; '.join(seen)})")

    @staticmethod
    def _entry(entry: Any) -> tuple[str, int, str]:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            raise DocumentError("credentialStatus is not a BitstringStatusListEntry")
        try:
            index = int(entry["statusListIndex"])
            url = str(entry["statusListCredential"])
            purpose = str(entry["statusPurpose"])
        except (KeyError, ValueError, TypeError):
            raise DocumentError(
                "a status entry needs statusListIndex, statusListCredential, statusPurpose"
            ) from None
        return purpose, index, url

    def _list(self, url: str, purpose: str, profile: IssuerProfile) -> dict[str, Any]:
        if url in self._lists:
            return self._lists[url]
        listed = self.resolver.get(url)
        if "BitstringStatusListCredential" not in (listed.get("type") or []):
            raise DocumentError(f"{url} is not a BitstringStatusListCredential")
        issuer = listed.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer != profile.id:
            raise DocumentError(f"status list {url} is issued by {issuer}, not {profile.id}")
        subject = listed.get("credentialSubject") or {}
        if subject.get("statusPurpose") != purpose:
            raise DocumentError(f"status list {url} is a {subject.get('statusPurpose')} list")
        proofs = listed.get("proof")
        proof = proofs[0] if isinstance(proofs, list) and proofs else proofs
        if not isinstance(proof, dict):
            raise DocumentError(f"status list {url} is not signed")
        key = profile.key(proof.get("verificationMethod", ""))
        if key is None:
            raise DocumentError(f"status list {url} is signed by a key not of {profile.id}")
        problem = key.problem_at(parse_time(proof.get("created"), "status list proof created"))
        if problem:
            raise DocumentError(f"status list {url} was signed outside its key's window: {problem}")
        try:
            eddsa.verify_proof(listed, proof, key.public_key)
        except CredentialError as exc:
            raise DocumentError(f"status list {url}: {exc}") from None
        self._lists[url] = listed
        return listed

    def _since(
        self, url: str, purpose: str, index: int, listed: dict[str, Any], profile: IssuerProfile
    ) -> str:
        version = list_version(listed)
        since = listed.get("validFrom")
        if version is None:
            return f"(status list of {since})"
        earliest = version
        while earliest > 0 and version - earliest < MAX_VERSION_WALK:
            older_url = f"{url}/v{earliest - 1}"
            try:
                older = self._list(older_url, purpose, profile)
                bits = decode_bits(older["credentialSubject"]["encodedList"])
            except CredentialError:
                return f"since {since} at the latest (list version {earliest})"
            if not bit_at(bits, index):
                break
            earliest -= 1
            since = older.get("validFrom")
        return f"since {since} (status list version {earliest})"

    # --- step 9: validity window ------------------------------------------------------------------

    def _validity(self, doc: dict[str, Any]) -> Step:
        moment = self.at or now()
        try:
            valid_from = parse_time(doc.get("validFrom"), "validFrom")
            until = doc.get("validUntil")
            valid_until = parse_time(until, "validUntil") if until is not None else None
        except CredentialError as exc:
            return Step("validity", False, str(exc))
        if moment < valid_from:
            return Step("validity", False, f"not yet valid: valid from {format_time(valid_from)}")
        if valid_until is not None and moment >= valid_until:
            return Step("validity", False, f"expired on {format_time(valid_until)}")
        end = f" until {format_time(valid_until)}" if valid_until else " with no end date"
        return Step("validity", True, f"valid from {format_time(valid_from)}{end}")
