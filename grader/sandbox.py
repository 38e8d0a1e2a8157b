"""Run untrusted learner code under bubblewrap (Debian's `bwrap`, unprivileged user namespaces).

What one sandbox run gets, and nothing else:

- a new user, PID, mount, network, IPC, UTS and cgroup namespace (`--unshare-all`): no network,
  not even loopback to the host; no view of other processes;
- its own leased host uid when the grader runs as root (`grader.leases`: exclusive on the
  host for the run's whole life, so `RLIMIT_NPROC`, which counts per uid, bounds the processes
  of this sandbox only, and cleanup kills only this sandbox's processes), `--disable-userns`
  inside, and a seccomp filter (`grader.seccomp`: no ptrace, io_uring, bpf, keyctl, mounts…);
- read-only binds of what the Python interpreter needs (`/usr`, the interpreter prefix, the
  virtual environment, the `sandbox_chain` package) and the job's input files; the only
  writable places are a size-capped private `/tmp` (mounted *before* any bind so it cannot
  hide one: bubblewrap applies mounts in order) and a small capped `/dev/shm`, both tmpfs the
  kernel bounds, deleted-but-open files included; `--clearenv` plus a minimal environment (no
  secrets of the grader);
- results come back only through a pipe (fd `$LUNE_RESULT_FD`), read with a byte quota: no
  file of the sandbox is ever opened by the grader;
- limits: CPU seconds of the whole sandbox (every process, measured by the supervisor, with
  `RLIMIT_CPU` per process as the kernel's backstop), resident memory of the whole sandbox
  (summed over its processes, `RLIMIT_AS` per process as the backstop), processes
  (`RLIMIT_NPROC` on the leased uid), open files, file size, core dumps, and a wall clock that
  counts only the time the sandbox was not kept waiting for a CPU by the host (so a loaded
  host does not eat a learner's time). The sandbox's PID namespace dies with its init, so
  nothing (daemons included) survives a run.

A run the supervisor had to end for the host's sake (a host so loaded that the sandbox spent
most of its time waiting) reports `host_timeout`: an infrastructure failure, never a verdict.
Reference: bubblewrap(1), 0.8.0; proc(5) for `stat` and `schedstat`.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SandboxFailure, SandboxUnavailable
from grader.leases import lease_uid
from grader.seccomp import filter_program

BWRAP = os.environ.get("LUNE_GRADER_BWRAP", "/usr/bin/bwrap")
INNER_UID = 1000
IN_DIR = "/sandbox/in"
#: Environment variable naming the results pipe's file descriptor inside the sandbox.
RESULT_FD_ENV = "LUNE_RESULT_FD"

_CLONE_NEWNS = 0x00020000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_PDEATHSIG = 1
_SHM_BYTES = 8 * 1024 * 1024
_STDERR_KEEP = 8192
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox run (each bounds the whole sandbox unless it says so)."""

    cpu_seconds: int = 60  # CPU time of every process of the sandbox together
    memory_bytes: int = 1536 * 1024 * 1024  # resident memory together; also RLIMIT_AS each
    processes: int = 64
    open_files: int = 256  # per process
    file_size_bytes: int = 16 * 1024 * 1024  # per file
    tmp_bytes: int = 64 * 1024 * 1024  # the /tmp tmpfs
    output_bytes: int = 32 * 1024 * 1024  # the results stream
    wall_seconds: float = 90.0  # elapsed time, less the time the host kept it waiting


@dataclass(frozen=True)
class Bind:
    """A host path shown inside the sandbox at `target` (read-only)."""

    source: Path
    target: str


@dataclass
class SandboxResult:
    """How one run ended. `returncode` is None when the supervisor killed it."""

    returncode: int | None
    output: bytes = b""
    timed_out: bool = False  # the learner's wall time ran out (a verdict)
    cpu_exceeded: bool = False  # the sandbox used its CPU seconds (a verdict)
    memory_exceeded: bool = False  # the sandbox's resident memory passed the limit (a verdict)
    over_quota: bool = False  # more results than `output_bytes` (a verdict)
    host_timeout: bool = False  # the host starved the sandbox (infrastructure, retried)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    starved_seconds: float = 0.0
    peak_memory_bytes: int = 0
    uid: int | None = None
    stderr: str = ""
    anomalies: list[str] = field(default_factory=list)

    @property
    def limit_hit(self) -> str:
        """Which limit ended the run, in words a learner can act on ("" when none did)."""
        if self.memory_exceeded:
            return "memory limit"
        if self.cpu_exceeded:
            return "CPU time limit"
        if self.timed_out:
            return "time limit"
        if self.over_quota:
            return "output size limit"
        return ""


def runtime_binds() -> list[Bind]:
    """What the sandboxed interpreter needs: interpreter prefix, venv, the `sandbox_chain` package.

    The grader's own package, the portal and the course directory are deliberately absent.
    """
    import sandbox_chain

    seen: set[str] = set()
    binds = []
    for path in (sys.base_prefix, sys.prefix, str(Path(sandbox_chain.__file__).parent)):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            binds.append(Bind(Path(path), path))
    return binds


def _others_can_reach(path: Path) -> bool:
    """True when a stranger uid can traverse to `path` (bwrap resolves binds as the sandbox uid)."""
    for parent in Path(os.path.realpath(path)).parents:
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    if os.path.isfile("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _preexec(limits: Limits, cpu: int, uid: int | None, premounts: list[tuple[str, str]]):
    """Runs in the forked child before exec(bwrap): session, rlimits, then drop to the lease uid."""
    import resource

    # RLIMIT_NPROC counts every process of the uid. A leased uid runs nothing else; without one
    # (not root) the sandbox may add `processes` to what the user already runs.
    nproc = limits.processes if uid is not None else _count_uid(os.getuid()) + limits.processes

    def apply() -> None:
        os.setsid()
        if premounts:
            # As root only: sources the sandbox uid may not traverse (e.g. an interpreter under
            # /root) are bind-mounted onto reachable mount points in a private mount namespace
            # of this child; the host's mount table is untouched.
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(_CLONE_NEWNS) != 0:
                os._exit(121)
            if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
                os._exit(122)
            for src, dst in premounts:
                if libc.mount(src.encode(), dst.encode(), None, _MS_BIND | _MS_REC, None) != 0:
                    os._exit(123)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        # Set after the uid change (a credential change clears it): bwrap dies with its worker.
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return apply


def _count_uid(uid: int) -> int:
    count = 0
    for pid_dir in Path("/proc").iterdir():
        if pid_dir.name.isdigit():
            try:
                if pid_dir.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def kill_uid_leftovers(uid: int) -> int:
    """SIGKILL every process running as `uid` — only ever called with a uid the caller leases."""
    killed = 0
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            status = (pid_dir / "status").read_text()
        except OSError:
            continue
        if "\nState:\tZ" in status:
            continue  # already dead, waiting to be reaped
        for line in status.splitlines():
            if line.startswith("Uid:"):
                if int(line.split()[1]) == uid:
                    try:
                        os.kill(int(pid_dir.name), signal.SIGKILL)
                        killed += 1
                    except OSError:
                        pass
                break
    return killed


class _Tree:
    """The sandbox's processes (bwrap and its descendants) and what they used together.

    Processes are found through /proc/<pid>/task/<tid>/children from bwrap's pid: an orphan is
    reparented to the sandbox's init, so it stays in the tree. Times of a process that exited
    and was reaped move into its parent's `cutime`/`cstime`, so the sum never goes backwards
    by more than a process that died unreaped; the maximum seen is kept.

    `starved` is the time the host kept the sandbox waiting: between two samples, when at most
    one of the sandbox's processes was runnable, the run-queue wait it gained (schedstat) was
    the host's doing; when several were, they were competing with each other (a fork bomb
    waits on itself), and that time is not the host's.
    """

    def __init__(self, root_pid: int) -> None:
        self.root = root_pid
        self.cpu = 0.0
        self.rss = 0
        self.peak_rss = 0
        self.starved = 0.0
        self._waits: dict[tuple[int, str], float] = {}

    def _pids(self) -> list[int]:
        found, stack = [], [self.root]
        while stack and len(found) < 4096:
            pid = stack.pop()
            found.append(pid)
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tasks:
                try:
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        stack += [int(c) for c in f.read().split()]
                except (OSError, ValueError):
                    continue
        return found

    def sample(self) -> None:
        cpu, rss, runnable, gained = 0.0, 0, 0, 0.0
        waits: dict[tuple[int, str], float] = {}
        for pid in self._pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/schedstat") as f:
                    wait = int(f.read().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                continue
            cpu += sum(int(x) for x in fields[11:15]) / _CLK_TCK
            rss += int(fields[21]) * _PAGE
            runnable += fields[0] == "R"
            # Keyed by (pid, start time) so a reused pid is a new process.
            key = (pid, fields[19])
            waits[key] = wait
            gained = max(gained, wait - self._waits.get(key, wait))
        self._waits = waits
        if runnable <= 1:
            self.starved += gained
        self.cpu = max(self.cpu, cpu)
        self.rss = rss
        self.peak_rss = max(self.peak_rss, rss)


class Sandbox:
    """Fixed limits; every `run` leases a uid, gets fresh namespaces, and cleans up after itself."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def run(
        self,
        argv: list[str],
        *,
        binds: list[Bind],
        env: dict[str, str] | None = None,
        wall_seconds: float | None = None,
        cpu_seconds: float | None = None,
    ) -> SandboxResult:
        """Run `argv` confined; return its results stream and how it ended."""
        limits = self.limits
        wall = wall_seconds if wall_seconds is not None else limits.wall_seconds
        cpu = min(
            cpu_seconds if cpu_seconds is not None else limits.cpu_seconds, limits.cpu_seconds
        )
        with lease_uid() as uid, tempfile.TemporaryDirectory(prefix="lune-bwrap-") as scratch:
            if uid is not None:
                kill_uid_leftovers(uid)  # a previous holder that died mid-run
            scratch_path = Path(scratch)
            os.chmod(scratch_path, 0o755)
            result_r, result_w = os.pipe()
            err_r, err_w = os.pipe()
            seccomp_r, seccomp_w = os.pipe()
            try:
                os.write(seccomp_w, filter_program())
                os.close(seccomp_w)
                seccomp_w = -1
                args, premounts = self._bwrap_args(binds, env or {}, scratch_path, uid)
                args += ["--seccomp", str(seccomp_r), "--setenv", RESULT_FD_ENV, str(result_w)]
                proc = subprocess.Popen(
                    [*args, "--", *argv],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err_w,
                    env={"PATH": "/usr/bin:/bin"},
                    preexec_fn=_preexec(limits, int(cpu) + 1, uid, premounts),
                    close_fds=True,
                    pass_fds=(result_w, seccomp_r),
                )
                for fd in (result_w, err_w, seccomp_r):
                    os.close(fd)
                result_w = err_w = seccomp_r = -1
                result = self._supervise(proc, result_r, err_r, wall, cpu, uid)
            finally:
                for fd in (result_r, result_w, err_r, err_w, seccomp_r, seccomp_w):
                    if fd >= 0:
                        os.close(fd)
        result.uid = uid
        return result

    def _bwrap_args(
        self, binds: list[Bind], env: dict[str, str], scratch: Path, uid: int | None
    ) -> tuple[list[str], list[tuple[str, str]]]:
        limits = self.limits
        args = [
            BWRAP,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--uid",
            str(INNER_UID),
            "--gid",
            str(INNER_UID),
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            # /tmp first: a tmpfs mounted after a bind under /tmp would hide that bind.
            "--size",
            str(limits.tmp_bytes),
            "--tmpfs",
            "/tmp",
            *_system_binds(),
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            # bwrap's own tmpfs mounts (the new root, /dev) have no size limit and their pages
            # escape RLIMIT_AS: /dev/shm gets a small capped tmpfs, the rest goes read-only below.
            "--size",
            str(_SHM_BYTES),
            "--tmpfs",
            "/dev/shm",
        ]
        premounts: list[tuple[str, str]] = []
        for i, bind in enumerate(binds):
            source = str(bind.source)
            if uid is not None and not _others_can_reach(bind.source):
                point = scratch / f"m{i}"
                if bind.source.is_dir():
                    point.mkdir()
                else:
                    point.touch()
                premounts.append((os.path.realpath(source), str(point)))
                source = str(point)
            args += ["--ro-bind", source, bind.target]
        # After every mount point exists: the root and /dev tmpfs become read-only, so /tmp
        # and /dev/shm (both size-capped) are the only writable places.
        args += ["--remount-ro", "/dev", "--remount-ro", "/"]
        args += ["--chdir", "/tmp", "--clearenv"]
        base_env = {
            "PATH": f"{sys.prefix}/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        for key, value in {**base_env, **env}.items():
            args += ["--setenv", key, value]
        return args, premounts

    def _supervise(
        self, proc: subprocess.Popen, result_r: int, err_r: int, wall: float, cpu: float, uid
    ) -> SandboxResult:
        limits = self.limits
        # The host's patience: a run kept waiting this long is the host's failure, not the
        # learner's (generous, so only a badly overloaded host reaches it).
        host_wall = max(3 * wall, wall + 60)
        start = time.monotonic()
        result = SandboxResult(returncode=None)
        tree = _Tree(proc.pid)
        out: list[bytes] = []
        out_len = 0
        err = bytearray()
        open_fds = {result_r, err_r}
        next_sample = 0.0
        try:
            while True:
                ready, _, _ = (
                    select.select(list(open_fds), [], [], 0.02) if open_fds else ([], [], [])
                )
                for fd in ready:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        open_fds.discard(fd)
                    elif fd == result_r:
                        out.append(chunk)
                        out_len += len(chunk)
                    else:
                        err += chunk
                        del err[:-_STDERR_KEEP]
                if out_len > limits.output_bytes:
                    result.over_quota = True
                    break
                if not open_fds:
                    # Every writer is gone: the sandbox has ended (or closed both pipes).
                    try:
                        proc.wait(timeout=0.02)
                        break
                    except subprocess.TimeoutExpired:
                        time.sleep(0.02)
                elif proc.poll() is not None and not ready:
                    break
                now = time.monotonic()
                if now >= next_sample:
                    tree.sample()
                    next_sample = now + 0.05
                    if tree.rss > limits.memory_bytes:
                        result.memory_exceeded = True
                        break
                    if tree.cpu > cpu + 0.5:
                        result.cpu_exceeded = True
                        break
                elapsed = now - start
                if elapsed - tree.starved > wall:
                    result.timed_out = True
                    break
                if elapsed > host_wall:
                    result.host_timeout = True
                    break
        finally:
            if proc.poll() is None:
                tree.sample()
                # bwrap leads our new process group; its death kills the sandbox's PID 1 and
                # with it every process of the sandbox's PID namespace.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            else:
                result.returncode = proc.returncode
            if uid is not None:
                # The PID namespace is torn down asynchronously: wait until it is really empty.
                deadline = time.monotonic() + 5
                while kill_uid_leftovers(uid) and time.monotonic() < deadline:
                    time.sleep(0.01)
        result.wall_seconds = time.monotonic() - start
        result.cpu_seconds = tree.cpu
        result.starved_seconds = tree.starved
        result.peak_memory_bytes = tree.peak_rss
        result.output = b"".join(out)[: limits.output_bytes + 1]
        result.stderr = err.decode("utf-8", "replace")
        return result


_PROBED: dict[str, str | None] = {}


def probe() -> None:
    """Start one empty sandbox; raise SandboxUnavailable with the reason when it cannot run."""
    if BWRAP in _PROBED:
        reason = _PROBED[BWRAP]
    else:
        reason = _probe_reason()
        _PROBED[BWRAP] = reason
    if reason:
        raise SandboxUnavailable(
            f"the grading sandbox cannot start: {reason}. Install bubblewrap and enable "
            "unprivileged user namespaces (kernel.unprivileged_userns_clone=1), or pass "
            "--unsafe-no-sandbox to run learner code unconfined (trusted submissions only)"
        )


def _probe_reason() -> str | None:
    if not os.path.exists(BWRAP):
        return f"{BWRAP} not found"
    box = Sandbox(Limits(wall_seconds=20))
    code = f"import os; os.write(int(os.environ['{RESULT_FD_ENV}']), b'ok')"
    try:
        res = box.run([sys.executable, "-I", "-c", code], binds=runtime_binds())
    except SandboxFailure:
        return None  # a busy uid pool says nothing about whether bwrap works
    except (OSError, SandboxUnavailable) as exc:
        return str(exc)
    if res.returncode != 0 or res.output != b"ok":
        detail = res.stderr.strip().splitlines()
        return detail[-1] if detail else f"bwrap exited with {res.returncode}"
    return None
