"""Run untrusted learner code under bubblewrap (Debian's `bwrap`, unprivileged user namespaces).

What one sandbox run gets, and nothing else:

- a new user, PID, mount, network, IPC, UTS and cgroup namespace (`--unshare-all`): no network,
  not even loopback to the host; no view of other processes;
- a separate unprivileged host uid when the grader runs as root (one uid per worker, so
  `RLIMIT_NPROC`, which counts per uid, is per sandbox), and `--disable-userns` inside;
- read-only binds of what the Python interpreter needs (`/usr`, the interpreter prefix, the
  virtual environment, the `sandbox_chain` package), the job's input files read-only, one
  writable output folder, a size-capped private `/tmp` (mounted *before* any bind so it cannot
  hide one — PITFALLS), `--clearenv` plus a minimal environment (no secrets of the grader);
- rlimits on CPU seconds, address space, processes, open files, file size and core dumps, a
  wall-clock timeout and an output-folder quota, both enforced by killing the whole process
  group; the sandbox's PID namespace dies with its init, so nothing (daemons included) survives.

Results come back only through files in the output folder, opened with `O_NOFOLLOW` and read
with a size cap (`read_output`). Reference: bubblewrap(1), 0.8.0.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SandboxUnavailable

BWRAP = os.environ.get("LUNE_GRADER_BWRAP", "/usr/bin/bwrap")
#: First host uid of the sandbox uid pool (worker i runs as UID_BASE + i) when grading as root.
UID_BASE = int(os.environ.get("LUNE_GRADER_UID_BASE", "61000"))
INNER_UID = 1000
IN_DIR = "/sandbox/in"
OUT_DIR = "/sandbox/out"

_CLONE_NEWNS = 0x00020000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_PDEATHSIG = 1
_SHM_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox run."""

    cpu_seconds: int = 60
    memory_bytes: int = 1536 * 1024 * 1024  # address space; CPython + ecdsa need ~300 MiB
    processes: int = 64
    open_files: int = 256
    file_size_bytes: int = 16 * 1024 * 1024
    tmp_bytes: int = 64 * 1024 * 1024
    output_bytes: int = 32 * 1024 * 1024  # total of the output folder
    wall_seconds: float = 90.0


@dataclass(frozen=True)
class Bind:
    """A host path shown inside the sandbox at `target` (read-only unless `writable`)."""

    source: Path
    target: str
    writable: bool = False


@dataclass
class SandboxResult:
    """How one run ended. `returncode` is None when the grader killed it."""

    returncode: int | None
    timed_out: bool = False
    over_quota: bool = False
    wall_seconds: float = 0.0
    stderr: str = ""
    anomalies: list[str] = field(default_factory=list)


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


def sandbox_uid(worker_index: int) -> int | None:
    """The host uid a worker's sandboxes run as; None when not root (runs as the current uid)."""
    if os.geteuid() != 0:
        return None
    return UID_BASE + worker_index


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


def _preexec(limits: Limits, uid: int | None, premounts: list[tuple[str, str]]):
    """Runs in the forked child before exec(bwrap): session, rlimits, then drop to the pool uid."""
    import resource

    # RLIMIT_NPROC counts every process of the uid. A pool uid runs nothing else; without one
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
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
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


def _dir_usage(path: Path, cap_entries: int = 10_000) -> tuple[int, int]:
    """Bytes and entries under `path`, never following symlinks."""
    total = entries = 0
    stack = [path]
    while stack and entries <= cap_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    st = entry.stat(follow_symlinks=False)
                    total += st.st_blocks * 512
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(Path(entry.path))
        except OSError:
            continue
    return total, entries


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


def _kill_uid_leftovers(uid: int) -> int:
    """SIGKILL every process still running as the sandbox uid (there should be none)."""
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


class Sandbox:
    """One worker's sandbox: fixed limits and uid, fresh namespaces for every `run`."""

    def __init__(self, limits: Limits | None = None, uid: int | None = None) -> None:
        self.limits = limits or Limits()
        self.uid = uid

    def run(
        self,
        argv: list[str],
        *,
        binds: list[Bind],
        out_dir: Path,
        env: dict[str, str] | None = None,
        wall_seconds: float | None = None,
    ) -> SandboxResult:
        """Run `argv` confined; `out_dir` (made empty by the caller) is the only writable bind."""
        limits = self.limits
        wall = wall_seconds if wall_seconds is not None else limits.wall_seconds
        if self.uid is not None:
            os.chown(out_dir, self.uid, self.uid)
        os.chmod(out_dir, 0o700)
        with tempfile.TemporaryDirectory(prefix="lune-bwrap-") as scratch:
            scratch_path = Path(scratch)
            os.chmod(scratch_path, 0o755)
            args, premounts = self._bwrap_args(binds, out_dir, env or {}, scratch_path)
            stderr_path = scratch_path / "stderr"
            with open(stderr_path, "wb") as err:
                return self._supervise(
                    args + ["--", *argv], premounts, err, stderr_path, out_dir, wall
                )

    def _bwrap_args(
        self, binds: list[Bind], out_dir: Path, env: dict[str, str], scratch: Path
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
        binds = [*binds, Bind(out_dir, OUT_DIR, writable=True)]
        for i, bind in enumerate(binds):
            source = str(bind.source)
            if self.uid is not None and not _others_can_reach(bind.source):
                point = scratch / f"m{i}"
                if bind.source.is_dir():
                    point.mkdir()
                else:
                    point.touch()
                premounts.append((os.path.realpath(source), str(point)))
                source = str(point)
            args += ["--bind" if bind.writable else "--ro-bind", source, bind.target]
        # After every mount point exists: the root and /dev tmpfs become read-only, so /tmp
        # (size-capped), /dev/shm and the output folder are the only writable places.
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
        self,
        args: list[str],
        premounts: list[tuple[str, str]],
        err,
        stderr_path: Path,
        out_dir: Path,
        wall: float,
    ) -> SandboxResult:
        limits = self.limits
        start = time.monotonic()
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={"PATH": "/usr/bin:/bin"},
            preexec_fn=_preexec(limits, self.uid, premounts),
            close_fds=True,
        )
        result = SandboxResult(returncode=None)
        next_quota_check = 0.0
        try:
            while True:
                try:
                    proc.wait(timeout=0.02)
                    break
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
                if now - start > wall:
                    result.timed_out = True
                    break
                if now >= next_quota_check:
                    used, entries = _dir_usage(out_dir)
                    if used > limits.output_bytes or entries > 1000:
                        result.over_quota = True
                        break
                    next_quota_check = now + 0.2
        finally:
            if proc.returncode is None:
                # bwrap leads our new process group; its death kills the sandbox's PID 1 and
                # with it every process of the sandbox's PID namespace.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            else:
                result.returncode = proc.returncode
            if self.uid is not None:
                # The PID namespace is torn down asynchronously: wait until it is really empty.
                deadline = time.monotonic() + 5
                while _kill_uid_leftovers(self.uid) and time.monotonic() < deadline:
                    time.sleep(0.01)
        result.wall_seconds = time.monotonic() - start
        with open(stderr_path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 8192))
            result.stderr = f.read().decode("utf-8", "replace")
        result.anomalies = scan_output(out_dir)
        return result


def scan_output(out_dir: Path) -> list[str]:
    """Entries of the output folder that are not plain files or folders (planted symlinks...)."""
    odd = []
    stack = [out_dir]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(Path(entry.path))
                    elif not stat.S_ISREG(st.st_mode):
                        odd.append(os.path.relpath(entry.path, out_dir))
        except OSError:
            continue
    return sorted(odd)


def read_output(out_dir: Path, name: str, max_bytes: int) -> bytes | None:
    """Read one result file the sandbox wrote: no symlinks, regular files only, size-capped.

    Returns None when the file is missing, is not a regular file, or is larger than `max_bytes`.
    """
    dir_fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fd = os.open(
            name,
            os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
            dir_fd=dir_fd,
        )
    except OSError:
        return None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > max_bytes else data
    finally:
        os.close(fd)


_PROBED: dict[int | None, str | None] = {}


def probe(uid: int | None = None) -> None:
    """Start one empty sandbox; raise SandboxUnavailable with the reason when it cannot run."""
    if uid in _PROBED:
        reason = _PROBED[uid]
    else:
        reason = _probe_reason(uid)
        _PROBED[uid] = reason
    if reason:
        raise SandboxUnavailable(
            f"the grading sandbox cannot start: {reason}. Install bubblewrap and enable "
            "unprivileged user namespaces (kernel.unprivileged_userns_clone=1), or pass "
            "--unsafe-no-sandbox to run learner code unconfined (trusted submissions only)"
        )


def _probe_reason(uid: int | None) -> str | None:
    if not os.path.exists(BWRAP):
        return f"{BWRAP} not found"
    with tempfile.TemporaryDirectory(prefix="lune-probe-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        box = Sandbox(Limits(wall_seconds=20), uid=uid)
        try:
            res = box.run(
                [sys.executable, "-I", "-c", f"open('{OUT_DIR}/ok', 'w').write('ok')"],
                binds=runtime_binds(),
                out_dir=out,
            )
        except OSError as exc:
            return str(exc)
        if res.returncode != 0 or read_output(out, "ok", 16) != b"ok":
            detail = res.stderr.strip().splitlines()
            return detail[-1] if detail else f"bwrap exited with {res.returncode}"
    return None


def clear_dir(path: Path) -> None:
    """Remove a finished job's folder (sandbox-owned files included; never follows symlinks)."""
    shutil.rmtree(path, ignore_errors=True)
