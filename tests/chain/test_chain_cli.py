"""`lune chain …` and `lune demo` through click's CliRunner, on a temporary data directory."""

from __future__ import annotations

from click.testing import CliRunner

from web.cli import main

OTHER_ADDRESS = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"  # a regtest address (key_io_valid.json)


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_demo_then_inspect_mine_send(tmp_path):
    d = str(tmp_path / "demo")
    first = _run("demo", "--chain-only", "--datadir", d, "--blocks", "3")
    assert first.exit_code == 0 and "height: 3" in first.output
    again = _run("demo", "--chain-only", "--datadir", d)
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
        (["chain", "send", "--to", OTHER_ADDRESS, "--amount", "5", *cd], "sat spendable"),
    ]:
        result = _run(*args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)


def test_send_leaves_change_below_the_dust_limit_to_the_miner(tmp_path):
    # The wallet's rule (wallet.build_transaction): a change output nobody would spend is not
    # made, since the mempool refuses it as "dust"; the amount above the fee goes to the miner.
    cd = ["--datadir", str(tmp_path / "c")]
    assert _run("chain", "mine", "--blocks", "101", *cd).exit_code == 0
    coin = 50 * 10**8  # each mature coin is one 50-coin coinbase output
    for amount in (coin - 10_100, coin - 552):
        sent = _run("chain", "send", "--to", OTHER_ADDRESS, "--amount", str(amount), *cd)
        assert sent.exit_code == 0, sent.output
        shown = _run("chain", "tx", sent.output.strip(), *cd).output
        assert f"out 0: {amount} sat" in shown
        change = [line for line in shown.splitlines() if "out 1:" in line]
        assert not change or int(change[0].split()[2]) >= 546, shown


def _options(name: str) -> dict[tuple[str, ...], tuple[object, str | None]]:
    """(command path) → (default, help) of its `name` option, over every `lune chain` command."""
    import click

    from sandbox_chain.cli import chain

    found = {}

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        for param in command.params:
            if isinstance(param, click.Option) and name in param.opts:
                found[path] = (param.default, param.help)
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, sub_name))

    walk(chain, ("chain",))
    return found


def test_datadir_and_network_mean_the_same_in_every_chain_command():
    # One definition of each option: `lune chain info --help` and `lune chain node --help`
    # describe them alike. The devnet's --datadir is another thing (the parent of its nodes').
    datadirs = {p: v for p, v in _options("--datadir").items() if p != ("chain", "devnet")}
    assert len(datadirs) >= 10 and len(set(datadirs.values())) == 1, datadirs
    networks = _options("--network")
    assert len(networks) >= 8 and len(set(networks.values())) == 1, networks
