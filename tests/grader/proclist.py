"""Which processes are alive on the host: a sandboxed daemon must not outlive its run."""

from __future__ import annotations

from pathlib import Path


def processes_with(token: str) -> list[int]:
    """Pids of every process whose command line contains `token`."""
    found = []
    for pid_dir in Path("/proc").iterdir():
        if pid_dir.name.isdigit():
            try:
                if token.encode() in (pid_dir / "cmdline").read_bytes():
                    found.append(int(pid_dir.name))
            except OSError:
                continue
    return found
