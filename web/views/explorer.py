"""The learner's block explorer (everyone signed in): blocks, transactions, addresses, mempool,
chain tips, and a search box; every field links to the course module that explains it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import format_datetime, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from web.errors import ServiceError, Unavailable
from web.extensions import db, login_manager
from web.models import Module
from web.nav import add_nav
from web.services.explorer import Explorer, ExplorerError, page_number
from web.services.explorer_models import FieldGuide
from web.services.node import NodeClient, NodeSettings, NodeUnavailable, RPCError

bp = Blueprint("explorer", __name__, url_prefix="/explorer")


@bp.record_once
def _menu(state) -> None:
    add_nav(state.app, "explorer.index", lazy_gettext("Explorer"))


@bp.before_request
def signed_in_only():
    """Every page of the area needs a signed-in user (any role); others go to sign in."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@contextmanager
def node_client() -> Iterator[NodeClient]:
    """A client for the configured node; a node that is down (or misconfigured, or answering
    something unexpected) becomes a 503 page, a refused search or page a 400/404."""
    try:
        with NodeClient(NodeSettings.from_config(current_app.config)) as client:
            yield client
    except ExplorerError as err:
        raise ServiceError(_(err.msgid, **err.params), err.status) from None
    except (NodeUnavailable, RPCError) as err:
        current_app.logger.warning("sandbox node unavailable: %s", err)
        raise Unavailable(
            _(
                "The sandbox node is not answering, so the chain cannot be shown right now. "
                "Try again in a minute; if it lasts, tell your instructor."
            )
        ) from None


def field_url(name: str) -> str | None:
    """The module page that explains field `name`, or None (no such module in the course)."""
    guide = g.get("field_guide")
    if guide is None:
        course_id = current_app.config["EXPLORER_COURSE"]
        rows = db.session.execute(
            select(Module.slug, Module.title).where(
                Module.course_id == course_id, Module.active.is_(True)
            )
        )
        guide = g.field_guide = FieldGuide(course_id, {slug: title for slug, title in rows})
    ref = guide.module(name)
    if ref is None:
        return None
    try:
        return url_for("learn.module", course_id=ref.course_id, module_id=ref.module_id)
    except BuildError:
        return None


def field_title(name: str) -> str | None:
    """The title of the module that explains field `name` (for the link's tooltip)."""
    guide = g.get("field_guide")
    ref = guide.module(name) if guide is not None else None
    return ref.title if ref is not None else None


@bp.app_context_processor
def _field_links() -> dict:
    return {"field_url": field_url, "field_title": field_title}


@bp.app_template_filter("coins")
def coins(value: Decimal | None, signed: bool = False) -> str:
    """An amount in coins with Bitcoin's 8 decimals ("10.00000000"), "+"/"-" if `signed`."""
    if value is None:
        return "—"
    return f"{Decimal(value):+.8f}" if signed else f"{Decimal(value):.8f}"


@bp.app_template_filter("blocktime")
def blocktime(value: int | None) -> str:
    """A block's Unix time as a date in the user's language (UTC)."""
    if value is None:
        return "—"
    return format_datetime(datetime.fromtimestamp(int(value), UTC), "medium")


@bp.route("/")
def index():
    with node_client() as node:
        summary = Explorer(node).summary()
    return render_template("explorer/index.html", summary=summary)


@bp.route("/search")
def search():
    query = request.args.get("q", "")
    try:
        with node_client() as node:
            target = Explorer(node).search(query)
    except Unavailable:
        raise
    except ServiceError as err:
        page = render_template("explorer/search.html", query=query, message=err.message)
        return page, err.status
    endpoints = {"block": "explorer.block", "tx": "explorer.tx", "address": "explorer.address"}
    return redirect(url_for(endpoints[target.kind], key=target.key), 303)


@bp.route("/block/<key>")
def block(key: str):
    with node_client() as node:
        view = Explorer(node).block(key, page_number(request.args.get("page")))
    return render_template("explorer/block.html", block=view)


@bp.route("/tx/<key>")
def tx(key: str):
    with node_client() as node:
        view = Explorer(node).transaction(key)
    return render_template("explorer/tx.html", tx=view)


@bp.route("/address/<key>")
def address(key: str):
    with node_client() as node:
        view = Explorer(node).address(key, page_number(request.args.get("page")))
    return render_template("explorer/address.html", view=view)


@bp.route("/mempool")
def mempool():
    with node_client() as node:
        view = Explorer(node).mempool(page_number(request.args.get("page")))
    return render_template("explorer/mempool.html", pool=view)


@bp.route("/tips")
def tips():
    with node_client() as node:
        view = Explorer(node).tips()
    return render_template("explorer/tips.html", tips=view)
