"""A signed-in user's own sandbox wallet: their address, balance and history, and the faucet.

There is no user in any URL here: every route shows or pays the wallet of `current_user` only.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from sandbox_chain.wallet import WalletError
from web.errors import Unavailable
from web.extensions import limiter
from web.nav import add_nav
from web.services.explorer import page_number
from web.services.wallet import (
    FaucetRefused,
    LearnerWallet,
    PortalWallet,
    request_faucet,
    wallet_view,
)
from web.views.explorer import coins, node_client, signed_in_only

bp = Blueprint("wallet", __name__, url_prefix="/wallet")


@bp.record_once
def _menu(state) -> None:
    add_nav(state.app, "wallet.index", lazy_gettext("My wallet"))


class FaucetForm(FlaskForm):
    """The faucet button (a form for its CSRF token)."""


bp.before_request(signed_in_only)


def _mine() -> LearnerWallet:
    """The signed-in user's wallet; a seed file that cannot be read or created is a 503."""
    wallet = current_app.extensions.get("lune_portal_wallet")
    if wallet is None:
        wallet = PortalWallet(current_app.instance_path)
        current_app.extensions["lune_portal_wallet"] = wallet
    try:
        return wallet.learner(current_user.id)
    except WalletError as err:
        current_app.logger.error("portal wallet unavailable: %s", err)
        raise Unavailable(
            _("The portal's wallet is unavailable right now; tell your instructor.")
        ) from None


def _page(
    mine: LearnerWallet,
    status: int = 200,
    message: str | None = None,
    retry_after: int | None = None,
):
    """The wallet page; the node's part (balance, history) is left out if the node is down."""
    view, down = None, None
    try:
        with node_client() as node:
            view = wallet_view(node, mine, page_number(request.args.get("page")))
    except Unavailable as err:
        down, status = err.message, max(status, err.status)
    page = render_template(
        "wallet/index.html",
        wallet=mine,
        view=view,
        down=down,
        message=message,
        form=FaucetForm(),
    )
    response = current_app.make_response((page, status))
    if status in (429, 503):
        response.headers["Retry-After"] = str(retry_after or 30)
    return response


@bp.route("/")
def index():
    return _page(_mine())


def _faucet_key() -> str:
    return f"faucet:{current_user.id}"


@bp.route("/faucet", methods=["POST"])
@limiter.limit(lambda: current_app.config["FAUCET_LIMIT"], key_func=_faucet_key)
def faucet():
    mine = _mine()
    try:
        with node_client() as node:
            paid = request_faucet(node, mine)
    except FaucetRefused as err:
        return _page(mine, err.status, _(err.msgid, **err.params), err.retry_after)
    flash(
        _(
            "The faucet sent you %(amount)s coins (transaction %(txid)s). They are confirmed "
            "when the next block is mined.",
            amount=coins(paid.amount),
            txid=paid.txid[:16] + "…",
        ),
        "success",
    )
    return redirect(url_for("wallet.index"), 303)
