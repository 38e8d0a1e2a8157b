"""Fixtures for the node tests: real node processes on 127.0.0.1 with free ports."""

from __future__ import annotations

import pytest
from nodekit import NodeProcess


@pytest.fixture
def node_factory(tmp_path):
    """Start nodes with `node_factory("a", "--connect", ...)`; all are stopped at the end."""
    nodes: list[NodeProcess] = []

    def make(name: str, *args: str, start: bool = True) -> NodeProcess:
        n = NodeProcess(tmp_path / name, *args)
        n.datadir.mkdir(parents=True, exist_ok=True)
        nodes.append(n)
        return n.start() if start else n

    yield make
    for n in nodes:
        try:
            n.stop()
        except AssertionError:
            pass


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One regtest node shared by a module's tests."""
    d = tmp_path_factory.mktemp("node") / "n"
    d.mkdir()
    n = NodeProcess(d, "--faucet-interval", "2").start()
    yield n
    n.stop()
