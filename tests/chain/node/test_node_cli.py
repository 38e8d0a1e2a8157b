"""The node's commands reject bad input with one line and a non-zero exit (no node needed)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from web.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chain", "node", "--rpcuser", "alice"], "both --rpcuser and --rpcpassword"),
        (["chain", "node", "--network", "mainnet"], "Invalid value for '--network'"),
        (["chain", "node", "--rpcport", "70000"], "Invalid value for '--rpcport'"),
        (["chain", "devnet", "--nodes", "0"], "Invalid value for '--nodes'"),
        (["chain", "faucet", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "--amount", "x"], "amount"),
        (["chain", "faucet", "x", "--rpc-url", "http://127.0.0.1:1/"], "--rpcuser"),
        (["chain", "wallet", "send", "x", "1", "--datadir", "/nonexistent"], "no wallet"),
        (["chain", "wallet", "create", "--language", "klingon"], "Invalid value"),
    ],
)
def test_bad_options(args, message, tmp_path):
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_no_running_node_is_one_clear_line(tmp_path):
    d = str(tmp_path / "nothing")
    result = CliRunner().invoke(
        main, ["chain", "faucet", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "--datadir", d]
    )
    assert result.exit_code == 1 and "no running node found" in result.output
    url = ["--rpc-url", "http://127.0.0.1:9/", "--rpcuser", "u", "--rpcpassword", "p"]
    result = CliRunner().invoke(
        main, ["chain", "faucet", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", *url]
    )
    assert result.exit_code == 1 and "cannot reach" in result.output
