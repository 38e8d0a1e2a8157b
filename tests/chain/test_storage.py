"""The SQLite layer: durability settings, one writer, all-or-nothing transactions."""

from __future__ import annotations

import pytest

from sandbox_chain.errors import StorageError
from sandbox_chain.storage import Storage


def test_wal_full_sync_and_schema(tmp_path):
    st = Storage(tmp_path)
    try:
        conn = st.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.isolation_level is None
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"block_index", "blocks", "undo", "utxo", "active", "txindex", "meta"} <= tables
        assert st.integrity_check() == "ok"
    finally:
        st.close()


def test_one_writer_per_directory(tmp_path):
    st = Storage(tmp_path)
    with pytest.raises(StorageError, match="in use"):
        Storage(tmp_path)
    st.close()
    Storage(tmp_path).close()


def test_transaction_is_all_or_nothing(tmp_path):
    st = Storage(tmp_path)
    try:
        with st.transaction():
            st.set_meta("a", b"1")
        with pytest.raises(RuntimeError), st.transaction():
            st.set_meta("a", b"2")
            st.set_meta("b", b"2")
            raise RuntimeError("crash in the middle")
        assert st.get_meta("a") == b"1" and st.get_meta("b") is None
        assert not st.in_transaction
    finally:
        st.close()


def test_not_a_database_is_a_storage_error(tmp_path):
    (tmp_path / "chain.sqlite").write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StorageError, match="cannot open"):
        Storage(tmp_path)
    (tmp_path / "chain.sqlite").unlink()
    Storage(tmp_path).close()


def test_unwritable_location_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError):
        Storage(blocker / "sub")
