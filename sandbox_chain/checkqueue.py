"""Signature checks run on a second thread while validation goes on (Core's `CCheckQueue`).

Bitcoin Core's `ConnectBlock` does not verify signatures in line: it queues them
(`checkqueue.h`, `-par` worker threads) and, before the block's changes are kept, waits for
the answers, the waiting thread helping with what is left. We do the same with one worker
thread: libsecp256k1, called through cffi, runs without Python's global interpreter lock, so
the worker verifies on the second core while this thread reads coins and writes SQLite.

Only signatures of standard P2PKH spends are queued (by `input_check`), and only when the
libsecp256k1 backend is in use. A queued check that fails does not say which input or why:
the caller then throws the attempt away and validates again without the queue, so the error
reported is exactly the one the sequential order gives (see `Chain._reorg_to`).
"""

from __future__ import annotations

import queue
import threading

from .secp_backend import verify_rs
from .signature import HALF_N, N

_STOP = None


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


class SignatureChecks:
    """A queue of signature checks with one worker thread, started on first use."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Condition()
        self._pending = 0  # queued or being verified
        self._failed = False
        self._thread: threading.Thread | None = None
        # txids whose scripts ran with this queue (connect_block): cached once wait() passes
        self.script_txids: list[bytes] = []

    def add(self, pub: bytes, sig: bytes, digest: bytes) -> None:
        """Queue `verify_strict_der(pub, sig, digest)`; its answer counts in `wait()`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="signature-checks", daemon=True)
            self._thread.start()
        with self._lock:
            self._pending += 1
        self._jobs.put((pub, sig, digest))

    def _run(self, job: tuple[bytes, bytes, bytes]) -> None:
        try:
            ok = verify_strict_der(*job)
        except Exception:  # noqa: BLE001 — counted as a failure, then re-checked in line
            ok = False
        with self._lock:
            self._pending -= 1
            if not ok:
                self._failed = True
            if not self._pending:
                self._lock.notify_all()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not _STOP:
            self._run(job)

    def wait(self) -> bool:
        """Verify what the worker has not taken yet, wait for the rest; True if all passed.

        Afterwards the queue is empty and ready for the next block.
        """
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is _STOP:  # close() raced with us: let the worker see it
                self._jobs.put(job)
                break
            self._run(job)
        with self._lock:
            while self._pending:
                self._lock.wait()
            ok = not self._failed
            self._failed = False
        return ok

    def close(self) -> None:
        """Stop the worker thread (after the checks already queued)."""
        if self._thread is not None:
            self._jobs.put(_STOP)
            self._thread.join()
            self._thread = None
