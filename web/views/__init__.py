"""One blueprint per area; `register_blueprints` mounts them all."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from web.views import (
        admin,
        api,
        auth,
        certificates,
        certify,
        explorer,
        health,
        instruct,
        learn,
        submissions,
        wallet,
    )

    for module in (
        auth,
        learn,
        submissions,
        instruct,
        admin,
        api,
        explorer,
        wallet,
        certificates,
        certify,
        health,
    ):
        app.register_blueprint(module.bp)
