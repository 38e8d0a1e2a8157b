"""Certificates in the portal: issuing on success, anchoring, verifying, revoking, publishing.

The rules, over the Flask-free library `web.credentials`. The issuer's keys and profile live in
an issuer directory (`ISSUER_DIR`, default `<instance>/issuer`, made by `lune cert init`); the
certificates and the log of their status changes live in the database, and the status lists the
portal publishes at `/status/<purpose>` (every version at `/status/<purpose>/v<N>`) are rebuilt
from that log. The issuer profile is served at `/issuer`, which must be the issuer id
(`<BASE_URL>/issuer`) so verifiers can fetch it.

Erasure: a certificate row holds no personal field. Deleting an account sets its `user_id` to
NULL (the foreign key does it); the credential — the learner's own, which names them only by a
salted hash of their email — stays, so `/verify/<id>` keeps answering and the issuer can still
revoke it.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from web.credentials.chainsource import RPCSource
from web.credentials.credential import CourseAchievement, LearnerResult, build_credential
from web.credentials.errors import CredentialError
from web.credentials.issuance import SignedCredential, anchor_batch, sign_credential
from web.credentials.issuer import IssuerProfile
from web.credentials.issuerdir import IssuerConfig, IssuerDir
from web.credentials.resolver import Resolver
from web.credentials.statuslist import PURPOSES, StatusEvent, StatusRegistry
from web.credentials.timefmt import format_time, now
from web.credentials.verify import Report, Verifier
from web.errors import Conflict, Forbidden, NotFound, ServiceError, Unavailable
from web.extensions import db
from web.models import Certificate, CertificateStatusChange, Course, Enrollment, User
from web.services.accounts import password_matches
from web.services.cohorts import teaches

ACTIONS = ("revoke", "suspend", "reinstate")
MAX_UPLOAD = 256 * 1024  # a certificate is a few kB; JSON-LD work grows with the size


# --- the issuer --------------------------------------------------------------


def issuer_path() -> Path:
    """The portal's issuer directory."""
    configured = current_app.config.get("ISSUER_DIR")
    return Path(configured or Path(current_app.config["INSTANCE_PATH"]) / "issuer")


def issuer_dir() -> IssuerDir:
    """The issuer directory; 404 if nobody has set the issuer up (there is no such document yet:
    nothing is down)."""
    d = IssuerDir(issuer_path())
    if not d.config_path.exists():
        raise NotFound(
            _(
                "Certificates are not set up on this portal yet: an administrator must run "
                "`lune cert init --issuer-dir %(dir)s`.",
                dir=str(d.root),
            )
        )
    return d


def init_issuer(name: str, url: str | None = None) -> IssuerDir:
    """Create the portal's issuer: id `<BASE_URL>/issuer`, status lists at `<BASE_URL>/status`."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return IssuerDir.create(
        issuer_path(),
        issuer_id=f"{base}/issuer",
        name=name,
        url=url or base,
        status_url=f"{base}/status",
        network="regtest",
        when=now(),
    )


def _issuer() -> tuple[IssuerDir, IssuerConfig, str, Ed25519PrivateKey]:
    """(directory, config, signing key id, signing key); a damaged issuer file is a 503."""
    d = issuer_dir()
    try:
        config = d.load_config()
        key_id, key = d.keys.signing_key(config.signing_key)
    except CredentialError as exc:
        raise Unavailable(str(exc)) from None
    return d, config, key_id, key


def profile() -> IssuerProfile:
    """The issuer's public profile."""
    try:
        return issuer_dir().load_profile()
    except CredentialError as exc:
        raise Unavailable(str(exc)) from None


def registry() -> StatusRegistry:
    """The status lists as the database's log of changes makes them."""
    d, config, _key_id, _key = _issuer()
    try:
        created = d.load_registry().created
    except CredentialError as exc:
        raise Unavailable(str(exc)) from None
    rows = db.session.scalars(select(CertificateStatusChange).order_by(CertificateStatusChange.id))
    indexes = dict(db.session.execute(select(Certificate.id, Certificate.status_index)).all())
    events = [
        StatusEvent(n, format_time(r.at), r.purpose, indexes[r.certificate_id], r.value, r.reason)
        for n, r in enumerate(rows, start=1)
    ]
    top = db.session.scalar(select(func.max(Certificate.status_index)))
    return StatusRegistry(
        config.status_url, created, next_index=(top + 1) if top is not None else 0, events=events
    )


def status_list(purpose: str, version: int | None = None) -> dict[str, Any]:
    """A signed status-list credential (latest, or one version); 404 for an unknown one."""
    if purpose not in PURPOSES:
        raise NotFound(_("No such status list."))
    reg = registry()
    if version is not None and not 0 <= version <= reg.version:
        raise NotFound(_("No such version of the status list."))
    _d, config, key_id, key = _issuer()
    return reg.list_credential(purpose, config.issuer_id, key_id, key, version)


# --- issuing --------------------------------------------------------------


def _achievement(course: Course, exam: str, issuer_id: str) -> CourseAchievement:
    base = issuer_id.rsplit("/", 1)[0]
    modules = [
        (m.slug, m.title) for m in sorted(course.modules, key=lambda m: m.position) if m.active
    ]
    return CourseAchievement(
        id=f"{base}/achievements/{course.id}",
        course_id=course.id,
        name=f"{course.title} — certificate",
        description=(
            f"Awarded to a learner who completed the modules of {course.title} and passed its "
            "certification exam."
        ),
        modules=modules,
        exam=exam,
        pass_mark=int(round(course.pass_mark)),
    )


def issue(
    user: User,
    course: Course,
    exam_score: float,
    exam: str | None = None,
    course_score: float | None = None,
) -> Certificate:
    """Sign a certificate for `user` (checks done by the caller); it waits for the next anchor."""
    d, config, key_id, key = _issuer()
    prof = profile()
    when = now()
    achievement = _achievement(course, exam or f"{course.id} certification exam", config.issuer_id)
    for _attempt in range(3):  # two portal processes may take the same index: try the next
        reg = registry()
        index = reg.allocate()
        cert_id = str(uuid.uuid4())
        try:
            doc = build_credential(
                issuer=prof.embedded(),
                achievement=achievement,
                learner=LearnerResult(user.email, exam_score, course_score),
                valid_from=when,
                status=reg.entries(index),
                credential_id=f"urn:uuid:{cert_id}",
            )
            signed = sign_credential(doc, key_id, key, when)
        except CredentialError as exc:
            raise ServiceError(str(exc)) from None
        cert = Certificate(
            id=cert_id,
            user_id=user.id,
            course_id=course.id,
            status_index=index,
            credential=json.dumps(signed.document, ensure_ascii=False),
            target_hash=signed.target_hash.hex(),
            exam_score=exam_score,
            issued_at=when,
        )
        db.session.add(cert)
        try:
            db.session.commit()
            return cert
        except IntegrityError:
            db.session.rollback()
    raise Conflict(_("Could not allocate a status index; please try again."))


def on_exam_passed(
    user: User, course_id: str, exam_score: float, exam: str | None = None
) -> Certificate | None:
    """The hook the certification exam calls when `user` passed it: issue if eligible.

    Eligible means the notebooks reached the course's pass mark (`progress.eligible`). Returns the
    new certificate, the existing one if the learner already holds a valid one for the course, or
    None if not eligible.
    """
    from web.services.progress import course_progress

    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound(_("No such course."))
    held = db.session.scalars(
        select(Certificate).where(
            Certificate.user_id == user.id, Certificate.course_id == course_id
        )
    ).all()
    reg = registry()
    for cert in held:
        if not reg.state(cert.status_index)["revocation"]:
            return cert
    progress = course_progress(user, course)
    if not progress.eligible:
        return None
    return issue(user, course, exam_score, exam, course_score=progress.percent)


def _rpc_source() -> RPCSource:
    from sandbox_chain.node.client import RPCClient
    from web.services.node import NodeSettings, NodeUnavailable

    try:
        settings = NodeSettings.from_config(current_app.config)
        url, user, password = settings.endpoint()
    except (NodeUnavailable, ValueError) as exc:
        raise Unavailable(_("The sandbox node is not reachable: %(why)s", why=str(exc))) from None
    return RPCSource(RPCClient(url, user, password, timeout=settings.timeout))


def pending() -> list[Certificate]:
    """Certificates signed but not yet anchored."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.anchor_txid.is_(None))
            .order_by(Certificate.issued_at)
        )
    )


def anchor_pending() -> tuple[str, int]:
    """Anchor every waiting certificate in one transaction: (txid, how many)."""
    waiting = pending()
    if not waiting:
        raise ServiceError(_("No certificate is waiting for an anchor."))
    d, config, _key_id, _key = _issuer()
    try:
        address, network, key = d.keys.address_key(config.address_key)
    except CredentialError as exc:
        raise Unavailable(str(exc)) from None
    signed = [
        SignedCredential(json.loads(c.credential), bytes.fromhex(c.target_hash)) for c in waiting
    ]
    source = _rpc_source()
    source.network = network
    when = now()
    try:
        docs, built, _paths = anchor_batch(
            signed, source, key, f"{config.issuer_id}#{address}", when
        )
    except CredentialError as exc:
        raise Unavailable(str(exc)) from None
    finally:
        source.client.close()
    d.save_batch(
        {
            "txid": built.txid,
            "network": network,
            "root": built.root.hex(),
            "raw": built.tx.serialize().hex(),
            "fee": built.fee,
            "created": format_time(when),
            "credentials": [doc["id"] for doc in docs],
        }
    )
    for cert, doc in zip(waiting, docs, strict=True):
        cert.credential = json.dumps(doc, ensure_ascii=False)
        cert.anchor_txid = built.txid
        cert.anchored_at = when
    db.session.commit()
    return built.txid, len(docs)


# --- reading --------------------------------------------------------------


def get(cert_id: str) -> Certificate:
    """A certificate by id (404 if unknown)."""
    cert = db.session.get(Certificate, cert_id) if len(cert_id) <= 36 else None
    if cert is None:
        raise NotFound(_("No certificate has this id."))
    return cert


def can_manage(actor: User, cert: Certificate) -> bool:
    """Admins, and instructors of the cohort the learner took the course in."""
    if actor.is_admin:
        return True
    if not actor.is_instructor or cert.user_id is None:
        return False
    enrollment = db.session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == cert.user_id, Enrollment.course_id == cert.course_id
        )
    )
    return enrollment is not None and teaches(actor, enrollment.cohort)


def for_viewer(viewer: User, cert_id: str) -> Certificate:
    """The certificate page: its learner and those who manage it; 404 for everybody else."""
    cert = get(cert_id)
    if cert.user_id != viewer.id and not can_manage(viewer, cert):
        raise NotFound(_("No certificate has this id."))
    return cert


def of_learner(user: User) -> list[Certificate]:
    """A learner's certificates, newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.issued_at.desc())
        )
    )


def managed_by(actor: User, cohort_id: int | None = None) -> list[Certificate]:
    """Certificates an instructor (their cohorts) or an admin (all) sees on the dashboard,
    optionally only those of the learners of one cohort."""
    if not actor.is_instructor:
        raise Forbidden(_("Only instructors can see issued certificates."))
    query = select(Certificate).order_by(Certificate.issued_at.desc())
    if cohort_id is not None:
        query = query.join(
            Enrollment,
            (Enrollment.user_id == Certificate.user_id)
            & (Enrollment.course_id == Certificate.course_id),
        ).where(Enrollment.cohort_id == cohort_id)
    return [c for c in db.session.scalars(query) if can_manage(actor, c)]


def learner_name(cert: Certificate) -> str | None:
    """The learner's name for those who manage the certificate; None once the account is gone."""
    user = db.session.get(User, cert.user_id) if cert.user_id is not None else None
    return user.name if user is not None else None


def state(cert: Certificate, reg: StatusRegistry | None = None) -> str:
    """ "valid", "suspended" or "revoked" as the issuer's lists say."""
    bits = (reg or registry()).state(cert.status_index)
    if bits["revocation"]:
        return "revoked"
    return "suspended" if bits["suspension"] else "valid"


# --- verifying --------------------------------------------------------------


def _resolver() -> Resolver:
    _d, config, key_id, key = _issuer()
    reg = registry()
    prefix = config.status_url.rstrip("/") + "/"
    cache: dict[str, dict[str, Any]] = {}

    def lookup(url: str) -> dict[str, Any] | None:
        if not url.startswith(prefix):
            return None
        purpose, _sep, version = url[len(prefix) :].partition("/v")
        if purpose not in PURPOSES:
            return None
        try:
            number = int(version) if version else None
        except ValueError:
            return None
        if number is not None and not 0 <= number <= reg.version:
            return None
        if url not in cache:
            cache[url] = reg.list_credential(purpose, config.issuer_id, key_id, key, number)
        return cache[url]

    return Resolver(lookup=lookup)


def verify(data: bytes | str | dict[str, Any]) -> Report:
    """Verify a certificate against this portal's issuer and the sandbox node."""
    if isinstance(data, bytes | str) and len(data) > MAX_UPLOAD:
        raise ServiceError(_("A certificate file is at most 256 kB."), 413)
    try:
        source: RPCSource | None = _rpc_source()
    except Unavailable:
        source = None  # the chain steps then say that no node could be asked
    try:
        verifier = Verifier(profile=profile(), chain=source, resolver=_resolver())
        return verifier.verify(data)
    finally:
        if source is not None:
            source.client.close()


# --- status changes --------------------------------------------------------------


def change_status(
    actor: User, cert_id: str, action: str, reason: str, password: str
) -> CertificateStatusChange:
    """Revoke, suspend or reinstate, by someone who manages the certificate and re-enters their
    password; a new version of the status lists."""
    cert = get(cert_id)
    if not can_manage(actor, cert):
        raise NotFound(_("No certificate has this id."))
    if action not in ACTIONS:
        raise ServiceError(_("Unknown action."))
    if not reason.strip():
        raise ServiceError(_("Give a reason."))
    if not password_matches(actor, password):
        raise Forbidden(_("The password is not right."))
    reg = registry()
    try:
        event = getattr(reg, action)(cert.status_index, reason, now(), actor.email)
    except CredentialError as exc:
        raise Conflict(str(exc)) from None
    change = CertificateStatusChange(
        certificate_id=cert.id,
        purpose=event.purpose,
        value=event.value,
        reason=event.reason,
        actor_id=actor.id,
        at=datetime.fromisoformat(event.time.replace("Z", "+00:00")),
    )
    db.session.add(change)
    db.session.commit()
    return change


def qr_svg(url: str) -> str:
    """An SVG QR code for `url` (segno), to inline in the page."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff")
