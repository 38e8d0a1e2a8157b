"""`lune chain …` and `lune demo` through click's CliRunner, on a temporary data directory."""

from __future__ import annotations

from click.testing import CliRunner

from web.cli import main

OTHER_ADDRESS = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"  # a regtest address (key_io_valid.json)


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_demo_then_inspect_mine_send(tmp_path):
    d = str(tmp_path / "demo")
    first = _run("demo", "--datadir", d, "--blocks", "3")
    assert first.exit_code == 0 and "height: 3" in first.output
    again = _run("demo", "--datadir", d)
    assert again.exit_code == 0 and "height: 3" in again.output  # resumed, not re-mined
    cd = ["--datadir", str(tmp_path / "demo" / "chain")]
    info = _run("chain", "info", *cd)
    assert "height:    3" in info.output and "active" in info.output
    mined = _run("chain", "mine", "--blocks", "100", *cd)
    assert mined.exit_code == 0 and len(mined.output.split()) == 100
    sent = _run("chain", "send", "--to", OTHER_ADDRESS, "--amount", "12345", *cd)
    assert sent.exit_code == 0, sent.output
    txid = sent.output.strip()
    assert "mempool:   1 transactions" in _run("chain", "info", *cd).output  # saved on close
    shown = _run("chain", "tx", txid, *cd)
    assert "in block: mempool" in shown.output and "12345 sat" in shown.output
    _run("chain", "mine", *cd)
    assert "height:      103" in _run("chain", "block", "103", *cd).output
    assert "total: 12345 sat" in _run("chain", "balance", OTHER_ADDRESS, *cd).output
    raw = shown.output.split("raw: ")[1].strip()
    dup = _run("chain", "submit", raw, *cd)
    assert dup.exit_code == 1 and "rejected: txn-already-known" in dup.output


def test_bad_input_is_one_line_and_nonzero(tmp_path):
    cd = ["--datadir", str(tmp_path / "c")]
    for args, message in [
        (["chain", "tx", "zz", *cd], "txid must be 64 hex digits"),
        (["chain", "block", "99", *cd], "no block at height 99"),
        (["chain", "submit", "00", *cd], "not a transaction"),
        (["chain", "mine", "--address", "nonsense", *cd], "not a regtest address"),
        (["chain", "send", "--to", OTHER_ADDRESS, "--amount", "5", *cd], "spendable sat"),
    ]:
        result = _run(*args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
