"""Sandbox uid leases: one host uid per running sandbox, exclusive across every process of a host.

When the grader runs as root each sandbox runs as its own unprivileged uid, so that
`RLIMIT_NPROC` (counted per uid) is per sandbox and the grader can kill every leftover process
of the sandbox by uid. Two sandboxes must therefore never share a uid at the same time — not
two workers of one `lune grade`, not two `lune grade` runs, not portal jobs: a lease is an
exclusive `flock` on `<LEASE_DIR>/<uid>.lock`, held for the sandbox's whole life (start,
run, cleanup) and released by the kernel if its holder dies. Cleanup only ever touches the
uid its caller holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from grader.errors import SandboxFailure

#: First host uid of the pool (`UID_BASE` … `UID_BASE + POOL_SIZE - 1`) when grading as root.
UID_BASE = int(os.environ.get("LUNE_GRADER_UID_BASE", "61000"))
#: How many sandboxes may run at once on one host.
POOL_SIZE = int(os.environ.get("LUNE_GRADER_UID_POOL", "64"))


def lease_dir() -> Path:
    """Where the lock files live: one directory for the whole host (root only)."""
    env = os.environ.get("LUNE_GRADER_LEASE_DIR")
    if env:
        return Path(env)
    base = Path("/run") if os.path.isdir("/run") and os.access("/run", os.W_OK) else None
    return (base or Path(tempfile.gettempdir())) / "lune-grader-uids"


@contextlib.contextmanager
def lease_uid(wait_seconds: float = 60.0) -> Iterator[int | None]:
    """Hold one free uid of the pool for the `with` block; None when not root (no pool).

    Raises SandboxFailure (an infrastructure failure, retried) when every uid stays taken for
    `wait_seconds`.
    """
    if os.geteuid() != 0:
        yield None
        return
    folder = lease_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    start = os.getpid() % POOL_SIZE  # spread processes over the pool: fewer collisions
    while True:
        for step in range(POOL_SIZE):
            uid = UID_BASE + (start + step) % POOL_SIZE
            fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                yield uid
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        if time.monotonic() > deadline:
            raise SandboxFailure(
                f"all {POOL_SIZE} sandbox uids of this host are in use "
                "(LUNE_GRADER_UID_POOL); try again when a grading finishes"
            )
        time.sleep(0.05)
