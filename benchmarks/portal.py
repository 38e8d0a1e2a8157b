"""Portal: a learner's progress page vs a hello-world route, and upload → score latency.

Figures (one run, ratios against baselines measured in the same run):
- gunicorn with 2 sync workers serving the portal on SQLite; the progress page of a learner in a
  200-learner cohort (every learner graded on every module) vs a hello-world WSGI route mounted in
  the same server process: requests/s ratio (goal ≥ 0.3) and the page's p50/p99 latency
  (goal p99 < 50 ms);
- upload of the module's solved notebook through the API → score visible, with one idle
  `lune worker` grading in the sandbox: p50 and p95 seconds (goal p50 < 2 s), next to plain
  `nbgrader autograde` (its CLI) of the same notebook, timed here too.

Run: `.venv/bin/python benchmarks/portal.py [--seconds 5] [--uploads 10]`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COURSES = ROOT / "courses"
MODULE = "01-hashing"
PASSWORD = "benchmark passphrase"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(instance: Path, port: int) -> dict:
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "benchmark",
        "REDIS_URL": None,
        "COURSES_DIR": str(COURSES),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "RATELIMIT_ENABLED": False,
    }


def seed(instance: Path, port: int, learners: int) -> None:
    """200 learners in one cohort, each with a graded submission of every module."""
    from web import create_app
    from web.commands import upgrade_database
    from web.extensions import db
    from web.models import GradingResult, Module, Submission
    from web.services import accounts, cohorts
    from web.services.catalog import sync_courses

    app = create_app(_settings(instance, port))
    upgrade_database(app)
    rng = random.Random(7)
    with app.app_context():
        sync_courses(COURSES)
        teacher = accounts.create_user("teacher@bench.lune", "Teacher", PASSWORD, role="instructor")
        db.session.commit()
        cohort = cohorts.create_cohort(teacher, "lune-101", "Benchmark cohort")
        modules = db.session.scalars(db.select(Module).filter_by(course_id="lune-101")).all()
        hashed = accounts.hash_password(PASSWORD)
        for i in range(learners):
            user = accounts.create_user(f"learner{i}@bench.lune", f"Learner {i:03d}", None)
            user.password_hash = hashed
            cohorts.enroll(user, cohort)
            for m in modules:
                for _attempt in range(2):
                    sub = Submission(
                        user_id=user.id,
                        module_id=m.id,
                        cohort_id=cohort.id,
                        filename=f"{m.slug}.ipynb",
                        notebook=b"{}",
                        sha256="0" * 64,
                        size=2,
                        status="graded",
                    )
                    score = round(rng.uniform(0, m.points), 1)
                    sub.result = GradingResult(
                        status="graded",
                        raw_score=score,
                        score=score,
                        max_score=m.points,
                        exercises=[],
                    )
                    db.session.add(sub)
        db.session.commit()


def serve(instance: Path, port: int) -> None:
    """gunicorn, 2 sync workers: the portal, with /__hello answered by a bare WSGI function."""
    from gunicorn.app.base import BaseApplication

    from web import create_app

    portal = create_app(_settings(instance, port))

    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/__hello":
            return hello(environ, start_response)
        return portal(environ, start_response)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"127.0.0.1:{port}")
            self.cfg.set("workers", 2)
            self.cfg.set("accesslog", None)
            self.cfg.set("loglevel", "warning")

        def load(self):
            return app

    Server().run()


def _login(url: str, email: str) -> requests.Session:
    s = requests.Session()
    page = s.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = s.post(
        url + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, r.status_code
    return s


def load(url: str, cookies, seconds: float, threads: int) -> tuple[float, list[float]]:
    """Requests/s and latencies of `threads` keep-alive clients hammering `url` for `seconds`."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        s = requests.Session()
        s.cookies.update(cookies)
        mine = []
        while time.monotonic() < stop:
            t = time.perf_counter()
            r = s.get(url, timeout=30)
            mine.append(time.perf_counter() - t)
            assert r.status_code == 200, r.status_code
        with lock:
            latencies.extend(mine)

    start = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(latencies) / (time.monotonic() - start), latencies


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def uploads(url: str, instance: Path, n: int) -> list[float]:
    """n uploads one after the other, each timed until its score is visible."""
    from web import create_app
    from web.extensions import db
    from web.services import accounts

    app = create_app(_settings(instance, 0))
    with app.app_context():
        user = accounts.find_user("learner0@bench.lune")
        _row, token = accounts.create_api_token(user, "bench")
        db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}
    notebook = (COURSES / "lune-101" / "source" / MODULE / f"{MODULE}.ipynb").read_bytes()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = requests.post(
            f"{url}/api/v1/courses/lune-101/modules/{MODULE}/submissions",
            headers=headers,
            files={"notebook": (f"{MODULE}.ipynb", notebook)},
            timeout=30,
        )
        assert r.status_code == 202, r.text
        status_url = url + r.headers["Location"]
        while True:
            s = requests.get(status_url, headers=headers, timeout=30).json()
            if s["final"]:
                break
            time.sleep(0.05)
        times.append(time.perf_counter() - t)
        assert s["score"] == s["max_score"], s
    return times


def plain_nbgrader(tmp: Path, runs: int) -> list[float]:
    """`nbgrader autograde` of the same notebook in its own course directory (CLI, as used)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    plain = tmp / "plain"
    shutil.copytree(COURSES / "lune-101", plain, ignore=shutil.ignore_patterns("checks", "release"))
    subprocess.run(
        [BIN / "nbgrader", "generate_assignment", MODULE, "--force"],
        cwd=plain,
        env=env,
        check=True,
        capture_output=True,
    )
    dest = plain / "submitted" / "learner0" / MODULE
    dest.mkdir(parents=True)
    shutil.copy(COURSES / "lune-101" / "source" / MODULE / f"{MODULE}.ipynb", dest)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [BIN / "nbgrader", "autograde", MODULE, "--force"],
            cwd=plain,
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each load run")
    ap.add_argument("--threads", type=int, default=8, help="concurrent keep-alive clients")
    ap.add_argument("--learners", type=int, default=200)
    ap.add_argument("--uploads", type=int, default=10)
    ap.add_argument("--serve", nargs=2, metavar=("INSTANCE", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return 0
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    with tempfile.TemporaryDirectory(prefix="lune-bench-portal-") as tmp:
        tmp = Path(tmp)
        instance = tmp / "instance"
        instance.mkdir()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        print(f"seeding {args.learners} learners × every module ...", flush=True)
        seed(instance, port, args.learners)
        env = {
            **os.environ,
            "LUNE_INSTANCE_PATH": str(instance),
            "LUNE_SECRET_KEY": "benchmark",
            "LUNE_COURSES_DIR": str(COURSES),
        }
        env.pop("REDIS_URL", None)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(instance), str(port)], env=env
        )
        worker = None
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(url + "/__hello", timeout=1)
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            session = _login(url, "learner0@bench.lune")
            progress_url = url + "/learn/lune-101/progress"
            load(progress_url, session.cookies, 1.0, args.threads)  # warm-up
            hello_rps, _ = load(url + "/__hello", {}, args.seconds, args.threads)
            page_rps, lat = load(progress_url, session.cookies, args.seconds, args.threads)
            print(f"hello-world route:   {hello_rps:8.0f} requests/s")
            print(
                f"progress page:       {page_rps:8.0f} requests/s  ratio {page_rps / hello_rps:.2f}"
                f" (goal ≥ 0.3)"
            )
            print(
                f"progress page latency at {args.threads} clients: p50 "
                f"{_pct(lat, 50) * 1000:.1f} ms, p99 {_pct(lat, 99) * 1000:.1f} ms"
                " (goal p99 < 50 ms)"
            )
            one_rps, one_lat = load(progress_url, session.cookies, args.seconds, 1)
            print(
                f"progress page, 1 client: {one_rps:.0f} requests/s, p99 "
                f"{_pct(one_lat, 99) * 1000:.1f} ms"
            )

            worker = subprocess.Popen(
                [sys.executable, "-m", "web.cli", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(3)  # the worker's imports: it is idle when the first upload arrives
            times = uploads(url, instance, args.uploads)
            plain = plain_nbgrader(tmp, 3)
            p50, p95 = statistics.median(times), _pct(times, 95)
            print(
                f"upload → score visible (sandbox on, idle worker, {len(times)} uploads): "
                f"p50 {p50:.2f} s, p95 {p95:.2f} s (goal p50 < 2 s)"
            )
            print(
                f"plain nbgrader autograde (CLI) of the same notebook: median "
                f"{statistics.median(plain):.2f} s; upload→score / nbgrader = "
                f"{p50 / statistics.median(plain):.2f}"
            )
        finally:
            for p in (worker, server):
                if p is not None and p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
