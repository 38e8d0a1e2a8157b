"""Which failures mean "the database went away" (503, retry later) and which are bugs (500)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import exc as sa

from web.errors import _lost_database


class _Orig(Exception):
    pass


@pytest.mark.parametrize(
    "error,lost",
    [
        (sa.OperationalError("SELECT 1", {}, _Orig("server closed the connection")), True),
        (sa.InterfaceError("SELECT 1", {}, _Orig("connection already closed")), True),
        (
            sa.ProgrammingError(None, None, psycopg.ProgrammingError("can't change 'autocommit'")),
            True,
        ),  # raised while the pool pinged a dropped connection: no statement
        (sa.ProgrammingError("SELEC 1", {}, _Orig("syntax error")), False),
        (sa.IntegrityError("INSERT …", {}, _Orig("duplicate key")), False),
        (sa.PendingRollbackError("rollback first"), True),
        (psycopg.OperationalError("terminating connection"), True),
        (ValueError("a bug"), False),
        (None, False),
    ],
)
def test_lost_database_or_bug(error, lost):
    assert _lost_database(error) is lost


def test_a_result_without_its_cursor_is_a_lost_database_but_our_own_is_a_bug():
    from sqlalchemy.engine.result import ResultMetaData

    try:
        ResultMetaData._indexes_for_keys(None, ["id"])  # the base class: what a dead cursor has
    except NotImplementedError as exc:
        assert _lost_database(exc) is True
    try:
        raise NotImplementedError("a portal bug")
    except NotImplementedError as exc:
        assert _lost_database(exc) is False
