"""`lune cert …`: issue, anchor, verify and revoke Lune certificates from the command line.

A thin click layer over the library: `IssuerDir` keeps the issuer's files, `issuance` signs and
anchors, `verify.Verifier` checks. Library errors become one-line messages and a non-zero exit.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .errors import CredentialError, DocumentError

DEFAULT_DIR = ".lune/issuer"
DEFAULT_NODE_DATADIR = ".lune/demo/chain"


def _issuer_dir_option(f: Any) -> Any:
    return click.option(
        "--issuer-dir",
        type=click.Path(file_okay=False),
        default=lambda: os.environ.get("LUNE_ISSUER_DIR", DEFAULT_DIR),
        show_default=f"$LUNE_ISSUER_DIR or {DEFAULT_DIR}",
        help="The issuer's data directory (keys, profile, status lists, certificates).",
    )(f)


def _when(text: str | None) -> datetime:
    from .timefmt import now, parse_time

    if text is None:
        return now()
    try:
        return parse_time(text if "T" in text else f"{text}T00:00:00Z", "date")
    except DocumentError as exc:
        raise click.BadParameter(str(exc)) from None


@contextmanager
def _errors() -> Iterator[None]:
    from sandbox_chain.errors import ChainError

    try:
        yield
    except (CredentialError, ChainError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _dir(issuer_dir: str) -> Any:
    from .issuerdir import IssuerDir

    return IssuerDir(Path(issuer_dir))


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group("cert")
def cert() -> None:
    """Lune certificates: Open Badges 3.0, signed, anchored on the sandbox chain, revocable."""


# --- the issuer ------------------------------------------------------------------------------


@cert.command("init")
@_issuer_dir_option
@click.option(
    "--issuer-id", required=True, help="The issuer's id: the URL its profile is published at."
)
@click.option("--name", required=True, help="The issuer's name, as certificates show it.")
@click.option("--url", required=True, help="The issuer's home page.")
@click.option("--email", default=None, help="A contact address published in the profile.")
@click.option(
    "--status-url",
    default=None,
    help="Base URL of the status lists (default: <issuer id's site>/status).",
)
@click.option(
    "--network",
    type=click.Choice(["regtest", "classroom"]),
    default="regtest",
    show_default=True,
    help="Sandbox network of the issuing address.",
)
def init(
    issuer_dir: str,
    issuer_id: str,
    name: str,
    url: str,
    email: str | None,
    status_url: str | None,
    network: str,
) -> None:
    """Create an issuer: a signing key, an issuing address, its profile and status lists."""
    from urllib.parse import urlsplit

    from .issuerdir import IssuerDir
    from .timefmt import now

    parts = urlsplit(issuer_id)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter("the issuer id is an http(s) URL", param_hint="--issuer-id")
    status = status_url or f"{parts.scheme}://{parts.netloc}/status"
    with _errors():
        d = IssuerDir.create(
            Path(issuer_dir),
            issuer_id=issuer_id,
            name=name,
            url=url,
            status_url=status,
            network=network,
            when=now(),
            email=email,
        )
        address = d.load_profile().addresses[0].address
    click.echo(f"issuer {issuer_id} created in {issuer_dir}")
    click.echo(f"issuing address: {address}")
    click.echo(f"fund it before anchoring: lune chain faucet {address}")


@cert.command("profile")
@_issuer_dir_option
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write to a file.")
def profile_command(issuer_dir: str, output: str | None) -> None:
    """Print the public issuer profile (publish it at the issuer id)."""
    with _errors():
        doc = _dir(issuer_dir).load_profile().to_json()
    if output:
        Path(output).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"wrote {output}")
    else:
        _echo_json(doc)


@cert.group("key")
def key_group() -> None:
    """The issuer's signing keys: list, rotate, revoke."""


@key_group.command("list")
@_issuer_dir_option
def key_list(issuer_dir: str) -> None:
    """List the signing keys and their validity windows."""
    from .timefmt import format_time

    with _errors():
        d = _dir(issuer_dir)
        profile = d.load_profile()
        current = d.keys.signing_key(d.load_config().signing_key)[0]
    for k in profile.keys:
        window = f"from {format_time(k.valid_from)}"
        if k.expires:
            window += f" until {format_time(k.expires)}"
        if k.revoked:
            window += f", REVOKED from {format_time(k.revoked)} ({k.revocation_reason})"
        mark = "*" if k.id == current else " "
        click.echo(f"{mark} {k.id}  {window}")


@key_group.command("rotate")
@_issuer_dir_option
@click.option("--at", "at", default=None, help="When the new key takes over (default: now).")
def key_rotate(issuer_dir: str, at: str | None) -> None:
    """Make a new signing key; the old one expires (what it signed stays valid)."""
    from .keystore import public_bytes
    from .multibase import ed25519_multikey

    when = _when(at)
    with _errors():
        d = _dir(issuer_dir)
        config = d.load_config()
        profile = d.load_profile()
        old_id, _ = d.keys.signing_key(config.signing_key)
        config.key_counter += 1
        name = f"key-{config.key_counter}"
        key_id = f"{config.issuer_id}#{name}"
        key = d.keys.create_signing_key(name, key_id)
        profile.add_key(key_id, ed25519_multikey(public_bytes(key)), when)
        old = profile.key(old_id)
        if old is not None and old.expires is None:
            profile.expire_key(old_id, when)
        config.signing_key = name
        d.save_profile(profile)
        d.save_config(config)
    click.echo(f"new signing key {key_id}; {old_id} expires {when.isoformat()}")
    click.echo("publish the updated profile (lune cert profile --output …)")


@key_group.command("revoke")
@_issuer_dir_option
@click.argument("key_id")
@click.option("--since", required=True, help="Date from which the key is compromised.")
@click.option("--reason", required=True, help="Why (published in the profile).")
def key_revoke(issuer_dir: str, key_id: str, since: str, reason: str) -> None:
    """Mark a key compromised from a date: signatures dated after it, or not anchored before it,
    are refused."""
    when = _when(since)
    with _errors():
        d = _dir(issuer_dir)
        profile = d.load_profile()
        config = d.load_config()
        if "#" not in key_id:
            key_id = f"{config.issuer_id}#{key_id}"
        profile.revoke_key(key_id, when, reason)
        d.save_profile(profile)
        current, _ = d.keys.signing_key(config.signing_key)
    click.echo(f"{key_id} revoked from {when.isoformat()}")
    if current == key_id:
        click.echo("it is the current signing key: run `lune cert key rotate` now")


# --- issuing ----------------------------------------------------------------------


def _achievement(course: str, exam: str | None, valid_days: int | None, issuer_id: str) -> Any:
    from urllib.parse import urlsplit

    from grader.course.config import CourseConfigError, load_course

    from .credential import CourseAchievement

    try:
        cfg = load_course(course)
    except CourseConfigError as exc:
        raise click.ClickException(str(exc)) from None
    site = urlsplit(issuer_id)
    return CourseAchievement(
        id=f"{site.scheme}://{site.netloc}/achievements/{cfg.id}",
        course_id=cfg.id,
        name=f"{cfg.title} — certificate",
        description=(
            f"Awarded by the issuer to a learner who completed every module of {cfg.title} "
            "and passed its certification exam."
        ),
        modules=[(m.id, m.title) for m in cfg.modules],
        exam=exam or f"{cfg.id} certification exam",
        pass_mark=int(round(cfg.pass_mark)),
        valid_for_days=valid_days,
    )


def _learners(
    email: str | None, exam_score: float | None, course_score: float | None, batch: str | None
) -> list[Any]:
    from .credential import LearnerResult

    if batch is None:
        if email is None or exam_score is None:
            raise click.UsageError("give --email and --exam-score, or --batch FILE")
        return [LearnerResult(email, exam_score, course_score)]
    out = []
    try:
        with open(batch, newline="", encoding="utf-8") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                try:
                    course = row.get("course_score") or None
                    out.append(
                        LearnerResult(
                            row["email"],
                            float(row["exam_score"]),
                            float(course) if course else None,
                        )
                    )
                except (KeyError, TypeError, ValueError) as exc:
                    raise click.ClickException(
                        f"{batch}:{n}: needs email,exam_score[,course_score]: {exc}"
                    ) from None
    except OSError as exc:
        raise click.ClickException(f"cannot read {batch}: {exc}") from None
    if not out:
        raise click.ClickException(f"{batch} lists no learner")
    return out


@cert.command("issue")
@_issuer_dir_option
@click.option("--course", required=True, help="Course id or directory (its course.toml).")
@click.option("--email", default=None, help="The learner's email (only its salted hash is kept).")
@click.option("--exam-score", type=click.FloatRange(0, 100), default=None, help="Exam score, %.")
@click.option(
    "--course-score", type=click.FloatRange(0, 100), default=None, help="Course score, %."
)
@click.option(
    "--batch",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV with columns email,exam_score[,course_score]: one certificate per row.",
)
@click.option(
    "--exam", default=None, help="The exam's name (default: '<course> certification exam')."
)
@click.option("--valid-days", type=click.IntRange(1), default=None, help="Days until it expires.")
def issue(
    issuer_dir: str,
    course: str,
    email: str | None,
    exam_score: float | None,
    course_score: float | None,
    batch: str | None,
    exam: str | None,
    valid_days: int | None,
) -> None:
    """Sign certificates for learners who passed; they wait for `lune cert anchor`."""
    from .credential import build_credential
    from .issuance import sign_credential
    from .timefmt import now

    learners = _learners(email, exam_score, course_score, batch)
    with _errors():
        d = _dir(issuer_dir)
        config = d.load_config()
        profile = d.load_profile()
        achievement = _achievement(course, exam, valid_days, config.issuer_id)
        key_id, key = d.keys.signing_key(config.signing_key)
        when = now()
        window = profile.key(key_id)
        if window is None or window.problem_at(when):
            raise click.ClickException(
                f"signing key {key_id} cannot sign now: "
                f"{window.problem_at(when) if window else 'not in the profile'}"
            )
        registry = d.load_registry()
        pending = d.pending()
        issued = []
        for learner in learners:
            credential = build_credential(
                issuer=profile.embedded(),
                achievement=achievement,
                learner=learner,
                valid_from=when,
                status=registry.entries(registry.allocate()),
            )
            issued.append(sign_credential(credential, key_id, key, when))
        # Certificates first, then the registry (indexes), then the pending list.
        for signed in issued:
            d.save_credential(signed.document)
        d.save_registry(registry)
        d.save_pending(pending + issued)
    for signed in issued:
        click.echo(f"{signed.document['id']}  {d.credential_path(signed.document['id'])}")
    click.echo(f"{len(issued)} signed; {len(pending) + len(issued)} waiting for `lune cert anchor`")


def _node_options(f: Any) -> Any:
    f = click.option("--rpcpassword", default=None, help="RPC password (with --rpc-url).")(f)
    f = click.option("--rpcuser", default=None, help="RPC user (with --rpc-url).")(f)
    f = click.option("--rpc-url", default=None, help="Node RPC URL, instead of --datadir.")(f)
    f = click.option(
        "--datadir",
        type=click.Path(file_okay=False),
        default=DEFAULT_NODE_DATADIR,
        show_default=True,
        help="Chain data directory: its running node (RPC), or the chain itself if none runs.",
    )(f)
    return f


@contextmanager
def _broadcaster(
    datadir: str, rpc_url: str | None, user: str | None, password: str | None, network: str
) -> Iterator[Any]:
    from sandbox_chain.node.client import RPCClient, RPCConnectionError

    from .chainsource import LocalSource, RPCSource

    if rpc_url:
        if user is None or password is None:
            raise click.BadParameter("--rpc-url needs --rpcuser and --rpcpassword")
        yield RPCSource(RPCClient(rpc_url, user, password), network)
        return
    try:
        client = RPCClient.from_datadir(datadir, timeout=30)
        client.call("getblockcount")
    except RPCConnectionError:
        client = None
    if client is not None:
        try:
            yield RPCSource(client, network)
        finally:
            client.close()
        return
    if not Path(datadir).is_dir():
        raise click.ClickException(f"no chain or running node at {datadir}")
    from sandbox_chain.chainstate import Chain
    from sandbox_chain.errors import ChainError
    from sandbox_chain.params import get_params

    try:
        chain = Chain.open(datadir, get_params(network))
    except ChainError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield LocalSource(chain)
    finally:
        chain.close()


@cert.command("anchor")
@_issuer_dir_option
@_node_options
@click.option("--fee-rate", type=click.IntRange(1), default=2, show_default=True, help="sat/B.")
def anchor(
    issuer_dir: str,
    datadir: str,
    rpc_url: str | None,
    rpcuser: str | None,
    rpcpassword: str | None,
    fee_rate: int,
) -> None:
    """Anchor every waiting certificate in one transaction on the sandbox chain."""
    from .issuance import anchor_batch
    from .timefmt import format_time, now

    with _errors():
        d = _dir(issuer_dir)
        config = d.load_config()
        pending = d.pending()
        if not pending:
            raise click.ClickException("no certificate waits for an anchor: issue some first")
        address, network, key = d.keys.address_key(config.address_key)
        with _broadcaster(datadir, rpc_url, rpcuser, rpcpassword, network) as source:
            when = now()
            docs, built, _ = anchor_batch(
                pending, source, key, f"{config.issuer_id}#{address}", when, fee_rate
            )
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
        for doc in docs:
            d.save_credential(doc)
        d.save_pending([])
    click.echo(f"anchored {len(docs)} certificates in {built.txid} (fee {built.fee} sat)")
    click.echo("they verify once a block holds it: mine one or wait")


@cert.command("rebroadcast")
@_issuer_dir_option
@_node_options
@click.argument("txid")
def rebroadcast(
    issuer_dir: str,
    datadir: str,
    rpc_url: str | None,
    rpcuser: str | None,
    rpcpassword: str | None,
    txid: str,
) -> None:
    """Send a batch's anchor transaction again (after a reorganisation dropped it)."""
    from sandbox_chain.transaction import Transaction

    with _errors():
        d = _dir(issuer_dir)
        record = d.load_batch(txid)
        tx = Transaction.from_hex(record["raw"])
        with _broadcaster(datadir, rpc_url, rpcuser, rpcpassword, record["network"]) as source:
            found = source.transaction(txid)
            if found is not None:
                where = f"in block {found[1]}" if found[1] else "in the mempool"
                click.echo(f"{txid} is already {where}")
                return
            source.broadcast(tx)
    click.echo(f"{txid} sent again")


# --- status ----------------------------------------------------------------------


def _status_command(action: str) -> Any:
    @_issuer_dir_option
    @click.argument("credential")
    @click.option("--reason", required=True, help="Why (kept in the issuer's records).")
    @click.option("--by", "actor", default=lambda: os.environ.get("USER", ""), help="Who decided.")
    def command(issuer_dir: str, credential: str, reason: str, actor: str) -> None:
        from .timefmt import now

        with _errors():
            d = _dir(issuer_dir)
            doc = d.load_credential(credential)
            entries = doc.get("credentialStatus") or []
            if not entries:
                raise click.ClickException(f"{doc.get('id')} has no status entry")
            index = int(entries[0]["statusListIndex"])
            registry = d.load_registry()
            event = getattr(registry, action)(index, reason, now(), actor)
            d.save_registry(registry)
        click.echo(
            f"{doc['id']}: {action} recorded (status lists version {event.version}); "
            "publish the lists"
        )

    command.__doc__ = {
        "revoke": "Revoke a certificate for good (by id, file or status index).",
        "suspend": "Suspend a certificate until it is reinstated.",
        "reinstate": "Lift a certificate's suspension.",
    }[action]
    return command


for _action in ("revoke", "suspend", "reinstate"):
    cert.command(_action)(_status_command(_action))


@cert.command("list")
@_issuer_dir_option
def list_command(issuer_dir: str) -> None:
    """List issued certificates: id, status index, anchor, status."""
    from .merkleproof2019 import CRYPTOSUITE, decode_receipt

    with _errors():
        d = _dir(issuer_dir)
        registry = d.load_registry()
        for doc in d.credentials():
            index = int((doc.get("credentialStatus") or [{}])[0].get("statusListIndex", -1))
            anchor = "not anchored"
            for proof in doc.get("proof", []):
                if proof.get("cryptosuite") == CRYPTOSUITE:
                    anchor = decode_receipt(proof["proofValue"])["anchors"][0].rsplit(":", 1)[1]
            state = registry.state(index) if index >= 0 else {}
            status = (
                "revoked"
                if state.get("revocation")
                else ("suspended" if state.get("suspension") else "valid")
            )
            click.echo(f"{doc['id']}  #{index}  {status}  {anchor}")


@cert.command("publish")
@_issuer_dir_option
@click.option("--output", required=True, type=click.Path(file_okay=False), help="Directory.")
def publish(issuer_dir: str, output: str) -> None:
    """Write the public files for a static web server: profile and every status-list version."""
    with _errors():
        written = _dir(issuer_dir).publish(Path(output))
    click.echo(f"wrote {len(written)} files to {output}")


# --- verifying ----------------------------------------------------------------------


def _pin_files(resolver: Any, paths: tuple[str, ...]) -> None:
    from .statuslist import list_version

    newest: dict[str, tuple[int, dict[str, Any]]] = {}
    for p in paths:
        try:
            doc = json.loads(Path(p).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot read {p}: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            raise click.ClickException(f"{p} is not a JSON document with an id")
        version = list_version(doc)
        if version is None:
            resolver.pin(doc)
            continue
        resolver.pin(doc, f"{doc['id']}/v{version}")
        if doc["id"] not in newest or newest[doc["id"]][0] < version:
            newest[doc["id"]] = (version, doc)
    for url, (_, doc) in newest.items():
        resolver.pin(doc, url)


@cert.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--issuer-profile",
    type=click.Path(dir_okay=False),
    default=None,
    help="The issuer's profile as a file (default: fetched from the issuer id with --fetch).",
)
@click.option(
    "--status-list",
    "status_lists",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A status-list credential file (repeat; older versions say since when).",
)
@click.option(
    "--node", default=None, help="REST base URL of a sandbox node, e.g. http://127.0.0.1:18443."
)
@click.option(
    "--datadir",
    type=click.Path(file_okay=False),
    default=None,
    help="Ask the node running on this data directory (RPC), or read that chain directly.",
)
@click.option(
    "--network",
    type=click.Choice(["regtest", "classroom"]),
    default="regtest",
    show_default=True,
    help="The node's network.",
)
@click.option("--fetch", is_flag=True, help="Fetch the profile and status lists from their URLs.")
@click.option("--email", default=None, help="Also check the certificate was issued to this email.")
@click.option("--min-confirmations", type=click.IntRange(1), default=1, show_default=True)
@click.option("--at", "at", default=None, help="Judge the validity window at this date.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(
    file: str,
    issuer_profile: str | None,
    status_lists: tuple[str, ...],
    node: str | None,
    datadir: str | None,
    network: str,
    fetch: bool,
    email: str | None,
    min_confirmations: int,
    at: str | None,
    as_json: bool,
) -> None:
    """Verify a certificate step by step; exit 0 only if every step holds."""
    from .chainsource import RestSource
    from .issuer import IssuerProfile
    from .resolver import Resolver
    from .verify import Verifier

    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    resolver = Resolver(fetch=fetch)
    _pin_files(resolver, status_lists)
    with _errors():
        profile = IssuerProfile.load(Path(issuer_profile)) if issuer_profile else None

    def run(chain: Any) -> Any:
        verifier = Verifier(
            profile=profile,
            chain=chain,
            resolver=resolver,
            min_confirmations=min_confirmations,
            at=_when(at) if at else None,
        )
        return verifier.verify(data, email=email)

    if node:
        report = run(RestSource(node, network))
    elif datadir:
        with _broadcaster(datadir, None, None, None, network) as source:
            report = run(source)
    else:
        report = run(None)
    if as_json:
        _echo_json(report.to_json())
    else:
        for step in report.steps:
            click.echo(step.line())
        click.echo("VALID" if report.ok else "NOT VALID")
    if not report.ok:
        raise SystemExit(1)


__all__ = ["cert"]
