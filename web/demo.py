"""`lune demo`: the whole platform on embedded defaults, with a demo cohort to look at.

1. The chain: open (or create) a regtest chain in `<datadir>/chain`, mining `blocks` blocks to
   the demo key when it is new.
2. The portal: an instance in `<datadir>/portal` (SQLite database, SqliteHuey queue), the courses
   synced, and a demo cohort seeded once — an instructor, three learners (credentials printed),
   the first two with graded work so the dashboard is not empty.
3. The services: a sandbox node on the chain, a `lune worker` and the portal (gunicorn), on
   127.0.0.1. In a terminal they run until Ctrl-C; otherwise (CI, tests) the demo checks that the
   portal answers and that a fresh upload gets graded, then stops everything and exits.

`--chain-only` does step 1 and the node alone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from grader.course.config import DEFAULT_COURSE
from sandbox_chain.chainstate import Chain
from sandbox_chain.encoding import hash_to_hex
from sandbox_chain.hashes import hash160
from sandbox_chain.keys import demo_key
from sandbox_chain.miner import generate_to_script
from sandbox_chain.params import REGTEST
from sandbox_chain.script import p2pkh_script

DEMO_PASSWORD = "lune-demo-password"
INSTRUCTOR = ("instructor@demo.lune", "Inès Formatrice")
LEARNERS = [
    ("alice@demo.lune", "Alice Martin"),
    ("bruno@demo.lune", "Bruno Petit"),
    ("chloe@demo.lune", "Chloé Durand"),
]
ADMIN = ("admin@demo.lune", "Ada Admin")
PORTAL_PORT = 5000
DEMO_COURSE = DEFAULT_COURSE


def run_demo(
    datadir: str,
    blocks: int = 10,
    echo: Callable[[str], None] = print,
    serve: bool | None = None,
    chain_only: bool = False,
) -> None:
    """Set up (or reopen) the demo and run it; see the module docstring."""
    serve = sys.stdin.isatty() if serve is None else serve
    chain_dir = Path(datadir).resolve() / "chain"
    _prepare_chain(chain_dir, blocks, echo)
    if chain_only:
        _run_node(chain_dir, echo, serve)
        return
    instance = Path(datadir).resolve() / "portal"
    port = PORTAL_PORT if serve else _free_port()
    _prepare_portal(instance, chain_dir, port, echo)
    _run_platform(chain_dir, instance, port, echo, serve)


def _prepare_chain(chain_dir: Path, blocks: int, echo: Callable[[str], None]) -> None:
    with Chain.open(chain_dir, REGTEST) as chain:
        key = demo_key()
        if chain.height == 0:
            echo(f"Mining {blocks} regtest blocks into {chain_dir} ...")
            generate_to_script(chain, p2pkh_script(hash160(key.public_key().sec())), blocks)
        else:
            echo(f"Reopened the chain in {chain_dir}.")
        echo(f"tip:    {hash_to_hex(chain.tip)}")
        echo(f"height: {chain.height}")
        echo(f"demo address: {key.public_key().address('regtest')}")
        height = chain.height
    echo("The `lune` command is in .venv/bin: run `source .venv/bin/activate` first.")
    echo("Open the course (JupyterLab, on 127.0.0.1) with:")
    echo("  lune lab")
    echo("Inspect the chain with:")
    echo(f"  lune chain info --datadir {chain_dir}")
    echo(f"  lune chain block {height} --datadir {chain_dir}")
    echo(f"  lune chain balance --datadir {chain_dir}")


def _run_node(chain_dir: Path, echo: Callable[[str], None], serve: bool) -> None:
    """Start a node on the demo chain and show a curl call; serve until Ctrl-C if asked."""
    node = _start_node(chain_dir, serve, echo)
    try:
        if serve:
            echo("Ctrl-C stops the node.")
            node.run_until_stopped()
    finally:
        node.stop()


def _start_node(chain_dir: Path, serve: bool, echo: Callable[[str], None]):
    from sandbox_chain.node.client import RPCClient
    from sandbox_chain.node.node import NodeConfig, curl_example, start_node

    # Serving: the default ports, so the docs' examples work; otherwise any free port.
    ports = {} if serve else {"rpcport": 0, "port": 0}
    node = start_node(NodeConfig(datadir=chain_dir, **ports))
    client = RPCClient.from_datadir(chain_dir)
    height = client.call("getblockcount")
    client.close()
    echo(f"Node running on {chain_dir} (height {height}): JSON-RPC and REST at")
    echo(f"  http://127.0.0.1:{node.rpc_service.port}/ (P2P port {node.p2p_service.port})")
    echo("Talk to it with:")
    echo(f"  {curl_example(node)}")
    echo(f"  curl -s http://127.0.0.1:{node.rpc_service.port}/rest/chaininfo")
    return node


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _portal_settings(instance: Path, chain_dir: Path, port: int) -> dict:
    return {
        "INSTANCE_PATH": str(instance),
        "NODE_DATADIR": str(chain_dir),
        "BASE_URL": f"http://127.0.0.1:{port}",
    }


def _prepare_portal(instance: Path, chain_dir: Path, port: int, echo: Callable[[str], None]):
    """Instance, database, courses and the seeded cohort (once)."""
    from web import create_app
    from web.commands import upgrade_database
    from web.services.catalog import sync_courses
    from web.settings import ensure_instance

    ensure_instance(instance)
    app = create_app(_portal_settings(instance, chain_dir, port))
    upgrade_database(app)
    with app.app_context():
        echo("Loading the courses into the portal (nbgrader builds the learner notebooks) ...")
        sync_courses(Path(app.config["COURSES_DIR"]), echo=echo)
        _seed(app, echo)


def _seed(app, echo: Callable[[str], None]) -> None:
    from web.extensions import db
    from web.models import Cohort
    from web.services import accounts, cohorts, jobs, submissions
    from web.services.catalog import get_module

    if accounts.find_user(INSTRUCTOR[0]) is not None:
        echo("The demo cohort is already there.")
        return
    echo("Seeding the demo cohort and grading two learners' work (about a minute) ...")
    accounts.create_user(*ADMIN, DEMO_PASSWORD, role="admin")
    teacher = accounts.create_user(*INSTRUCTOR, DEMO_PASSWORD, role="instructor")
    db.session.commit()
    cohort = cohorts.create_cohort(teacher, DEMO_COURSE, "Démo Paris 2027")
    people = []
    for email, name in LEARNERS:
        user = accounts.create_user(email, name, DEMO_PASSWORD)
        cohorts.enroll(user, cohort)
        people.append(user)
    db.session.commit()
    work = {0: ["00-onboarding", "01-hashing"], 1: ["00-onboarding"]}
    course_dir = Path(app.config["COURSES_DIR"]) / DEMO_COURSE
    for index, modules in work.items():
        for slug in modules:
            module = get_module(DEMO_COURSE, slug)
            notebook = (course_dir / "source" / slug / f"{slug}.ipynb").read_bytes()
            sub = submissions.accept_upload(people[index], module, f"{slug}.ipynb", notebook)
            outcome = jobs.grade(sub.id)
            echo(f"  {people[index].name}: {slug} {outcome}")
    assert db.session.get(Cohort, cohort.id) is not None


def _lune(*args: str) -> list[str]:
    return [sys.executable, "-m", "web.cli", *args]


def _run_platform(
    chain_dir: Path, instance: Path, port: int, echo: Callable[[str], None], serve: bool
) -> None:
    env = dict(os.environ)
    env.update({f"LUNE_{k}": v for k, v in _portal_settings(instance, chain_dir, port).items()})
    node = _start_node(chain_dir, serve, echo)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(_lune("worker"), env=env))
        procs.append(
            subprocess.Popen(
                _lune("portal", "run", "--port", str(port)),
                env=env,
                stdout=None if serve else subprocess.DEVNULL,
                stderr=None if serve else subprocess.DEVNULL,
            )
        )
        url = f"http://127.0.0.1:{port}/"
        _wait_for(url, procs)
        echo("")
        echo(f"Lune Academy is running: {url}")
        echo(f"  instructor: {INSTRUCTOR[0]}   learners: {', '.join(e for e, _ in LEARNERS)}")
        echo(f"  admin: {ADMIN[0]}   password (every demo account): {DEMO_PASSWORD}")
        if serve:
            echo(f"A block is mined every {MINE_EVERY:.0f} s, so faucet payments confirm.")
            echo("Ctrl-C stops the portal, the worker and the node.")
            stop = threading.Event()
            threading.Thread(target=_keep_mining, args=(chain_dir, stop), daemon=True).start()
            try:
                _wait_until_interrupted(procs)
            finally:
                stop.set()
        else:
            _smoke(url, env, echo)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        node.stop()


MINE_EVERY = 30.0


def _keep_mining(chain_dir: Path, stop: threading.Event) -> None:
    """The demo chain has no miners of its own: mine a block to the demo key now and then."""
    from sandbox_chain.node.client import RPCClient

    address = demo_key().public_key().address("regtest")
    while not stop.wait(MINE_EVERY):
        try:
            client = RPCClient.from_datadir(chain_dir)
            client.call("generatetoaddress", 1, address)
            client.close()
        except Exception:  # the node may be stopping: try again next time
            continue


def _wait_for(url: str, procs: list[subprocess.Popen], timeout: float = 60.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{' '.join(p.args)} exited with {p.returncode}")
        try:
            if requests.get(url + "login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the portal did not answer on {url} within {timeout:.0f} s")


def _wait_until_interrupted(procs: list[subprocess.Popen]) -> None:
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


def _form_token(page: str) -> str:
    """The CSRF token a portal page's form carries."""
    import re

    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _smoke(url: str, env: dict, echo: Callable[[str], None]) -> None:
    """Not in a terminal: prove the running platform grades an upload, then stop."""

    import requests

    s = requests.Session()
    page = s.get(url + "login", timeout=10).text
    token = _form_token(page)
    r = s.post(
        url + "login",
        data={"email": LEARNERS[2][0], "password": DEMO_PASSWORD, "csrf_token": token},
        timeout=30,
        allow_redirects=False,
    )
    if r.status_code != 302:
        raise RuntimeError(f"demo sign-in failed ({r.status_code})")
    course = Path(__file__).resolve().parents[1] / "courses" / DEMO_COURSE
    notebook = (course / "source" / "00-onboarding" / "00-onboarding.ipynb").read_bytes()
    page = s.get(url + "learn/lune-101/00-onboarding", timeout=10).text
    token = _form_token(page)
    r = s.post(
        url + "learn/lune-101/00-onboarding/submit",
        data={"csrf_token": token},
        files={"notebook": ("00-onboarding.ipynb", notebook)},
        timeout=30,
        allow_redirects=False,
    )
    status_url = url.rstrip("/") + r.headers["Location"] + "/status"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = s.get(status_url, timeout=10).json()
        if status["final"]:
            echo(
                f"Demo check: {LEARNERS[2][1]} uploaded 00-onboarding and got "
                f"{status['score']:g} / {status['max_score']:g} from the worker."
            )
            return
        time.sleep(1)
    raise RuntimeError("the demo upload was not graded within 180 s")
