"""A progress bar with ETA on stderr: redrawn in place on a tty, a few plain lines otherwise."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60:d}:{seconds % 60:02d}"


class Progress:
    """`advance()` once per finished job; `close()` at the end."""

    def __init__(self, total: int, label: str = "", enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.total = max(1, total)
        self.done = 0
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = self.tty if enabled is None else enabled
        self.start = time.monotonic()
        self._last_line_pct = -1

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        return (
            f"{self.label} [{bar}] {self.done}/{self.total} "
            f"elapsed {_clock(elapsed)} ETA {_clock(eta) if self.done else '?:??'}"
        )

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r" + self.line())
            self.stream.flush()
        else:
            pct = 100 * self.done // self.total
            if pct // 10 != self._last_line_pct // 10 or self.done == self.total:
                self._last_line_pct = pct
                self.stream.write(self.line() + "\n")

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
