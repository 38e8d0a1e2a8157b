"""`lune cert`: an issuer's whole day on the command line, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main


@pytest.fixture
def env(tmp_path, chain_template):
    """A CLI runner with an issuer directory and a funded chain directory."""
    import shutil

    from sandbox_chain import miner
    from sandbox_chain.chainstate import Chain
    from sandbox_chain.params import REGTEST

    runner = CliRunner()
    issuer = tmp_path / "issuer"
    chain_dir = tmp_path / "chain"
    shutil.copytree(chain_template, chain_dir)
    (chain_dir / "LOCK").unlink(missing_ok=True)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, [*args], env={"LUNE_ISSUER_DIR": str(issuer)})
        assert result.exit_code == code, result.output
        return result.output

    def mine(n: int = 1, to: str | None = None) -> None:
        from sandbox_chain.address import decode_address

        c = Chain.open(chain_dir, REGTEST)
        try:
            script = decode_address(to, REGTEST) if to else b"\x51"
            for _ in range(n):
                miner.mine_block(c, script)
        finally:
            c.close()

    out = run(
        "cert", "init", "--issuer-id", "https://academy.example/issuer",
        "--name", "Lune Academy", "--url", "https://academy.example",
    )  # fmt: skip
    address = out.split("issuing address: ")[1].split()[0]
    mine(101, to=address)
    return run, mine, issuer, chain_dir, tmp_path


def _verify_args(pub: Path, chain_dir: Path) -> list[str]:
    args = ["--issuer-profile", str(pub / "profile.json"), "--datadir", str(chain_dir)]
    for f in sorted((pub / "status").rglob("*.json")):
        args += ["--status-list", str(f)]
    return args


def test_issue_anchor_verify_revoke(env):
    run, mine, issuer, chain_dir, tmp = env
    out = run(
        "cert", "issue", "--course", "lune-101", "--email", "ada@example.org",
        "--exam-score", "91", "--course-score", "84",
    )  # fmt: skip
    assert "1 waiting for `lune cert anchor`" in out
    batch = tmp / "batch.csv"
    batch.write_text("email,exam_score\nbob@example.org,75\ncy@example.org,70\n")
    assert "3 waiting" in run("cert", "issue", "--course", "lune-101", "--batch", str(batch))
    out = run("cert", "anchor", "--datadir", str(chain_dir))
    assert out.startswith("anchored 3 certificates in ")
    txid = out.split(" in ")[1].split()[0]
    mine()
    files = sorted((issuer / "credentials").glob("*.json"))
    assert len(files) == 3
    ada = next(f for f in files if "Lune 101" in f.read_text() and _issued_to(f, "ada@example.org"))
    run("cert", "publish", "--output", str(tmp / "pub"))
    out = run("cert", "verify", str(ada), *_verify_args(tmp / "pub", chain_dir),
              "--email", "ada@example.org")  # fmt: skip
    assert out.rstrip().endswith("VALID") and txid in out
    assert out.count("✓") == 10
    # Revoked: the same command now fails at the status step and says since when.
    run("cert", "revoke", str(ada), "--reason", "identity fraud")
    run("cert", "publish", "--output", str(tmp / "pub"))
    out = run("cert", "verify", str(ada), *_verify_args(tmp / "pub", chain_dir), code=1)
    assert "✗ Status: revoked since" in out and out.rstrip().endswith("NOT VALID")
    report = json.loads(
        run("cert", "verify", str(ada), *_verify_args(tmp / "pub", chain_dir), "--json", code=1)
    )
    assert report["valid"] is False
    assert [s["name"] for s in report["steps"] if not s["ok"]] == ["status"]
    listing = run("cert", "list")
    assert listing.count("revoked") == 1 and listing.count(txid) == 3


def _issued_to(path: Path, email: str) -> bool:
    from web.credentials.credential import subject_matches_email

    return subject_matches_email(json.loads(path.read_text()), email)


def test_key_rotation_keeps_old_certificates_valid(env):
    run, mine, issuer, chain_dir, tmp = env
    run("cert", "issue", "--course", "lune-101", "--email", "a@example.org", "--exam-score", "80")
    run("cert", "anchor", "--datadir", str(chain_dir))
    mine()
    assert "key-2" in run("cert", "key", "rotate")
    listing = run("cert", "key", "list")
    assert "* https://academy.example/issuer#key-2" in listing and "until" in listing
    run("cert", "issue", "--course", "lune-101", "--email", "b@example.org", "--exam-score", "80")
    run("cert", "anchor", "--datadir", str(chain_dir))
    mine()
    run("cert", "publish", "--output", str(tmp / "pub"))
    for f in (issuer / "credentials").glob("*.json"):
        run("cert", "verify", str(f), *_verify_args(tmp / "pub", chain_dir))
    profile = json.loads(run("cert", "profile"))
    assert [vm["id"].rsplit("#")[1] for vm in profile["verificationMethod"]] == ["key-1", "key-2"]
    out = run("cert", "key", "revoke", "key-2", "--since", "2020-01-01", "--reason", "leaked")
    assert "rotate" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["cert", "issue", "--course", "lune-101", "--email", "x@example.org", "--exam-score",
          "50"], "below the pass mark 70%"),
        (["cert", "issue", "--course", "no-such-course", "--email", "x@example.org",
          "--exam-score", "90"], "no-such-course"),
        (["cert", "anchor", "--datadir", "."], "no certificate waits for an anchor"),
        (["cert", "revoke", "7", "--reason", "x"], "no certificate has status index 7"),
        (["cert", "issue", "--course", "lune-101", "--email", "not-an-email", "--exam-score",
          "90"], "not an email address"),
    ],
)  # fmt: skip
def test_errors_are_one_line(env, args, message):
    run, *_ = env
    out = run(*args, code=1)
    assert out.startswith("Error: ") and message in out and out.count("\n") == 1


def test_without_an_issuer_directory(tmp_path):
    result = CliRunner().invoke(
        main, ["cert", "profile"], env={"LUNE_ISSUER_DIR": str(tmp_path / "none")}
    )
    assert result.exit_code == 1 and "lune cert init" in result.output


def test_verify_unreadable_file_and_malformed_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = CliRunner().invoke(main, ["cert", "verify", str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("✗ JSON and contexts: malformed JSON")
    result = CliRunner().invoke(main, ["cert", "verify", str(tmp_path / "missing.json")])
    assert result.exit_code == 1 and result.output.startswith("Error: cannot read")


def test_init_refuses_to_overwrite_an_issuer(env):
    run, *_ = env
    out = run(
        "cert", "init", "--issuer-id", "https://other.example/i", "--name", "x",
        "--url", "https://other.example", code=1,
    )  # fmt: skip
    assert "already holds an issuer" in out
