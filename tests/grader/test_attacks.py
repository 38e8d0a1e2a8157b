"""One cohort run of hostile and honest submissions through the full sandboxed nbgrader path.

Every attack is one learner's submission of the fixture course's module; all are graded in
ONE `grade_cohort` run with 2 workers, then each test asserts that its attack failed and that
nothing outside the sandbox changed.
"""

from __future__ import annotations

import copy
import hashlib
import socket
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from proclist import processes_with

from grader.cohort import grade_cohort
from grader.course.config import load_course
from grader.job import Submission
from grader.sandbox import Limits
from grader.workspace import prepare_module

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

COURSE = Path(__file__).parent / "fixtures" / "tiny-course"
MODULE = "01-tiny"
ON_TIME = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
TOKEN = uuid.uuid4().hex
SECRET = f"fake-secret-{TOKEN}"
HONEST_TOKEN = f"honest-{TOKEN}"
SHA_OK = "    return hashlib.sha256(data).hexdigest()"
REV_OK = "    return bytes.fromhex(h)[::-1].hex()"


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def _cells(nb):
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}


def _solve(nb, sha: str | None = SHA_OK, rev: str | None = REV_OK, prefix: str = ""):
    nb = copy.deepcopy(nb)
    cells = _cells(nb)
    if sha is not None:
        cells["sha256_hex"].source = (
            prefix + 'def sha256_hex(data: bytes) -> str:\n    """SHA-256 as hex."""\n' + sha
        )
    elif prefix:
        cells["sha256_hex"].source = prefix + cells["sha256_hex"].source
    if rev is not None:
        cells["reverse_hex"].source = 'def reverse_hex(h: str) -> str:\n    """Reverse."""\n' + rev
    return nb


def _attack(nb, code: str):
    """Attack code at the top of the first solution cell; nothing solved."""
    return _solve(nb, sha=None, rev=None, prefix=code + "\n")


ALWAYS_EQUAL = """
class Anything(str):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = str.__hash__
"""

TRANSFORMER = """
def _swallow(lines):
    body = ''.join(lines)
    wrapped = ['    ' + line for line in body.splitlines(True)]
    return ['try:\\n'] + wrapped + ['\\nexcept BaseException:\\n    pass\\n']
get_ipython().input_transformers_post.append(_swallow)
"""


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    arrived: list = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
                arrived.append(conn)
            except TimeoutError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield server.getsockname()[1], arrived, done
    done.set()
    t.join()
    server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, listener):
    port, arrived, done = listener
    workdir = tmp_path_factory.mktemp("grading")
    course = load_course(COURSE)
    prepare_module(course, course.module(MODULE), workdir)
    release = nbformat.read(workdir / "release" / MODULE / f"{MODULE}.ipynb", as_version=4)
    source = nbformat.read(workdir / "source" / MODULE / f"{MODULE}.ipynb", as_version=4)
    honest_path = workdir / "submitted" / "honest_correct" / MODULE / f"{MODULE}.ipynb"
    gradebook = workdir / "gradebook.db"
    marker = workdir / f"PWNED-{TOKEN}"

    subs: dict[str, nbformat.NotebookNode] = {}
    subs["honest_correct"] = _solve(release, sha=SHA_OK + f"  # {HONEST_TOKEN}")
    subs["honest_source"] = source
    subs["honest_wrong"] = _solve(release, sha="    return hashlib.md5(data).hexdigest()")
    subs["honest_partial"] = _solve(
        release, sha="    return hashlib.sha256(data).hexdigest() if data else ''"
    )
    subs["untouched"] = release
    subs["read_other"] = _attack(
        release,
        f"import glob\nfor p in ['{honest_path}'] + glob.glob('/**/*.ipynb', recursive=True):\n"
        "    try:\n        print(open(p).read())\n    except OSError as e:\n        print(e)",
    )
    subs["read_source"] = _attack(
        release,
        f"for p in ['{COURSE}/checks/{MODULE}.json', '{COURSE}/source/{MODULE}/{MODULE}.ipynb',"
        f" '{workdir}/source/{MODULE}/{MODULE}.ipynb']:\n"
        "    try:\n        print(open(p).read())\n    except OSError as e:\n        print(e)",
    )
    subs["write_gradebook"] = _attack(
        release,
        f"for p in ['{gradebook}', '{marker}']:\n"
        "    try:\n        open(p, 'w').write('pwned')\n    except OSError as e:\n        print(e)",
    )
    subs["env_secret"] = _attack(
        release,
        "import os\nprint(dict(os.environ))\n"
        "for p in ['/proc/1/environ', '/proc/self/environ']:\n"
        "    try:\n        print(open(p, 'rb').read())\n    except OSError as e:\n        print(e)",
    )
    subs["network"] = _attack(
        release,
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "except OSError as e:\n    print(e)",
    )
    subs["fork_bomb"] = _attack(
        release,
        f"import os  # {TOKEN}\nfor _ in range(10000):\n    try:\n        os.fork()\n"
        "    except OSError:\n        break",
    )
    subs["memory_bomb"] = _attack(release, "x = bytearray(8 * 1024 ** 3)")
    subs["infinite_loop"] = _attack(release, "while True:\n    pass")
    subs["spin_ignoring_signals"] = _attack(
        release,
        f"import signal  # {TOKEN}\nfor s in (signal.SIGINT, signal.SIGALRM, signal.SIGTERM):\n"
        "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass",
    )
    subs["big_file"] = _attack(
        release,
        "import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "for p in ['/sandbox/out/big', '/tmp/big']:\n    try:\n"
        "        open(p, 'wb').write(b'x' * 100 * 1024 * 1024)\n    except OSError as e:\n"
        "        print(e)",
    )
    subs["daemon"] = _attack(
        release,
        f"import os, time  # {TOKEN}\nif os.fork() == 0:\n    os.setsid()\n"
        "    if os.fork() == 0:\n        time.sleep(120)\n    os._exit(0)",
    )
    subs["symlink_out"] = _attack(
        release,
        "import os\nfor name in ('cells.jsonl', 'calls.jsonl'):\n"
        "    try:\n        os.remove('/sandbox/out/' + name)\n    except OSError:\n        pass\n"
        f"    os.symlink('{gradebook}', '/sandbox/out/' + name)",
    )
    subs["always_equal"] = _solve(
        release, sha="    return Anything()", rev="    return Anything()", prefix=ALWAYS_EQUAL
    )
    subs["input_transformer"] = _attack(release, TRANSFORMER)
    subs["sys_exit"] = _attack(release, "import sys\nsys.exit(0)")
    subs["os_exit"] = _attack(release, "import os\nos._exit(0)")

    edited = copy.deepcopy(release)
    for gid, cell in _cells(edited).items():
        if gid and gid.endswith(("_visible", "_hidden")):
            cell.source = "pass"
    subs["edited_tests"] = edited
    deleted = copy.deepcopy(release)
    deleted.cells = [
        c
        for c in deleted.cells
        if not c.metadata.get("nbgrader", {}).get("grade_id", "").endswith(("_visible", "_hidden"))
    ]
    subs["deleted_tests"] = deleted
    meta = copy.deepcopy(release)
    for gid, cell in _cells(meta).items():
        if gid and gid.endswith(("_visible", "_hidden")):
            cell.metadata["nbgrader"].update(points=100, grade=False, locked=False)
            cell.source = "pass"
    subs["edited_metadata"] = meta
    prefilled = copy.deepcopy(release)
    for cell in prefilled.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                nbformat.v4.new_output("execute_result", {"text/plain": "100"}, execution_count=1)
            ]
            cell.execution_count = 1
    subs["prefilled_outputs"] = prefilled

    submissions = [
        Submission(name, nbformat.writes(nb).encode(), ON_TIME, f"{name}.ipynb")
        for name, nb in subs.items()
    ]
    # Due 2026-01-10 12:00 UTC, 15 minutes' grace, 10 % per started day, floor 50 %.
    submissions.append(
        Submission(
            "late_correct",
            nbformat.writes(subs["honest_correct"]).encode(),
            datetime(2026, 1, 12, 13, 0, tzinfo=UTC),
        )
    )
    course_before = _tree_digest(COURSE)
    mp = pytest.MonkeyPatch()
    mp.setenv("LUNE_FAKE_SECRET", SECRET)
    try:
        report = grade_cohort(
            COURSE,
            MODULE,
            submissions,
            workers=2,
            workdir=workdir,
            limits=Limits(wall_seconds=8, cpu_seconds=10),
            progress=False,
        )
    finally:
        mp.undo()
    done.set()
    results = {r.learner: r for r in report.results}
    return {
        "results": results,
        "workdir": workdir,
        "arrived": arrived,
        "course_before": course_before,
        "marker": marker,
    }


def _graded_text(graded, learner: str) -> str:
    wd = graded["workdir"]
    nb = wd / "autograded" / learner / MODULE / f"{MODULE}.ipynb"
    feedback = wd / "feedback" / MODULE
    parts = [nb.read_text() if nb.exists() else ""]
    parts += [p.read_text() for p in feedback.glob(f"{learner}.*")]
    return "\n".join(parts)


def test_every_submission_was_graded(graded):
    results = graded["results"]
    assert len(results) == 26
    assert {r.status for r in results.values()} == {"graded"}, {
        k: r.error for k, r in results.items() if r.status != "graded"
    }
    assert all(r.max_score == 6 for r in results.values())


def test_nothing_outside_the_sandbox_changed(graded):
    assert _tree_digest(COURSE) == graded["course_before"]
    assert not graded["marker"].exists()
    assert processes_with(TOKEN) == []
    assert graded["arrived"] == []
    big = [p for p in graded["workdir"].rglob("*") if p.is_file() and p.stat().st_size > 2**24]
    assert big == []


@pytest.mark.parametrize(
    ("learner", "score"),
    [
        ("honest_correct", 6),
        ("honest_source", 6),
        ("untouched", 0),
        # md5 instead of sha256: both sha256 cells fail in nbgrader too.
        ("honest_wrong", 3),
        # Wrong only on the empty input: visible passes (1), hidden fails (0), as nbgrader.
        ("honest_partial", 4),
    ],
)
def test_honest_submissions_score_as_nbgrader_would(graded, learner, score):
    result = graded["results"][learner]
    assert result.score == score
    assert result.late_penalty == 0


def test_late_submission_loses_a_percentage_per_started_day(graded):
    result = graded["results"]["late_correct"]
    assert result.raw_score == 6
    assert result.late_penalty == pytest.approx(6 * 0.3)  # 2 days 1 hour late: 3 started days
    assert result.score == pytest.approx(4.2)


@pytest.mark.parametrize(
    "learner",
    [
        "read_other",
        "read_source",
        "write_gradebook",
        "env_secret",
        "network",
        "fork_bomb",
        "memory_bomb",
        "infinite_loop",
        "spin_ignoring_signals",
        "big_file",
        "daemon",
        "symlink_out",
        "always_equal",
        "input_transformer",
        "sys_exit",
        "os_exit",
        "edited_tests",
        "deleted_tests",
        "edited_metadata",
        "prefilled_outputs",
    ],
)
def test_attack_scores_zero(graded, learner):
    result = graded["results"][learner]
    assert result.score == 0, result.exercises
    assert result.max_score == 6


def test_reads_leak_nothing(graded):
    assert HONEST_TOKEN not in _graded_text(graded, "read_other")
    leaked = _graded_text(graded, "read_source")
    assert "248d6a61d20638b8e5c026930c3e6039" not in leaked  # only in the checks file
    assert "FIPS 180-2 appendix B.2" not in leaked
    assert SECRET not in _graded_text(graded, "env_secret")


def test_gradebook_survives_writes_and_symlinks(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['workdir'] / 'gradebook.db'}") as gb:
        assert gb.find_submission(MODULE, "honest_correct").score == 6
    # Results travel through a pipe: there is no output folder to plant a symlink in.
    assert graded["results"]["symlink_out"].status == "graded"


def test_forgeries_are_caught_by_the_trusted_checks(graded):
    # nbgrader alone would have given full marks: the kernel's asserts were forged.
    for learner in ("always_equal", "input_transformer"):
        result = graded["results"][learner]
        assert sum(ex["capped_by_checks"] for ex in result.exercises) == 6, learner


def test_feedback_shows_visible_output_but_no_hidden_test(graded):
    wd = graded["workdir"]
    md = (wd / "feedback" / MODULE / "untouched.md").read_text()
    page = (wd / "feedback" / MODULE / "untouched.html").read_text()
    assert "NotImplementedError" in md and "0 / 3" in md
    for text in (md, page):
        assert "e3b0c44298fc1c149afbf4c8996fb924" not in text  # hidden test of sha256_hex
        assert "000000000019d6689c085ae165831e93" not in text  # hidden test of reverse_hex
        assert "BEGIN HIDDEN" not in text
    ok = (wd / "feedback" / MODULE / "honest_correct.md").read_text()
    assert "sha256_hex: visible test passed" in ok
    assert "<script" not in page


def test_rerun_skips_unchanged_submissions(graded):
    result = graded["results"]["honest_correct"]
    placed = graded["workdir"] / "submitted" / "honest_correct" / MODULE / f"{MODULE}.ipynb"

    def regrade():
        submission = Submission(
            "honest_correct", placed.read_bytes(), datetime.fromisoformat(result.timestamp)
        )
        return grade_cohort(COURSE, MODULE, [submission], workdir=graded["workdir"], progress=False)

    # The placed file is nbgrader's normalised copy, so it may differ from the submitted bytes;
    # grading it again twice must hit the ledger the second time.
    report = regrade()
    again = regrade()
    assert again.cached == 1 and again.graded == 0
    assert again.results[0].score == report.results[0].score == 6
