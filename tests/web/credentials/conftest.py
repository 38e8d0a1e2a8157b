"""Fixtures of the credential tests: a session-wide funded chain template, a fresh issuer, a real
node process."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from credkit import Issuer, build_template, copy_chain, mine


@pytest.fixture(scope="session")
def chain_template(tmp_path_factory):
    """A closed regtest chain with mature coins for the issuer's address and an outsider."""
    path = tmp_path_factory.mktemp("credchain") / "chain"
    build_template(path)
    return path


@pytest.fixture
def chain(chain_template, tmp_path):
    """A private copy of the template chain."""
    c = copy_chain(chain_template, tmp_path / "chain")
    yield c
    c.close()


@pytest.fixture
def issuer():
    """An issuer with one key and the issuing address."""
    return Issuer.create()


@pytest.fixture
def anchored(issuer, chain):
    """Three certificates signed, anchored in one transaction, mined: (docs, txid)."""
    signed = [issuer.sign(issuer.credential(f"learner{i}@example.org")) for i in range(3)]
    docs, txid = issuer.anchor(chain, signed)
    mine(chain)
    return docs, txid


@pytest.fixture
def node(tmp_path):
    """A real `python -m sandbox_chain.node` on free loopback ports, stopped at the end."""
    from sandbox_chain.node.client import RPCClient, RPCConnectionError

    datadir = tmp_path / "node"
    datadir.mkdir()
    log = open(tmp_path / "node.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox_chain.node", "--datadir", str(datadir),
         "--rpcport", "0", "--port", "0"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    client = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"node exited: {(tmp_path / 'node.log').read_text()[-2000:]}")
        try:
            info = json.loads((datadir / "node.json").read_text())
            if info.get("pid") == proc.pid:
                client = RPCClient.from_datadir(datadir, timeout=30)
                client.call("getblockcount")
                break
        except (OSError, ValueError, RPCConnectionError):
            pass
        time.sleep(0.1)
    if client is None:
        proc.kill()
        pytest.fail("node did not start within 20 s")
    yield client, info["rpc_url"], datadir
    client.close()
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
