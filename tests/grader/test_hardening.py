"""Holes found by an independent attack cohort and a code review, each closed at its root.

Sandbox-level and pure tests (fast); the grading-level ones are in test_hardening_grading.py.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader.collect import collect
from grader.course.checkfile import ChecksFileError, encode_value, load_checks
from grader.course.config import load_course
from grader.errors import GraderError
from grader.leases import lease_uid
from grader.policy import counted_attempt
from grader.sandbox import RESULT_FD_ENV, Limits, Sandbox, probe, runtime_binds
from grader.sandbox_runner import Unencodable, encode
from grader.submission import SubmissionResult

TINY = Path(__file__).parent / "fixtures" / "tiny-course"
NB = (TINY / "source" / "01-tiny" / "01-tiny.ipynb").read_bytes()
EMIT = f"import os\ndef emit(x):\n    os.write(int(os.environ['{RESULT_FD_ENV}']), x)\n"


def run(code: str, limits: Limits | None = None, **kw):
    probe()
    box = Sandbox(limits or Limits(wall_seconds=20))
    return box.run([sys.executable, "-I", "-c", EMIT + code], binds=runtime_binds(), **kw)


# --- 2. uid leases ---------------------------------------------------------------------------


def _hold(conn) -> None:
    with lease_uid() as uid:
        conn.send(uid)
        conn.recv()  # hold until told to go


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid pool needs root")
def test_a_sandbox_uid_is_leased_to_one_process_at_a_time():
    ctx = mp.get_context("fork")
    pipes, procs = [], []
    for _ in range(3):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_hold, args=(child,))
        p.start()
        pipes.append(parent)
        procs.append(p)
    try:
        held = [c.recv() for c in pipes]
        with lease_uid() as mine:
            assert len({*held, mine}) == 4  # all different while all are held
    finally:
        for c in pipes:
            c.send("go")
        for p in procs:
            p.join(10)
    # A holder that dies releases its uid (the kernel drops its flock).
    with lease_uid() as again:
        assert again is not None


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid pool needs root")
def test_cleanup_never_touches_another_sandbox():
    # Before leases, every sandbox of worker 0 ran as one uid and each run's cleanup killed
    # every process of that uid: a second grading killed the first one's sandbox.
    ctx = mp.get_context("fork")
    out = ctx.Queue()

    def long_run():
        res = run("import time\ntime.sleep(2.5)\nemit(b'survived')")
        out.put((res.output, res.returncode))

    p = ctx.Process(target=long_run)
    p.start()
    time.sleep(0.8)
    for _ in range(3):
        assert run("emit(b'short')").output == b"short"
    p.join(30)
    assert out.get(timeout=5) == (b"survived", 0)


# --- 3. output bounded by the kernel -------------------------------------------------------


def test_files_deleted_while_open_still_count_against_the_cap():
    # 16 files of up to 16 MiB each, unlinked while held open: a folder scan never sees them.
    code = (
        "import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "held, total = [], 0\n"
        "for d in ('/sandbox/out', '/tmp'):\n"
        "    for i in range(16):\n"
        "        try:\n"
        "            f = open(f'{d}/held{i}', 'wb')\n"
        "            os.unlink(f'{d}/held{i}')\n"
        "        except OSError:\n"
        "            continue\n"
        "        held.append(f)\n"
        "        for _ in range(16):\n"
        "            try:\n"
        "                total += f.write(b'x' * (1 << 20))\n"
        "                f.flush()\n"
        "            except OSError:\n"
        "                break\n"
        "emit(str(total).encode())\n"
    )
    res = run(code, Limits(wall_seconds=30, tmp_bytes=32 << 20))
    assert res.returncode == 0, res.stderr
    assert int(res.output) <= 32 << 20


# --- 4. one memory ceiling for the whole sandbox ---------------------------------------------


def test_memory_is_bounded_for_the_whole_sandbox_not_per_process():
    # Each child stays under RLIMIT_AS; together they pass the sandbox's memory.
    code = (
        "import time\nkids = []\n"
        "for i in range(3):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        x = bytearray(200 * 2**20)\n"
        "        x[:: 4096] = b'x' * len(x[:: 4096])\n"
        "        time.sleep(3)\n"
        "        os._exit(0)\n"
        "    kids.append(pid)\n"
        "for pid in kids:\n    os.waitpid(pid, 0)\n"
        "emit(b'all three allocated')\n"
    )
    res = run(code, Limits(memory_bytes=400 << 20, wall_seconds=20))
    assert res.memory_exceeded and res.output == b""
    assert res.limit_hit == "memory limit"


# --- 8. seccomp, and time limits a learner cannot switch off ---------------------------------


def test_seccomp_refuses_ptrace_io_uring_bpf_and_keyctl():
    code = (
        "import ctypes, json\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "got = {}\n"
        "for name, nr, args in [('ptrace', 101, (16, 1, 0, 0)), ('io_uring_setup', 425, (1, 0)),"
        " ('bpf', 321, (0, 0, 0)), ('keyctl', 250, (0, 0)), ('userfaultfd', 323, (0,)),"
        " ('perf_event_open', 298, (0, 0, -1, -1, 0))]:\n"
        "    r = libc.syscall(nr, *args)\n"
        "    got[name] = (r, ctypes.get_errno())\n"
        "emit(json.dumps(got).encode())\n"
    )
    if os.uname().machine != "x86_64":
        pytest.skip("syscall numbers of this test are x86_64's")
    res = run(code)
    got = json.loads(res.output)
    assert all(r == -1 and err == 1 for r, err in got.values()), got  # EPERM


def test_blocked_signals_do_not_extend_the_cpu_budget():
    code = (
        "import signal\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGPROF, "
        "signal.SIGXCPU})\n"
        "while True:\n    pass\n"
    )
    res = run(code, Limits(wall_seconds=60), cpu_seconds=2)
    assert res.cpu_exceeded and res.limit_hit == "CPU time limit"
    assert res.cpu_seconds < 4  # stopped at its budget, not at the wall clock


# --- 13. a loaded host does not eat the learner's time --------------------------------------


def _hog(stop: float) -> None:
    os.sched_setaffinity(0, {0})
    while time.monotonic() < stop:
        pass


def test_time_the_host_kept_the_sandbox_waiting_is_not_the_learners():
    # 1.2 s of CPU against a 2 s wall limit, on one CPU shared with three busy processes: it
    # takes ~4-5 s of wall time, all but ~1.2 s of it spent waiting for the CPU.
    code = (
        "import time\nt = time.process_time()\n"
        "while time.process_time() - t < 1.2:\n    pass\nemit(b'done')\n"
    )
    ctx = mp.get_context("fork")
    stop = time.monotonic() + 20
    hogs = [ctx.Process(target=_hog, args=(stop,)) for _ in range(3)]
    before = os.sched_getaffinity(0)
    try:
        for h in hogs:
            h.start()
        os.sched_setaffinity(0, {0})
        res = run(code, Limits(wall_seconds=2))
    finally:
        os.sched_setaffinity(0, before)
        for h in hogs:
            h.kill()
            h.join()
    assert res.output == b"done" and not res.timed_out, res
    assert res.wall_seconds > 2  # the host really was that slow
    assert res.starved_seconds > 1


def test_a_fork_bomb_waiting_on_itself_gets_no_extra_time():
    res = run(
        "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        Limits(wall_seconds=2, processes=16),
    )
    assert res.timed_out and not res.host_timeout
    assert res.wall_seconds < 8


# --- 5. identity and time come from the LMS's part of a name only ---------------------------


def test_the_learners_own_file_name_cannot_choose_identity_or_time(tmp_path):
    archive = tmp_path / "cohort.zip"
    with zipfile.ZipFile(archive, "w") as z:
        # Late (the 12th), named to look on time (the 9th).
        z.writestr(
            "01-tiny_mallory_attempt_2026-01-12-09-00-00_x_mallory_attempt_2026-01-09-09-00-00_y"
            ".ipynb",
            NB,
        )
        # mallory's upload named as victim's later attempt.
        z.writestr(
            "01-tiny_mallory_attempt_2026-01-09-10-00-00_x_victim_attempt_2026-01-09-23-00-00_y"
            ".ipynb",
            NB,
        )
        z.writestr("01-tiny_victim_attempt_2026-01-09-11-00-00_01-tiny.ipynb", NB)
    subs, skipped = collect(archive)
    got = sorted((s.learner, s.timestamp) for s in subs)
    assert got == [
        ("mallory", datetime(2026, 1, 9, 10, tzinfo=UTC)),
        ("mallory", datetime(2026, 1, 12, 9, tzinfo=UTC)),
        ("victim", datetime(2026, 1, 9, 11, tzinfo=UTC)),
    ]
    assert skipped == []


# --- 7. one bad entry is one line, the others are graded ------------------------------------


def test_a_directory_or_fifo_named_ipynb_is_skipped_in_one_line(tmp_path):
    (tmp_path / "bob.ipynb").mkdir()
    os.mkfifo(tmp_path / "x.ipynb")
    (tmp_path / "carol.ipynb").write_bytes(NB)
    subs, skipped = collect(tmp_path)  # must not hang on the FIFO
    assert [s.learner for s in subs] == ["carol"]
    assert sorted(s.split(":")[0] for s in skipped) == ["bob.ipynb", "x.ipynb"]
    assert all("\n" not in s for s in skipped)


def test_a_zip_member_whose_header_lies_is_skipped(tmp_path):
    archive = tmp_path / "cohort.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("alice.ipynb", NB)
        z.writestr("dave.ipynb", NB)
    data = bytearray(archive.read_bytes())
    # Corrupt dave's compressed bytes: reading the member fails its CRC or inflation.
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("dave.ipynb")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + 60):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))
    subs, skipped = collect(archive)
    assert [s.learner for s in subs] == ["alice"]
    assert len(skipped) == 1 and skipped[0].startswith("dave.ipynb:")


# --- 9. one reader of course.toml, one of the checks file, one encoding ----------------------


def test_a_module_late_policy_override_inherits_the_course_default(tmp_path):
    text = (TINY / "course.toml").read_text()
    text += "\n[module.late_policy]\npercent = 20\n"
    (tmp_path / "course.toml").write_text(text)
    late = load_course(tmp_path).module("01-tiny").late_policy
    assert (late.per, late.percent, late.floor, late.grace_minutes) == ("day", 20, 50, 15)


def test_without_a_floor_the_penalty_can_reach_zero(tmp_path):
    text = (TINY / "course.toml").read_text().replace("floor = 50\n", "")
    (tmp_path / "course.toml").write_text(text)
    late = load_course(tmp_path).module("01-tiny").late_policy
    assert late.floor == 0 and late.penalty_fraction(20 * 86400) == 1.0


@pytest.mark.parametrize("value", [bytearray(b"ab"), float("nan"), memoryview(b"ab")])
def test_the_course_check_encodes_values_as_strictly_as_the_sandbox(value):
    with pytest.raises(Unencodable):
        encode(value)
    with pytest.raises(TypeError):
        encode_value(value)  # the course check's encoding is the same function


def test_a_checks_file_with_a_nan_expected_value_is_refused(tmp_path):
    data = json.loads((TINY / "checks" / "01-tiny.json").read_text())
    data["exercises"][0]["cases"][0]["expected"] = float("nan")
    path = tmp_path / "01-tiny.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ChecksFileError, match="not a plain JSON value"):
        load_checks(path, "01-tiny")
    assert isinstance(ChecksFileError("x"), GraderError)


def test_a_bytearray_solution_fails_the_course_check_as_it_fails_grading(tmp_path):
    # The same value that every learner would fail with must fail the instructor's check.
    nb = json.loads(NB)
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if "def reverse_hex" in src:
            cell["source"] = src.replace(
                "return bytes.fromhex(h)[::-1].hex()", "return bytearray(bytes.fromhex(h)[::-1])"
            )
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.course.solution_runner",
            str(path),
            str(TINY / "checks" / "01-tiny.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    results = json.loads(out.stdout.splitlines()[-1])
    assert all("$error" in r and "Unencodable" in r["$error"] for r in results["reverse_hex"])


# --- issue 15: one rule each ----------------------------------------------------------------


def test_collect_and_report_do_not_import_nbgrader():
    code = (
        "import sys, grader.collect, grader.report\n"
        "print(any(m.startswith('nbgrader') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _attempt(score: float, status: str = "graded") -> SubmissionResult:
    return SubmissionResult("m", "a", "t", status, score=score)


@pytest.mark.parametrize(
    ("scores", "policy", "counted"),
    [
        ([6, 3], "best", 0),
        ([3, 6], "best", 1),
        ([6, 6], "best", 1),  # the newest of equal ones
        ([6, 3], "latest", 1),
    ],
)
def test_one_rule_picks_the_attempt_that_counts(scores, policy, counted):
    assert counted_attempt([_attempt(s) for s in scores], policy) == counted


def test_an_attempt_that_was_not_graded_never_counts_over_a_graded_one():
    attempts = [_attempt(4), _attempt(0, "error"), _attempt(0, "rejected")]
    assert counted_attempt(attempts, "best") == 0
    assert counted_attempt(attempts, "latest") == 0
