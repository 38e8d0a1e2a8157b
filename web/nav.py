"""Template helpers shared by every page: the menu entries areas add, dates and numbers in the
reader's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, url_for
from flask_babel import format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy_gettext string
    visible: Callable[[object], bool]  # given current_user


def add_nav(
    app: Flask, endpoint: str, label: object, visible: Callable[[object], bool] = lambda user: True
) -> None:
    """An area's entry in the top menu (shown to signed-in users for whom `visible` holds)."""
    app.extensions.setdefault("lune_nav", []).append(NavItem(endpoint, label, visible))


def _extra_nav() -> list[dict]:
    items = current_app.extensions.get("lune_nav", [])
    return [
        {"url": url_for(i.endpoint), "label": i.label} for i in items if i.visible(current_user)
    ]


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "medium")


def _num(value: float | int | None) -> str:
    if value is None:
        return "—"
    return format_decimal(round(float(value), 2), format="#,##0.##")


STATUS_LABELS = {
    "not-started": _l("not started"),
    "submitted": _l("submitted"),
    "graded": _l("graded"),
    "late": _l("late"),
    "rejected": _l("rejected"),
    "overdue": _l("overdue"),
    "queued": _l("queued"),
    "grading": _l("grading"),
    "retrying": _l("waiting to be graded again"),
    "missing": _l("missing"),
    "pending": _l("pending"),
    "error": _l("error"),
}


def _status_label(state: str) -> str:
    return str(STATUS_LABELS.get(state, state))


ROLE_LABELS = {"learner": _l("learner"), "instructor": _l("instructor"), "admin": _l("admin")}


def _role(value: str) -> str:
    return str(ROLE_LABELS.get(value, value))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        extra_nav=_extra_nav, current_locale=lambda: str(get_locale()), status_label=_status_label
    )
    app.jinja_env.filters.update(when=_when, num=_num, role=_role)
