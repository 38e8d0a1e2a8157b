"""Proof of work: compact targets, the work a block proves, retargeting, and the nonce search.

Follows Bitcoin Core: `arith_uint256::SetCompact`/`GetCompact` (the 4-byte "bits" encoding of a
256-bit target, with its sign and overflow flags), `pow.cpp` (`CheckProofOfWork`,
`CalculateNextWorkRequired`), `chain.cpp` (`GetBlockProof`) and `rpc/blockchain.cpp`
(`GetDifficulty`). Where Core computes in 256-bit unsigned arithmetic, results are reduced
modulo 2**256 the same way, so every function here gives Core's answer bit for bit.

The miner (`solve_header`) uses the SHA-256 midstate: the first 64 of the 80 header bytes are
one SHA-256 block that does not change while the nonce does, so it is compressed once and the
hash state copied for every nonce. `solve_header_parallel` splits the nonce range over worker
processes (CPython runs one thread of Python at a time, so threads would not help).
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import queue
import struct
import time
from dataclasses import replace
from typing import Any, Protocol

from .block import BlockHeader


class PowParams(Protocol):
    """The consensus parameters proof of work reads (`params.NetworkParams` has them all).

    Named here rather than imported: `params` builds its genesis blocks with this module.
    """

    @property
    def name(self) -> str:
        """The network's name, for error messages."""

    @property
    def pow_limit(self) -> int:
        """The easiest target allowed."""

    @property
    def pow_no_retargeting(self) -> bool:
        """True when the difficulty never changes (regtest)."""

    @property
    def target_timespan(self) -> int:
        """Seconds one retarget period should last."""

    @property
    def difficulty_adjustment_interval(self) -> int:
        """Blocks per retarget period."""


UINT256_MASK = (1 << 256) - 1
NONCE_SPACE = 1 << 32  # the header's nonce is 4 bytes: at most 2**32 tries per header

# How many nonces a worker process tries between two looks at the shared stop flag: ~60 ms of
# work at CPython's ~1 MH/s, so a found solution stops the other workers promptly.
WORKER_CHUNK = 1 << 16


# --- Compact targets ("bits") ---------------------------------------------------------------


def bits_to_target(bits: int) -> tuple[int, bool, bool]:
    """Decode compact `bits` into (target, negative, overflow), exactly as Core's SetCompact.

    The compact form is a base-256 floating-point number: the top byte is the size in bytes,
    the low 23 bits the mantissa, and bit 0x00800000 a sign (a leftover of OpenSSL's bignum
    format). A target is only usable if it is neither negative, nor zero, nor overflowing 256
    bits; `check_proof_of_work` enforces that.
    """
    if not 0 <= bits < 2**32:
        raise ValueError(f"bits must be an unsigned 32-bit integer, got {bits}")
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        # Core shifts the mantissa itself here, so the sign and overflow tests below see the
        # shifted value: 0x00923456 is zero, not "negative zero".
        word >>= 8 * (3 - size)
        target = word
    else:
        target = (word << (8 * (size - 3))) & UINT256_MASK
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (
        size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    return target, negative, overflow


def target_to_bits(target: int, negative: bool = False) -> int:
    """Encode a 256-bit target in compact form, exactly as Core's GetCompact.

    The mantissa keeps the 3 most significant bytes, so precision is lost: decoding the result
    gives a target rounded down. A mantissa with its top bit set would read as negative, so it
    is shifted one byte right and the size bumped instead.
    """
    if not 0 <= target <= UINT256_MASK:
        raise ValueError("a target is an unsigned 256-bit integer")
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = (target << (8 * (3 - size))) & 0xFFFFFFFF
    else:
        compact = (target >> (8 * (size - 3))) & 0xFFFFFFFF
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    compact |= size << 24
    if negative and compact & 0x007FFFFF:
        compact |= 0x00800000
    return compact


def check_proof_of_work(block_hash: bytes, bits: int, params: PowParams) -> bool:
    """True if `block_hash` (internal byte order) meets the target `bits` (CheckProofOfWork).

    The target itself must be sane: not negative, not zero, not overflowing, and no easier
    than the network's `pow_limit`. The hash is read as a little-endian 256-bit number — the
    reason block hashes are *displayed* reversed is so that the leading zeros show up front.
    """
    target, negative, overflow = bits_to_target(bits)
    if negative or target == 0 or overflow or target > params.pow_limit:
        return False
    return int.from_bytes(block_hash, "little") <= target


def block_work(bits: int) -> int:
    """Expected number of hashes to find a block at `bits` (Core's GetBlockProof).

    2**256 / (target + 1): the chain with the most cumulative work, not the most blocks, is the
    best chain. An unusable target (negative, zero, overflowing) proves no work.
    """
    target, negative, overflow = bits_to_target(bits)
    if negative or overflow or target == 0:
        return 0
    # Core computes ~target / (target + 1) + 1 because 2**256 does not fit in 256 bits; over
    # Python's unbounded integers that is exactly 2**256 // (target + 1).
    return (1 << 256) // (target + 1)


def difficulty(bits: int) -> float:
    """How many times harder than mainnet's minimum (bits 0x1d00ffff) `bits` is (GetDifficulty).

    This is the `difficulty` that Bitcoin Core's RPCs show; it is a float, for display only.
    A zero mantissa gives infinity, as Core's division of doubles does (such bits never pass
    `check_proof_of_work`).
    """
    shift = (bits >> 24) & 0xFF
    mantissa = bits & 0x00FFFFFF
    if mantissa == 0:
        return math.inf
    diff = 0x0000FFFF / mantissa
    while shift < 29:
        diff *= 256.0
        shift += 1
    while shift > 29:
        diff /= 256.0
        shift -= 1
    return diff


def difficulty_adjustment_interval(params: PowParams) -> int:
    """Blocks between two retargets: target timespan / target spacing (2016 on mainnet).

    The same as `params.difficulty_adjustment_interval` (Core's
    `Consensus::Params::DifficultyAdjustmentInterval`), which it reads.
    """
    return params.difficulty_adjustment_interval


def next_work_required(last_bits: int, first_time: int, last_time: int, params: PowParams) -> int:
    """Bits for the block after a retarget period (Core's CalculateNextWorkRequired).

    `first_time` is the time of the period's first block and `last_time` that of its last
    block (on mainnet: blocks 2016·k and 2016·k + 2015). The target is scaled by how long the
    period actually took against how long it should have taken, with the actual time clamped
    to [timespan/4, timespan·4] so one retarget moves difficulty at most 4× either way, and
    never easier than `pow_limit`. (Measuring 2015 intervals for 2016 blocks is Bitcoin's
    historical off-by-one, kept for compatibility.) Networks without retargeting keep
    `last_bits`. Which heights retarget is the caller's business: see
    `difficulty_adjustment_interval`.
    """
    if params.pow_no_retargeting:
        return last_bits
    timespan = params.target_timespan
    actual = min(max(last_time - first_time, timespan // 4), timespan * 4)
    target, _, _ = bits_to_target(last_bits)
    # Core multiplies in 256-bit arithmetic; the networks' pow limits leave room for the
    # factor 4, but the reduction keeps us identical to Core even if they did not.
    new_target = ((target * actual) & UINT256_MASK) // timespan
    new_target = min(new_target, params.pow_limit)
    return target_to_bits(new_target)


# --- The nonce search -----------------------------------------------------------------------

_pack_nonce = struct.Struct("<I").pack


def scan_nonces(prefix76: bytes, target: int, start: int, stop: int) -> int | None:
    """First nonce in [start, stop) whose header `prefix76 + nonce` hashes at or below `target`.

    This is the miner's inner loop, kept as lean as CPython allows:
    - the SHA-256 state after the first 76 bytes is computed once and copied per nonce (the
      first 64 bytes are one compressed block — the "midstate" — and the next 12 sit in the
      copied buffer), so each try costs two SHA-256 compressions plus the second hash;
    - the hash is compared as bytes, not converted to an int: the hash's most significant byte
      (its last byte) is checked against the target's first, and only the rare hash that could
      pass is reversed and compared in full.
    """
    if len(prefix76) != 76:
        raise ValueError("prefix76 must be the first 76 bytes of a header")
    if not 0 <= start <= stop <= NONCE_SPACE:
        raise ValueError(f"nonce range [{start}, {stop}) is outside [0, 2**32)")
    if target < 0:
        return None
    if target > UINT256_MASK:
        target = UINT256_MASK
    target_be = target.to_bytes(32, "big")
    top = target_be[0]
    sha256 = hashlib.sha256
    midstate_copy = sha256(prefix76).copy
    pack = _pack_nonce
    for nonce in range(start, stop):
        h = midstate_copy()
        h.update(pack(nonce))
        digest = sha256(h.digest()).digest()
        if digest[31] <= top and digest[::-1] <= target_be:
            return nonce
    return None


def _usable_target(header: BlockHeader, params: PowParams) -> int:
    target, negative, overflow = bits_to_target(header.bits)
    if negative or overflow or target == 0 or target > params.pow_limit:
        raise ValueError(
            f"bits {header.bits:#010x} is not a valid target on {params.name}: no hash could "
            "satisfy check_proof_of_work"
        )
    return target


def solve_header(
    header: BlockHeader, params: PowParams, *, max_tries: int | None = None
) -> BlockHeader | None:
    """Search nonces from `header.nonce` upward; return the solved header, or None.

    At most `max_tries` nonces are tried (default: the rest of the 4-byte nonce space). None
    means "no luck in that range": the caller then changes something else that the hash covers
    — bumps `time`, or changes the coinbase's extranonce and so the `merkle_root` — resets the
    nonce to 0 and calls again. `header` itself is left unchanged.
    """
    target = _usable_target(header, params)
    start = header.nonce
    stop = NONCE_SPACE if max_tries is None else min(NONCE_SPACE, start + max(0, max_tries))
    nonce = scan_nonces(header.serialize()[:76], target, start, stop)
    return None if nonce is None else replace(header, nonce=nonce)


def _mining_worker(
    prefix76: bytes,
    target: int,
    start: int,
    stop: int,
    stop_flag,  # multiprocessing.Event shared by all workers
    results,  # multiprocessing.Queue: each worker puts exactly one (nonce | None, tries)
) -> None:
    tries = 0
    found = None
    for chunk_start in range(start, stop, WORKER_CHUNK):
        if stop_flag.is_set():
            break
        chunk_stop = min(chunk_start + WORKER_CHUNK, stop)
        found = scan_nonces(prefix76, target, chunk_start, chunk_stop)
        if found is not None:
            tries += found - chunk_start + 1
            stop_flag.set()
            break
        tries += chunk_stop - chunk_start
    results.put((found, tries))


def solve_header_parallel(
    header: BlockHeader,
    params: PowParams,
    *,
    processes: int = 2,
    max_tries: int | None = None,
    timeout: float | None = None,
    start_method: str = "spawn",
) -> BlockHeader | None:
    """`solve_header` spread over `processes` worker processes; returns a solved header or None.

    The range [header.nonce, header.nonce + max_tries) is cut into one contiguous share per
    worker. The first worker to find a solution raises a shared stop flag that the others check
    every `WORKER_CHUNK` nonces, so which valid nonce wins is not deterministic. The search
    also stops after `timeout` seconds. Every worker is joined (or, failing that, terminated)
    before returning. "spawn" is the default start method because forking a multi-threaded
    process (a node serving RPC, a notebook kernel) can deadlock the child.
    """
    if processes < 1:
        raise ValueError("processes must be at least 1")
    target = _usable_target(header, params)
    start = header.nonce
    stop = NONCE_SPACE if max_tries is None else min(NONCE_SPACE, start + max(0, max_tries))
    prefix76 = header.serialize()[:76]
    share = -(-(stop - start) // processes) if stop > start else 0

    # Any: typeshed types a context named at run time as BaseContext, which lacks the
    # Process/Event/Queue every concrete context (fork, spawn, forkserver) has.
    ctx: Any = multiprocessing.get_context(start_method)
    stop_flag = ctx.Event()
    results = ctx.Queue()
    workers = []
    for i in range(processes):
        lo = min(start + i * share, stop)
        hi = min(lo + share, stop)
        workers.append(
            ctx.Process(
                target=_mining_worker,
                args=(prefix76, target, lo, hi, stop_flag, results),
                daemon=True,
            )
        )
    deadline = None if timeout is None else time.monotonic() + timeout
    winner = None
    try:
        for w in workers:
            w.start()
        pending = len(workers)
        while pending:
            try:
                nonce, _tries = results.get(timeout=0.05)
            except queue.Empty:
                # A worker killed from outside never reports: do not wait for it forever.
                if not any(w.is_alive() for w in workers) and results.empty():
                    break
            else:
                pending -= 1
                if nonce is not None and winner is None:
                    winner = nonce
                    stop_flag.set()
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        stop_flag.set()
        for w in workers:
            if w.pid is not None:
                w.join(timeout=5)
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=5)
        results.close()
        results.join_thread()
    return None if winner is None else replace(header, nonce=winner)
