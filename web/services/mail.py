"""Outgoing mail: SMTP when configured, otherwise `.eml` files in the instance's outbox folder."""

from __future__ import annotations

import os
import smtplib
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app

from web.errors import Unavailable


def outbox() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "outbox"


def send(to: str, subject: str, body: str) -> None:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="lune.invalid")
    msg.set_content(body)
    if cfg.get("SMTP_HOST"):
        try:
            with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=20) as smtp:
                if cfg.get("SMTP_USER"):
                    smtp.starttls()
                    smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.error("mail to %s failed: %s", to, exc)
            raise Unavailable("The mail server is unavailable: try again shortly.") from None
        return
    folder = outbox()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole then renamed: a reader never sees half a message.
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(bytes(msg))
    name = msg["Message-ID"].strip("<>").replace("@", "_")
    os.replace(tmp, folder / f"{name}.eml")
