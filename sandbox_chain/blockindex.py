"""The block index: what is known of each block, and the rules that read it.

Follows Bitcoin Core `chain.h` (`CBlockIndex` and its `BlockStatus` flags,
`GetMedianTimePast`) and `pow.cpp` (`GetNextWorkRequired`, including the testnet rule that
allows a minimum-difficulty block after twice the target spacing). `Chain` mixes these rules in;
they only read `_index`, the in-memory copy of the `block_index` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .params import NetworkParams
from .pow import difficulty_adjustment_interval, next_work_required
from .validation import median_time_past

STATUS_HAVE_DATA = 1
STATUS_VALID = 4  # connected successfully at least once
STATUS_FAILED = 8  # the block itself is invalid
STATUS_FAILED_CHILD = 16  # an ancestor is invalid
STATUS_FAILED_MASK = STATUS_FAILED | STATUS_FAILED_CHILD


@dataclass
class IndexEntry:
    """One known block: where it sits in the tree of blocks and what we know of it."""

    hash: bytes
    prev: bytes
    height: int
    chainwork: int  # total work from genesis up to and including this block
    status: int  # STATUS_* bit flags
    seq: int  # arrival order: among equal work, the first seen wins
    time: int
    bits: int


class BlockIndexRules:
    """Median time past and required difficulty, computed from the block index."""

    params: NetworkParams
    _index: dict[bytes, IndexEntry]
    _real_bits: dict[bytes, int]

    if TYPE_CHECKING:  # provided by Chain; declared for type checkers only

        @property
        def tip(self) -> bytes: ...

    def median_time_past(self, block_hash: bytes | None = None) -> int:
        """Median time of the 11 blocks ending at `block_hash` (default: the tip)."""
        e = self._index[block_hash or self.tip]
        times = []
        for _ in range(11):
            times.append(e.time)
            if e.height == 0:
                break
            e = self._index[e.prev]
        return median_time_past(times)

    def next_bits(self, prev_hash: bytes, block_time: int) -> int:
        """The bits a block on top of `prev_hash` must carry (Core's `GetNextWorkRequired`)."""
        prev = self._index[prev_hash]
        p = self.params
        interval = difficulty_adjustment_interval(p)
        if (prev.height + 1) % interval != 0:
            if p.pow_allow_min_difficulty:
                # Testnet rule: after 2x the spacing without a block, minimum difficulty.
                if block_time > prev.time + 2 * p.target_spacing:
                    return p.pow_limit_bits
                return self._last_real_bits(prev, interval)
            return prev.bits
        first = prev
        for _ in range(interval - 1):
            first = self._index[first.prev]
        return next_work_required(prev.bits, first.time, prev.time, p)

    def _last_real_bits(self, entry: IndexEntry, interval: int) -> int:
        """Bits of the last block that is not a min-difficulty exception (Core walks back to it).

        Memoized per block: the walk can cover a whole retarget interval (2,016 blocks).
        """
        path = []
        e = entry
        while e.hash not in self._real_bits:
            if e.height % interval == 0 or e.bits != self.params.pow_limit_bits or e.height == 0:
                self._real_bits[e.hash] = e.bits
                break
            path.append(e)
            e = self._index[e.prev]
        bits = self._real_bits[e.hash]
        for walked in path:
            self._real_bits[walked.hash] = bits
        return bits
