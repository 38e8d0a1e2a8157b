"""Signature checks run in a second process while validation goes on (Core's `CCheckQueue`).

Bitcoin Core's `ConnectBlock` does not verify signatures in line: it queues them
(`checkqueue.h`, `-par` worker threads) and, before the block's changes are kept, waits for
the answers. We do the same with one worker *process*: a worker thread was tried first, but
every libsecp256k1 call hands Python's global interpreter lock back and forth between the
threads, and those hand-offs cost as much as the verification saved. A process verifies a
whole block's signatures from one message, with its own interpreter, on the second core,
while this process writes the block's rows to SQLite.

Only signatures of standard P2PKH spends are queued (by `input_check`), only when the
libsecp256k1 backend is in use, and only blocks with at least `min_batch` of them go to the
worker (it is started by the first such block); smaller batches are verified in line when
`wait()` is called. A queued check that fails does not say which input or why: the caller
then throws the attempt away and validates again without the queue, so the error reported is
exactly the one the sequential order gives (see `Chain._reorg_to`). If the worker cannot be
started or dies, its answers count as failures and everything is verified in line again.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

from .secp_backend import verify_rs
from .signature import HALF_N, N

MIN_BATCH = 8  # fewer signatures than this are not worth a message to the worker


class QueuedCheckFailed(Exception):
    """A queued signature did not verify: validate again in line to learn which and why."""


def verify_strict_der(pub: bytes, sig: bytes, digest: bytes) -> bool:
    """`keys.verify_signature(pub, sig[:-1], digest)` with libsecp256k1, for strict DER.

    `sig` carries its hash-type byte and is known to be strict DER (BIP-66). Core's lax parser
    then reads R and S from the two INTEGERs directly; leading zeros are dropped and values of
    more than 32 bytes or >= n read as zero (never valid), exactly as
    `signature.parse_der_lax` does; a high S is normalized first, as `CPubKey::Verify` does.
    """
    len_r = sig[3]
    r_bytes = sig[4 : 4 + len_r].lstrip(b"\x00")
    s_bytes = sig[6 + len_r : -1].lstrip(b"\x00")
    if len(r_bytes) > 32 or len(s_bytes) > 32:
        return False
    r = int.from_bytes(r_bytes, "big")
    s = int.from_bytes(s_bytes, "big")
    if not (0 < r < N and 0 < s < N):
        return False
    if s > HALF_N:
        s = N - s
    return verify_rs(pub, r, s, digest)


# Messages on the worker's stdin: u32 job count, then per job: pubkey length (1 byte), pubkey,
# signature length (1 byte), signature with its hash-type byte, 32-byte digest. On its stdout:
# first _HELLO, then per message one byte (1: every job verified, 0: not) and the worker's CPU
# seconds (f64). Anything else there (a stray print) breaks the queue: verified in line.
_HELLO = b"lune-checkqueue/1\n"
_ANSWER = struct.Struct("<Bd")


def _encode(jobs: list[tuple[bytes, bytes, bytes]]) -> bytes:
    parts = [len(jobs).to_bytes(4, "little")]
    for pub, sig, digest in jobs:
        parts += (bytes([len(pub)]), pub, bytes([len(sig)]), sig, digest)
    return b"".join(parts)


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("the other side closed the pipe")
    return data


def _decode(stream: BinaryIO) -> list[tuple[bytes, bytes, bytes]]:
    count = int.from_bytes(_read_exactly(stream, 4), "little")
    jobs = []
    for _ in range(count):
        pub = _read_exactly(stream, _read_exactly(stream, 1)[0])
        sig = _read_exactly(stream, _read_exactly(stream, 1)[0])
        jobs.append((pub, sig, _read_exactly(stream, 32)))
    return jobs


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The worker process: verify each batch read from `stdin`, answer on `stdout`."""
    stdout.write(_HELLO)
    stdout.flush()
    while True:
        try:
            jobs = _decode(stdin)
        except EOFError:  # the validating process closed the pipe, or died
            return
        ok = all(verify_strict_der(*job) for job in jobs)
        stdout.write(_ANSWER.pack(1 if ok else 0, time.process_time()))
        stdout.flush()


class SignatureChecks:
    """Signature checks queued by block validation, verified by a worker process."""

    def __init__(self, min_batch: int = MIN_BATCH) -> None:
        self.min_batch = min_batch
        self._jobs: list[tuple[bytes, bytes, bytes]] = []  # queued, not sent
        self._outstanding = 0  # batches sent, answers not yet received
        self._process: subprocess.Popen[bytes] | None = None
        self._broken = False  # the worker could not start or died: verify in line
        self._hello_pending = False  # its greeting not read yet
        self.worker_cpu = 0.0  # CPU seconds the worker process has used (benchmarks)
        # txids whose scripts ran with this queue (connect_block): cached once wait() passes
        self.script_txids: list[bytes] = []

    def add(self, pub: bytes, sig: bytes, digest: bytes) -> None:
        """Queue `verify_strict_der(pub, sig, digest)`; its answer counts in `wait()`."""
        self._jobs.append((pub, sig, digest))

    def submit(self) -> None:
        """Send what is queued to the worker if it is at least `min_batch` checks; return."""
        if len(self._jobs) < self.min_batch or not self._ensure_worker():
            return
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
        ok = True
        for job in self._jobs:
            if ok:
                ok = verify_strict_der(*job)
        self._jobs = []
        while self._outstanding:
            self._outstanding -= 1
            try:
                stdout = self._process.stdout  # type: ignore[union-attr]
                if self._hello_pending:
                    if _read_exactly(stdout, len(_HELLO)) != _HELLO:
                        raise ValueError("not the check queue's worker")
                    self._hello_pending = False
                answer, self.worker_cpu = _ANSWER.unpack(_read_exactly(stdout, _ANSWER.size))
                if answer not in (0, 1):
                    raise ValueError("garbled answer from the check queue's worker")
                passed = answer == 1
            except (EOFError, OSError, ValueError, AttributeError):  # dead, or not speaking
                self._broken = True  # our protocol: verify in line from now on
                self._outstanding = 0
                passed = False
            ok = ok and passed
        return ok

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
