"""Scale-out and faults, for real: two portal processes (gunicorn) and three `lune worker`
processes, each in its own working directory as separate hosts would be, sharing nothing but a
PostgreSQL and a Redis server. Both servers are private to this test (own ports, own folders),
so the test can restart them: the queue lost, the database gone during an upload burst, a worker
killed mid-job, a portal killed during uploads. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from portalkit import COURSES, forged, solved
from services import PrivatePostgres, PrivateRedis, free_port

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.network,
    pytest.mark.crash,
    pytest.mark.notebook,
    pytest.mark.slow,
]

SECRET = "scale-out-secret"
LEARNERS = 12


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg = PrivatePostgres()
        self.redis = PrivateRedis()
        self.portals: list[tuple[int, subprocess.Popen]] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.tokens: list[str] = []

    def env(self, host: str) -> dict:
        home = self.root / host
        home.mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.pg.url,
                "REDIS_URL": self.redis.url,
                "LUNE_SECRET_KEY": SECRET,
                "LUNE_INSTANCE_PATH": str(home / "instance"),
                "LUNE_COURSES_DIR": str(COURSES),
                "LUNE_GRADER_WORKDIR": str(home / "grading"),
                "LUNE_SWEEP_SECONDS": "15",
                "LUNE_GRADING_TIMEOUT": "40",
                "LUNE_WORKER_NAME": host,
                "LUNE_LOGIN_LIMIT": "10 per minute",
            }
        )
        return env

    def app(self):
        from web import create_app

        return create_app(
            {
                "DATABASE_URL": self.pg.url,
                "REDIS_URL": self.redis.url,
                "SECRET_KEY": SECRET,
                "COURSES_DIR": str(COURSES),
                "INSTANCE_PATH": str(self.root / "admin"),
            }
        )

    def setup_database(self) -> None:
        from web.commands import upgrade_database
        from web.extensions import db
        from web.services import accounts
        from web.services.catalog import sync_courses

        app = self.app()
        upgrade_database(app)
        with app.app_context():
            sync_courses(COURSES)
            for i in range(LEARNERS):
                user = accounts.create_user(f"l{i}@scale.test", f"Learner {i}", "pw for scale out")
                db.session.commit()
                self.tokens.append(accounts.create_api_token(user, "t")[1])
            db.session.remove()
            db.engine.dispose()

    def start_portal(self, host: str) -> int:
        port = free_port()
        p = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "web.cli",
                "portal",
                "run",
                "--port",
                str(port),
                "--workers",
                "2",
            ],
            env=self.env(host),
            cwd=self.root / host,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / f"{host}.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )
        self.portals.append((port, p))
        _wait(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok, 60)
        return port

    def start_worker(self, host: str) -> None:
        self.workers[host] = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "worker"],
            env=self.env(host),
            cwd=self.root / host,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / f"{host}.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )

    def kill(self, proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(proc.pid, sig)  # the process and every child it forked
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in [p for _, p in self.portals] + list(self.workers.values()):
            if proc.poll() is None:
                self.kill(proc, signal.SIGTERM)


def _wait(condition, seconds: float, every: float = 0.3):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (requests.RequestException, OSError):
            pass
        time.sleep(every)
    raise AssertionError(f"not true within {seconds} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        c = Cluster(tmp_path_factory.mktemp("cluster"))
        c.pg.start()
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot start a private PostgreSQL: {exc}")
    c.pg.create_database()
    c.redis.start()
    c.setup_database()
    c.start_portal("portal-1")
    c.start_portal("portal-2")
    for host in ("grader-a", "grader-b", "grader-c"):
        c.start_worker(host)
    yield c
    c.stop_all()
    c.redis.stop()
    c.pg.destroy()


def upload(cluster: Cluster, learner: int, notebook: bytes, portal: int = 0):
    port = cluster.portals[portal % len(cluster.portals)][0]
    return requests.post(
        f"http://127.0.0.1:{port}/api/v1/courses/lune-101/modules/01-hashing/submissions",
        headers={"Authorization": f"Bearer {cluster.tokens[learner]}"},
        files={"notebook": ("01-hashing.ipynb", notebook)},
        timeout=30,
    )


def rows():
    from web.extensions import db
    from web.models import GradingResult, Submission

    subs = {s.id: s for s in db.session.scalars(db.select(Submission))}
    results = list(db.session.scalars(db.select(GradingResult)))
    return subs, results


def _all_graded(cluster: Cluster, ids: set[int], seconds: float = 300):
    app = cluster.app()

    def done():
        with app.app_context():
            from web.extensions import db

            subs, _ = rows()
            ok = all(subs[i].status in ("graded", "rejected") for i in ids if i in subs)
            db.session.remove()
            return ok

    _wait(done, seconds, every=1)
    with app.app_context():
        subs, results = rows()
        by_sub: dict[int, list] = {}
        for r in results:
            by_sub.setdefault(r.submission_id, []).append(r)
        out = {i: (subs[i], by_sub.get(i, [])) for i in ids}
        snapshot = {
            i: (s.status, s.attempts, [(r.score, r.worker) for r in rs])
            for i, (s, rs) in out.items()
        }
        from web.extensions import db

        db.session.remove()
        db.engine.dispose()
    return snapshot


def test_two_portals_three_graders_share_only_the_two_services(cluster):
    honest, fake = solved("01-hashing"), forged()
    ids, expected = set(), {}
    for i in range(LEARNERS):
        notebook = fake if i % 4 == 3 else honest
        r = upload(cluster, i, notebook, portal=i)
        assert r.status_code == 202, r.text
        ids.add(r.json()["id"])
        expected[r.json()["id"]] = 9.0 if notebook is fake else 12.0
    graded = _all_graded(cluster, ids)
    for sid, (status, _attempts, results) in graded.items():
        assert status == "graded" and len(results) == 1, (sid, status, results)
        assert results[0][0] == expected[sid], (sid, results)
    workers = {results[0][1] for (_s, _a, results) in graded.values()}
    assert len(workers) >= 2, f"one grading host did everything: {workers}"
    # Rate limits are counted in Redis: ten failed sign-ins on one portal, the eleventh on the
    # other is refused.
    statuses = []
    for n in range(11):
        port = cluster.portals[n // 10][0]
        s = requests.Session()
        page = s.get(f"http://127.0.0.1:{port}/login", timeout=10).text
        import re

        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        statuses.append(
            s.post(
                f"http://127.0.0.1:{port}/login",
                timeout=10,
                data={"email": "l0@scale.test", "password": "wrong", "csrf_token": token},
            ).status_code
        )
    assert statuses == [401] * 10 + [429]


def test_a_worker_killed_mid_job_is_replaced_and_one_score_is_stored(cluster):
    for host in ("grader-b", "grader-c"):
        cluster.kill(cluster.workers.pop(host), signal.SIGTERM)
    r = upload(cluster, 0, solved("01-hashing"))
    sid = r.json()["id"]
    app = cluster.app()

    def grading():
        with app.app_context():
            from web.extensions import db
            from web.models import Submission

            status = db.session.get(Submission, sid).status
            db.session.remove()
            return status == "grading"

    _wait(grading, 120, every=0.1)
    cluster.kill(cluster.workers.pop("grader-a"))  # SIGKILL, sandbox and all, mid-job
    cluster.start_worker("grader-b")
    status, attempts, results = _all_graded(cluster, {sid}, seconds=240)[sid]
    assert status == "graded" and attempts >= 2
    assert [score for score, _ in results] == [12.0]


def test_the_queue_lost_with_redis_loses_no_submission(cluster):
    for host in list(cluster.workers):
        cluster.kill(cluster.workers.pop(host), signal.SIGTERM)
    ids = {upload(cluster, i, solved("01-hashing"), portal=i).json()["id"] for i in range(3)}
    cluster.redis.stop()  # it keeps nothing on disk: the three messages are gone
    cluster.redis.start()
    cluster.start_worker("grader-a")
    cluster.start_worker("grader-c")
    graded = _all_graded(cluster, ids, seconds=240)
    assert all(s == "graded" and [r[0] for r in rs] == [12.0] for s, _a, rs in graded.values())


def test_uploads_while_postgres_restarts_get_202_or_503_never_500(cluster):
    acked: list[tuple[int, str]] = []
    refused: list[int] = []
    stop = threading.Event()
    data = solved("01-hashing")

    def burst(i: int):
        n = 0
        while not stop.is_set():
            n += 1
            learner = (i + 4 * n) % LEARNERS  # three tokens a thread: under the upload limit
            try:
                r = upload(cluster, learner, data, portal=i)
            except requests.RequestException:
                continue
            if r.status_code == 202:
                acked.append((r.json()["id"], hashlib.sha256(data).hexdigest()))
            else:
                refused.append(r.status_code)
                if r.status_code == 503:
                    assert r.headers.get("Retry-After")
            time.sleep(0.25)

    threads = [threading.Thread(target=burst, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(2)
    cluster.pg.stop("fast")
    time.sleep(3)
    cluster.pg.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(60)
    assert set(refused) <= {503}, f"statuses other than 202/503: {sorted(set(refused))}"
    assert 503 in refused and acked
    app = cluster.app()
    with app.app_context():
        subs, _ = rows()
        for sid, digest in acked:
            assert sid in subs and subs[sid].sha256 == digest
            assert hashlib.sha256(subs[sid].notebook).hexdigest() == digest
            assert subs[sid].size == len(data)


def test_a_portal_killed_during_uploads_leaves_no_half_written_row(cluster):
    port, victim = cluster.portals[0]
    acked: list[int] = []
    data = solved("01-hashing")

    def burst(i: int):
        for _ in range(20):
            try:
                r = upload(cluster, i, data, portal=0)
            except requests.RequestException:
                return
            if r.status_code == 202:
                acked.append(r.json()["id"])

    threads = [threading.Thread(target=burst, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    cluster.kill(victim)  # gunicorn's master and its workers, SIGKILL
    for t in threads:
        t.join(60)
    app = cluster.app()
    with app.app_context():
        subs, _ = rows()
        assert all(a in subs for a in acked)
        digest = hashlib.sha256(data).hexdigest()
        for s in subs.values():  # every stored row is whole
            assert s.size == len(s.notebook) and hashlib.sha256(s.notebook).hexdigest() == s.sha256
        assert any(s.sha256 == digest for s in subs.values())
