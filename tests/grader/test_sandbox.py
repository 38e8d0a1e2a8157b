"""The bubblewrap sandbox on its own: confinement, limits, and reading results back safely."""

from __future__ import annotations

import os
import socket
import sys
import threading
import uuid
from pathlib import Path

import pytest
from proclist import processes_with

from grader.errors import SandboxUnavailable
from grader.leases import UID_BASE
from grader.sandbox import Limits, Sandbox, probe, runtime_binds

ROOT = Path(__file__).resolve().parents[2]
#: Sandbox code that sends `x` (bytes) back to the grader through the results pipe.
EMIT = "import os\ndef emit(x):\n    os.write(int(os.environ['LUNE_RESULT_FD']), x)\n"


@pytest.fixture(scope="module", autouse=True)
def _sandbox_available():
    probe()


def run_py(_tmp_path: Path, code: str, limits: Limits | None = None, wall: float = 20):
    box = Sandbox(limits or Limits(wall_seconds=wall))
    res = box.run([sys.executable, "-I", "-c", EMIT + code], binds=runtime_binds())
    return res, res.output


def test_runs_python_with_sandbox_chain_and_returns_a_file(tmp_path):
    res, out = run_py(
        tmp_path,
        "import sandbox_chain.hashes as h\nemit(h.sha256(b'abc').hex().encode())",
    )
    assert res.returncode == 0, res.stderr
    assert out == (b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_project_files_and_host_secrets_are_invisible(tmp_path, monkeypatch):
    monkeypatch.setenv("LUNE_FAKE_SECRET", "hunter2")
    code = (
        "import os, json\n"
        "seen = {}\n"
        f"for p in ['{ROOT}/courses', '{ROOT}/grader', '{ROOT}/web', '/etc/passwd',"
        " '/root/.ssh', '/home', '/work/shared']:\n"
        "    seen[p] = os.path.exists(p)\n"
        "seen['env'] = 'hunter2' in json.dumps(dict(os.environ))\n"
        "seen['uid'] = os.getuid()\n"
        "emit(json.dumps(seen).encode())\n"
    )
    res, out = run_py(tmp_path, code)
    assert res.returncode == 0, res.stderr
    import json

    seen = json.loads(out)
    assert seen.pop("uid") != 0
    assert not any(seen.values()), seen


def test_read_only_binds_cannot_be_written(tmp_path):
    target = Path(sys.prefix) / f"lune-attack-{uuid.uuid4().hex}"
    res, _ = run_py(tmp_path, f"open('{target}', 'w').write('x')")
    assert res.returncode != 0
    assert not target.exists()


def test_no_network_even_to_loopback(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    arrived = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
                arrived.append(conn)
                return
            except TimeoutError:
                continue

    t = threading.Thread(target=accept)
    t.start()
    res, out = run_py(
        tmp_path,
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2); r = 'connected'\n"
        "except OSError as e:\n"
        "    r = 'refused'\n"
        "emit(r.encode())\n",
    )
    done.set()
    t.join()
    server.close()
    assert out == b"refused"
    assert arrived == []


def test_fork_bomb_is_contained(tmp_path):
    token = uuid.uuid4().hex
    res, _ = run_py(
        tmp_path,
        f"import os  # {token}\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
        "        pass\n",
        limits=Limits(wall_seconds=3, processes=32),
    )
    assert res.timed_out
    assert processes_with(token) == []


def test_memory_bomb_is_refused(tmp_path):
    res, out = run_py(
        tmp_path,
        "try:\n    x = bytearray(4 * 1024**3)\n    r = 'allocated'\n"
        "except MemoryError:\n    r = 'refused'\nemit(r.encode())\n",
    )
    assert out == b"refused"


def test_cpu_spin_ignoring_sigint_is_killed_on_time(tmp_path):
    token = uuid.uuid4().hex
    res, _ = run_py(
        tmp_path,
        f"import signal  # {token}\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n",
        limits=Limits(wall_seconds=1.5),
    )
    assert res.timed_out and res.returncode is None
    # On time by the learner's clock: time the host kept the sandbox waiting is not counted.
    assert res.wall_seconds - res.starved_seconds < 3
    assert processes_with(token) == []


def test_big_file_write_is_capped(tmp_path):
    res, out = run_py(
        tmp_path,
        "import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "with open('/tmp/big', 'wb') as f:\n"
        "    try:\n        f.write(b'x' * 100 * 1024 * 1024)\n    except OSError:\n        pass\n"
        "emit(str(os.path.getsize('/tmp/big')).encode())\n",
    )
    assert 0 < int(out) <= Limits().file_size_bytes


def test_many_files_hit_the_output_quota(tmp_path):
    # The /tmp tmpfs is the only place files can go, and the kernel caps its size.
    res, out = run_py(
        tmp_path,
        "n = 0\ntry:\n    for i in range(100000):\n"
        "        with open(f'/tmp/f{i}', 'wb') as f:\n            f.write(b'x' * 4096)\n"
        "        n += 1\n"
        "except OSError:\n    pass\nemit(str(n).encode())\n",
        limits=Limits(tmp_bytes=2 * 1024 * 1024, wall_seconds=20),
    )
    assert int(out) <= 2 * 1024 * 1024 // 4096


def test_results_past_the_quota_stop_the_run(tmp_path):
    res, out = run_py(
        tmp_path,
        "while True:\n    emit(b'x' * 65536)\n",
        limits=Limits(output_bytes=2 * 1024 * 1024, wall_seconds=20),
    )
    assert res.over_quota and res.returncode is None
    assert len(out) <= 2 * 1024 * 1024 + 1


def test_daemon_does_not_survive_the_run(tmp_path):
    token = uuid.uuid4().hex
    res, _ = run_py(
        tmp_path,
        f"import os, time  # {token}\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        time.sleep(60)\n    os._exit(0)\n"
        "time.sleep(0.3)\n",
    )
    assert res.returncode == 0
    assert processes_with(token) == []


def test_no_host_folder_is_writable(tmp_path):
    # Results travel through a pipe: no host folder is bound writable, so nothing can be
    # planted (a symlink to the gradebook, a FIFO) for the grader to open.
    res, out = run_py(
        tmp_path,
        "import json\nok = {}\n"
        "for d in ('/sandbox', '/sandbox/in', '/sandbox/out'):\n"
        "    try:\n        os.symlink('/etc/passwd', d + '/planted')\n        ok[d] = True\n"
        "    except OSError:\n        ok[d] = False\n"
        "emit(json.dumps(ok).encode())\n",
    )
    assert res.returncode == 0, res.stderr
    import json

    assert not any(json.loads(out).values())


def test_probe_refuses_with_a_clear_message(monkeypatch):
    import grader.sandbox as sb

    monkeypatch.setattr(sb, "BWRAP", "/nonexistent/bwrap")
    monkeypatch.setattr(sb, "_PROBED", {})
    with pytest.raises(SandboxUnavailable, match="--unsafe-no-sandbox"):
        probe()


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid pool needs root")
def test_sandbox_runs_as_a_leased_pool_uid(tmp_path):
    res, out = run_py(tmp_path, "import time\ntime.sleep(0.3)\nemit(b'x')")
    assert res.returncode == 0 and out == b"x"
    assert res.uid is not None and res.uid >= UID_BASE
