"""Script checks run in a second process while validation goes on (Core's `CCheckQueue`).

Bitcoin Core's `ConnectBlock` does not verify signatures in line: it queues the script checks
(`checkqueue.h`, `-par` worker threads) and, before the block's changes are kept, waits for
the answers. We do the same with one worker *process*: a worker thread was tried first, but
every libsecp256k1 call hands Python's global interpreter lock back and forth between the
threads, and those hand-offs cost as much as the verification saved. The worker receives a
whole block's checks in one message and runs them with its own interpreter, on the second
core, while this process writes the block's rows to SQLite.

Only standard-looking P2PKH inputs are queued (by `input_check`, which only looked at their
shape), only when the libsecp256k1 backend is in use, and only blocks with at least
`min_batch` of them go to the worker (it is started by the first such block); smaller batches
run in line when `wait()` is called. The worker runs `input_check.check_standard_input`:
HASH160 match, signature encoding, signature hash and signature, exactly the fast path's
checks. A queued check that fails does not say which input or why: the caller then throws the
attempt away and validates again without the queue, so the error reported is exactly the one
the sequential order gives (see `Chain._reorg_to`). If the worker cannot be started or dies,
its answers count as failures and everything runs in line again.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, BinaryIO

from .input_check import check_standard_input

MIN_BATCH = 8  # fewer checks than this are not worth a message to the worker
MAX_OUTSTANDING = 1000  # unread answers (9 bytes each) stay well below a pipe's buffer


class QueuedCheckFailed(Exception):
    """A queued check failed: validate again in line to learn which input and why."""


# Messages on the worker's stdin: u32 job count, then per job: u32 length and bytes of the
# transaction (legacy serialization), u32 input index, u8 length and bytes of the spent
# scriptPubKey, u32 verification flags. On its stdout: first _HELLO, then per message one byte
# (1: every job passed, 0: not) and the worker's CPU seconds (f64). Anything else there (a
# stray print) breaks the queue, and everything is verified in line.
_HELLO = b"lune-checkqueue/2\n"
_ANSWER = struct.Struct("<Bd")
_U32 = struct.Struct("<I")

Job = tuple[bytes, int, bytes, int]  # (raw transaction, input index, scriptPubKey, flags)


def _encode(jobs: list[Job]) -> bytes:
    parts = [_U32.pack(len(jobs))]
    for raw, index, spk, flags in jobs:
        parts += (_U32.pack(len(raw)), raw, _U32.pack(index), bytes([len(spk)]), spk)
        parts.append(_U32.pack(flags))
    return b"".join(parts)


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("the other side closed the pipe")
    return data


def _decode(stream: IO[bytes]) -> list[Job]:
    def u32() -> int:
        return int(_U32.unpack(_read_exactly(stream, 4))[0])

    jobs = []
    for _ in range(u32()):
        raw = _read_exactly(stream, u32())
        index = u32()
        spk = _read_exactly(stream, _read_exactly(stream, 1)[0])
        jobs.append((raw, index, spk, u32()))
    return jobs


def _run(jobs: list[Job]) -> bool:
    return all(check_standard_input(*job) for job in jobs)


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The worker process: verify each batch read from `stdin`, answer on `stdout`."""
    stdout.write(_HELLO)
    stdout.flush()
    while True:
        try:
            jobs = _decode(stdin)
        except EOFError:  # the validating process closed the pipe, or died
            return
        ok = _run(jobs)
        stdout.write(_ANSWER.pack(1 if ok else 0, time.process_time()))
        stdout.flush()


class SignatureChecks:
    """Script checks of standard inputs queued by block validation, run by a worker process."""

    def __init__(self, min_batch: int = MIN_BATCH) -> None:
        self.min_batch = min_batch
        self._jobs: list[Job] = []  # queued, not sent
        self._outstanding = 0  # batches sent, answers not yet received
        self._all_passed = True  # every answer received since the last wait() was a pass
        self._process: subprocess.Popen[bytes] | None = None
        self._broken = False  # the worker could not start or died: verify in line
        self._hello_pending = False  # its greeting not read yet
        self.worker_cpu = 0.0  # CPU seconds the worker process has used (benchmarks)
        # txids whose scripts ran with this queue (connect_block): cached once wait() passes
        self.script_txids: list[bytes] = []

    def add(self, raw_tx: bytes, input_index: int, script_pubkey: bytes, flags: int) -> None:
        """Queue `input_check.check_standard_input(...)`; its answer counts in `wait()`."""
        self._jobs.append((raw_tx, input_index, script_pubkey, flags))

    def submit(self) -> None:
        """Send what is queued to the worker if it is at least `min_batch` checks; return."""
        if len(self._jobs) < self.min_batch or not self._ensure_worker():
            return
        if self._outstanding >= MAX_OUTSTANDING:
            # Read the answers waiting in the pipe first: a worker blocked on writing them
            # would stop reading, and this write would block for ever.
            self._collect()
        process = self._process
        if process is None or process.stdin is None:  # unreachable: _ensure_worker made it
            return
        try:
            process.stdin.write(_encode(self._jobs))
            process.stdin.flush()
        except (OSError, ValueError):
            self._broken = True
            return  # still queued: wait() verifies them in line
        self._jobs = []
        self._outstanding += 1

    def _ensure_worker(self) -> bool:
        if self._process is not None or self._broken:
            return not self._broken
        # A fresh interpreter running this module (not multiprocessing's spawn, which would
        # re-run the caller's main script in the worker).
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "sandbox_chain.checkqueue"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                start_new_session=True,  # a Ctrl-C for the node is not the worker's: EOF ends it
            )
        except OSError:
            self._broken = True
            return False
        self._hello_pending = True
        return True

    def wait(self) -> bool:
        """Verify in line what was not sent, collect the worker's answers; True if all passed.

        Afterwards nothing is queued or outstanding.
        """
        ok = _run(self._jobs)
        self._jobs = []
        self._collect()
        ok = ok and self._all_passed
        self._all_passed = True
        return ok

    def _collect(self) -> None:
        """Read every outstanding answer into `_all_passed`."""
        while self._outstanding:
            self._outstanding -= 1
            try:
                stdout = self._process.stdout if self._process is not None else None
                if stdout is None:
                    raise ValueError("the check queue's worker is not running")
                if self._hello_pending:
                    if _read_exactly(stdout, len(_HELLO)) != _HELLO:
                        raise ValueError("not the check queue's worker")
                    self._hello_pending = False
                answer, self.worker_cpu = _ANSWER.unpack(_read_exactly(stdout, _ANSWER.size))
                if answer not in (0, 1):
                    raise ValueError("garbled answer from the check queue's worker")
                passed = answer == 1
            except (EOFError, OSError, ValueError):  # dead, or not speaking
                self._broken = True  # our protocol: verify in line from now on
                self._outstanding = 0
                passed = False
            self._all_passed = self._all_passed and passed

    def close(self) -> None:
        """Stop the worker process: closing its input ends it."""
        process, self._process = self._process, None
        self._outstanding = 0
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    # Answers go to the real stdout; anything printed by accident goes to stderr instead.
    _answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, _answers)
