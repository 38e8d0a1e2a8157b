"""The portal's settings: defaults → instance file → environment → the caller's overrides.

Every setting has an upper-case name used in the Flask config. The instance file is
`<instance>/portal.toml` with the same names as keys; the environment uses `LUNE_<NAME>`, plus the
conventional `DATABASE_URL` and `REDIS_URL`. Nothing here writes a file: `ensure_instance` (called
by the CLI, never by the app factory) creates the instance folder and its secret key.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course.config import DEFAULT_COURSE, default_courses_root


class SettingsError(Exception):
    """A setting has a value the portal cannot use; the message names it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    env: str = ""  # environment variable; LUNE_<name> unless given

    @property
    def env_name(self) -> str:
        return self.env or f"LUNE_{self.name}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "INSTANCE_PATH",
        ".lune/instance",
        "Folder holding the portal's database, queue, secret key, mail outbox and wallet seed.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs session cookies and CSRF tokens; read from <instance>/secret_key when not set.",
    ),
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL of the database; default SQLite <instance>/portal.db.",
        env="DATABASE_URL",
    ),
    Setting(
        "REDIS_URL",
        None,
        "When set, the job queue is huey's RedisHuey and rate limits "
        "are stored in Redis (several portal processes and grading hosts).",
        env="REDIS_URL",
    ),
    Setting(
        "COURSES_DIR",
        None,
        "Folder holding the course directories (each with "
        "course.toml); default the project's courses/.",
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        "Public address of the portal, used in invite and password-reset links.",
    ),
    Setting("UPLOAD_MAX_BYTES", 8 * 1024 * 1024, "Largest notebook upload accepted (bytes)."),
    Setting(
        "SANDBOX",
        True,
        "Grade learner code inside the bubblewrap sandbox (never turn off on a shared machine).",
    ),
    Setting(
        "SWEEP_SECONDS",
        300,
        "A submission still queued after this many seconds is queued again by the worker's sweep.",
    ),
    Setting(
        "GRADING_TIMEOUT",
        600,
        "A submission still being graded after this many seconds is presumed orphaned (its "
        "worker died) and graded again by the sweep.",
    ),
    Setting(
        "GRADING_ATTEMPTS",
        5,
        "Infrastructure failures a submission may hit before it "
        "waits for the next sweep (it is never scored 0 for them).",
    ),
    Setting("WORKER_CONCURRENCY", 1, "Grading processes started by `lune worker`."),
    Setting("SECURE_COOKIES", False, "Mark cookies Secure (set it when served over https)."),
    Setting(
        "PROXY_FIX",
        0,
        "Number of reverse proxies in front of the portal whose "
        "X-Forwarded-* headers are trusted (0: none).",
    ),
    Setting("MAIL_FROM", "Lune Academy <no-reply@lune.invalid>", "Sender of the portal's mail."),
    Setting(
        "SMTP_HOST",
        None,
        "SMTP server for the portal's mail; without it mail is written "
        "to <instance>/outbox as .eml files.",
    ),
    Setting("SMTP_PORT", 587, "SMTP port."),
    Setting("SMTP_USER", None, "SMTP user name (STARTTLS is used when set)."),
    Setting("SMTP_PASSWORD", None, "SMTP password."),
    Setting("RESET_TOKEN_MINUTES", 60, "How long a password-reset link stays valid."),
    Setting("INVITE_TOKEN_DAYS", 14, "How long an emailed invitation link stays valid."),
    Setting(
        "LOGIN_LIMIT",
        "10 per minute",
        "Failed sign-ins allowed per account and per address (Flask-Limiter syntax).",
    ),
    Setting("UPLOAD_LIMIT", "20 per minute", "Uploads allowed per learner."),
    # The sandbox node (explorer, wallets, faucet): see web/services/node.py.
    Setting(
        "NODE_DATADIR",
        ".lune/demo/chain",
        "Data directory of a node on this machine (its node.json and .cookie are read).",
    ),
    Setting("NODE_URL", None, "RPC URL of the node, for a node elsewhere (http://host:port/)."),
    Setting("NODE_USER", None, "RPC user of the node (with NODE_URL)."),
    Setting("NODE_PASSWORD", None, "RPC password of the node (with NODE_URL)."),
    Setting("NODE_COOKIE", None, "The node's cookie file, when it is not in NODE_DATADIR."),
    Setting("NODE_TIMEOUT", 10, "Seconds to wait for the node before answering 503."),
    Setting("FAUCET_LIMIT", "3 per hour", "Faucet presses allowed per learner."),
    Setting(
        "ISSUER_DIR",
        None,
        "The certificate issuer's directory (keys, profile; `lune cert init`); "
        "default <instance>/issuer.",
    ),
    Setting(
        "EXPLORER_COURSE", DEFAULT_COURSE, "Course whose modules the explorer's fields link to."
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if not isinstance(raw, str) or default is None or isinstance(default, str):
        return raw
    try:
        if isinstance(default, bool):
            value = raw.strip().lower()
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
    except ValueError:
        raise SettingsError(f"{_BY_NAME[name].env_name}={raw!r} is not a valid value") from None
    return raw


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Resolve every setting in order: defaults, instance file, environment, `overrides`."""
    overrides = dict(overrides or {})
    values = {s.name: s.default for s in SETTINGS}
    instance = overrides.get("INSTANCE_PATH") or os.environ.get("LUNE_INSTANCE_PATH")
    instance_path = Path(instance or values["INSTANCE_PATH"]).expanduser().resolve()
    file = instance_path / "portal.toml"
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{file}: not valid TOML: {exc}") from None
        for key, value in data.items():
            if key.upper() not in _BY_NAME:
                raise SettingsError(f"{file}: unknown setting {key!r}")
            values[key.upper()] = value
    for s in SETTINGS:
        if s.env_name in os.environ:
            values[s.name] = _coerce(s.name, os.environ[s.env_name], s.default)
    values.update(overrides)
    values["INSTANCE_PATH"] = str(instance_path)
    if not values["SECRET_KEY"]:
        key_file = instance_path / "secret_key"
        if key_file.is_file():
            values["SECRET_KEY"] = key_file.read_text().strip()
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance_path / 'portal.db'}"
    if not values["COURSES_DIR"]:
        values["COURSES_DIR"] = str(default_courses_root())
    return values


def ensure_instance(instance_path: str | Path) -> Path:
    """Create the instance folder (0700) and its secret key (0600) if they do not exist."""
    path = Path(instance_path).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_file = path / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path
