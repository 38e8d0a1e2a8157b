"""Lune Academy's portal (Flask) and the `lune` command line.

Importing `web` must stay light: `web.quiz` and `web.credentials` are libraries that the CLI and
course notebooks use without Flask, so the app factory is only imported when it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal application (see `web.app.create_app`)."""
    from web.app import create_app as _create_app

    return _create_app(config)
