"""Compact targets, proof-of-work checks, block work, retargeting and the nonce search.

Expected values come from Bitcoin Core's own unit tests (bitcoin/bitcoin, MIT licence):
- `src/test/arith_uint256_tests.cpp`, test case `bignum_SetCompact` (compact <-> target),
- `src/test/pow_tests.cpp`, `get_next_work*` (CalculateNextWorkRequired on mainnet),
- `src/test/blockchain_tests.cpp`, `get_difficulty_for_*` (GetDifficulty),
and from real mainnet blocks (tests/vectors/blocks).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox_chain.block import Block, BlockHeader
from sandbox_chain.params import CLASSROOM, MAINNET, REGTEST
from sandbox_chain.pow import (
    NONCE_SPACE,
    bits_to_target,
    block_work,
    check_proof_of_work,
    difficulty,
    difficulty_adjustment_interval,
    next_work_required,
    scan_nonces,
    solve_header,
    solve_header_parallel,
    target_to_bits,
)

# arith_uint256_tests.cpp, bignum_SetCompact:
# (nCompact, GetHex() of the target, GetCompact(fNegative) after the round trip, negative, overflow)
SET_COMPACT_CASES = [
    (0x00000000, 0x0, 0x00000000, False, False),
    (0x00123456, 0x0, 0x00000000, False, False),
    (0x01003456, 0x0, 0x00000000, False, False),
    (0x02000056, 0x0, 0x00000000, False, False),
    (0x03000000, 0x0, 0x00000000, False, False),
    (0x04000000, 0x0, 0x00000000, False, False),
    (0x00923456, 0x0, 0x00000000, False, False),
    (0x01803456, 0x0, 0x00000000, False, False),
    (0x02800056, 0x0, 0x00000000, False, False),
    (0x03800000, 0x0, 0x00000000, False, False),
    (0x04800000, 0x0, 0x00000000, False, False),
    (0x01123456, 0x12, 0x01120000, False, False),
    (0x01FEDCBA, 0x7E, 0x01FE0000, True, False),
    (0x02123456, 0x1234, 0x02123400, False, False),
    (0x03123456, 0x123456, 0x03123456, False, False),
    (0x04123456, 0x12345600, 0x04123456, False, False),
    (0x04923456, 0x12345600, 0x04923456, True, False),
    (0x05009234, 0x92340000, 0x05009234, False, False),
    (0x20123456, 0x1234560000000000000000000000000000000000000000000000000000000000,
     0x20123456, False, False),
]  # fmt: skip


@pytest.mark.parametrize("bits, target, compact, negative, overflow", SET_COMPACT_CASES)
def test_set_compact_and_get_compact(bits, target, compact, negative, overflow):
    assert bits_to_target(bits) == (target, negative, overflow)
    assert target_to_bits(target, negative=negative) == compact


def test_compact_overflow_flag():
    # bignum_SetCompact: 0xff123456 overflows (and is not negative).
    _, negative, overflow = bits_to_target(0xFF123456)
    assert (negative, overflow) == (False, True)


def test_get_compact_never_sets_the_sign_bit():
    # bignum_SetCompact: "Make sure that we don't generate compacts with the 0x00800000 bit set"
    assert target_to_bits(0x80) == 0x02008000


@given(st.integers(0, 2**32 - 1))
def test_compact_round_trip_is_stable(bits):
    # Decoding then re-encoding a usable target gives the canonical form, which then is fixed.
    target, negative, overflow = bits_to_target(bits)
    if overflow:
        return
    canonical = target_to_bits(target, negative=negative)
    assert bits_to_target(canonical)[0] == target
    assert target_to_bits(bits_to_target(canonical)[0], negative=negative) == canonical


def test_bits_must_be_uint32():
    with pytest.raises(ValueError):
        bits_to_target(2**32)
    with pytest.raises(ValueError):
        target_to_bits(-1)


# --- CheckProofOfWork ------------------------------------------------------------------------


def test_real_blocks_meet_their_targets(vectors):
    for height in ("0", "9", "170", "100000"):
        raw = bytes.fromhex((vectors / "blocks" / f"{height}.hex").read_text().strip())
        header = BlockHeader.parse(raw[:80])
        assert check_proof_of_work(header.hash(), header.bits, MAINNET)


def test_hash_equal_to_target_passes_one_above_fails():
    target, _, _ = bits_to_target(0x1D00FFFF)
    assert check_proof_of_work(target.to_bytes(32, "little"), 0x1D00FFFF, MAINNET)
    assert not check_proof_of_work((target + 1).to_bytes(32, "little"), 0x1D00FFFF, MAINNET)


def test_a_tampered_real_header_fails(vectors):
    raw = bytes.fromhex((vectors / "blocks" / "100000.hex").read_text().strip())
    header = BlockHeader.parse(raw[:80])
    tampered = replace(header, nonce=header.nonce ^ 1)
    assert not check_proof_of_work(tampered.hash(), tampered.bits, MAINNET)


@pytest.mark.parametrize(
    "bits, why",
    [
        (target_to_bits(MAINNET.pow_limit, negative=True), "negative target"),
        (0xFF7FFFFF, "overflowing target"),  # ~0x00800000 as in pow_tests.cpp
        (0x1D00FFFF + 0x01000000, "easier than the network's pow_limit"),
        (0x00000000, "zero target"),
        (0x01003456, "zero target"),
    ],
)
def test_unusable_targets_never_pass(bits, why):
    assert not check_proof_of_work(bytes(32), bits, MAINNET), why


def test_regtest_accepts_its_easy_target_mainnet_does_not():
    assert check_proof_of_work(REGTEST.genesis_hash, 0x207FFFFF, REGTEST)
    assert not check_proof_of_work(REGTEST.genesis_hash, 0x207FFFFF, MAINNET)


# --- GetBlockProof and GetDifficulty --------------------------------------------------------


def test_block_work():
    # Bitcoin Core's `getblock` shows chainwork 0x100010001 for the mainnet genesis block and
    # 0x2 for the regtest genesis block.
    assert block_work(0x1D00FFFF) == 0x100010001
    assert block_work(0x207FFFFF) == 2
    assert block_work(0x04923456) == 0  # negative
    assert block_work(0xFF123456) == 0  # overflow
    assert block_work(0x01003456) == 0  # zero
    # Harder targets prove more work.
    assert block_work(0x1B04864C) > block_work(0x1D00FFFF)


@pytest.mark.parametrize(
    "bits, expected",
    [
        (0x1F111111, 0.000001),
        (0x1EF88F6F, 0.000016),
        (0x1DF88F6F, 0.004023),
        (0x1CF88F6F, 1.029916),
        (0x12345678, 5913134931067755359633408.0),
        (0x1D00FFFF, 1.0),
    ],
)
def test_difficulty(bits, expected):
    # blockchain_tests.cpp compares to 6 decimals (RejectDifficultyMismatch).
    assert difficulty(bits) == pytest.approx(expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("bits", [0x1D000000, 0x00000000, 0x03000000])
def test_difficulty_of_a_zero_mantissa_is_infinite_as_in_core(bits):
    # GetDifficulty divides doubles: 0xffff / 0.0 is +inf in C++, not an exception. Such bits
    # never pass check_proof_of_work, but an RPC may still be asked to show them.
    assert difficulty(bits) == math.inf


# --- CalculateNextWorkRequired (pow_tests.cpp, mainnet) -------------------------------------


@pytest.mark.parametrize(
    "case, first_time, last_time, last_bits, expected",
    [
        ("get_next_work", 1261130161, 1262152739, 0x1D00FFFF, 0x1D00D86A),
        ("get_next_work_pow_limit", 1231006505, 1233061996, 0x1D00FFFF, 0x1D00FFFF),
        ("get_next_work_lower_limit_actual", 1279008237, 1279297671, 0x1C05A3F4, 0x1C0168FD),
        ("get_next_work_upper_limit_actual", 1263163443, 1269211443, 0x1C387F6F, 0x1D00E1FD),
    ],
)
def test_next_work_required_mainnet(case, first_time, last_time, last_bits, expected):
    assert next_work_required(last_bits, first_time, last_time, MAINNET) == expected, case


def test_regtest_never_retargets():
    assert next_work_required(0x207FFFFF, 0, 10**9, REGTEST) == 0x207FFFFF
    assert next_work_required(0x207FFFFF, 0, 1, REGTEST) == 0x207FFFFF


def test_classroom_retarget_moves_at_most_four_times():
    start = CLASSROOM.genesis_block.header.bits
    target, _, _ = bits_to_target(start)
    span = CLASSROOM.target_timespan
    assert difficulty_adjustment_interval(CLASSROOM) == 20
    assert next_work_required(start, 0, span, CLASSROOM) == start
    # Blocks came 100x too fast: only 4x harder.
    faster = bits_to_target(next_work_required(start, 0, span // 100, CLASSROOM))[0]
    assert faster == pytest.approx(target / 4, rel=1e-4)
    # Blocks came 100x too slowly: only 4x easier...
    slower = bits_to_target(next_work_required(start, 0, span * 100, CLASSROOM))[0]
    assert slower == pytest.approx(target * 4, rel=1e-4)
    # ...and never easier than pow_limit.
    easiest = next_work_required(CLASSROOM.pow_limit_bits, 0, span * 100, CLASSROOM)
    assert easiest == CLASSROOM.pow_limit_bits


# --- the nonce search ------------------------------------------------------------------------


def test_solver_returns_the_first_passing_nonce_on_regtest():
    # At regtest difficulty about every other hash passes: nonce 0 already does for the
    # regtest genesis header (whose published nonce is 2, which passes too).
    genesis = REGTEST.genesis_block.header
    solved = solve_header(replace(genesis, nonce=0), REGTEST, max_tries=100)
    assert solved is not None and solved.nonce == 0
    assert check_proof_of_work(solved.hash(), solved.bits, REGTEST)
    assert solve_header(genesis, REGTEST, max_tries=1).hash() == REGTEST.genesis_hash


def test_solver_refinds_the_mainnet_genesis_nonce():
    # Satoshi's nonce 2083236893 is the only one that works within 3000 of it.
    genesis = MAINNET.genesis_block.header
    start = replace(genesis, nonce=genesis.nonce - 1000)
    solved = solve_header(start, MAINNET, max_tries=3000)
    assert solved == genesis
    assert start.nonce == genesis.nonce - 1000  # the input header is left alone
    # Stopping one short of it finds nothing.
    assert solve_header(start, MAINNET, max_tries=1000) is None


def test_solver_stops_at_the_end_of_the_nonce_space():
    header = replace(REGTEST.genesis_block.header, nonce=NONCE_SPACE - 5, bits=0x03000001)
    assert solve_header(header, REGTEST, max_tries=1000) is None


def test_solver_refuses_bits_the_network_would_reject():
    header = REGTEST.genesis_block.header
    with pytest.raises(ValueError, match="not a valid target"):
        solve_header(header, MAINNET, max_tries=10)  # 0x207fffff is above mainnet's limit
    with pytest.raises(ValueError):
        solve_header(replace(header, bits=0x04923456), REGTEST, max_tries=10)


@given(st.binary(min_size=76, max_size=76), st.integers(0, 2**32 - 200))
def test_scan_matches_a_plain_integer_comparison(prefix, start):
    target = 1 << 251  # about one hash in 32 passes
    expected = None
    for nonce in range(start, start + 150):
        digest = hashlib.sha256(
            hashlib.sha256(prefix + nonce.to_bytes(4, "little")).digest()
        ).digest()
        if int.from_bytes(digest, "little") <= target:
            expected = nonce
            break
    assert scan_nonces(prefix, target, start, start + 150) == expected


def test_parallel_solver_finds_the_mainnet_genesis_nonce():
    genesis = MAINNET.genesis_block.header
    start = replace(genesis, nonce=genesis.nonce - 3000)
    solved = solve_header_parallel(start, MAINNET, processes=2, max_tries=4000, timeout=60)
    assert solved == genesis


def test_parallel_solver_gives_up_when_the_range_is_exhausted():
    header = replace(REGTEST.genesis_block.header, bits=0x03000001)
    assert solve_header_parallel(header, REGTEST, processes=2, max_tries=5000) is None


def test_parallel_solver_respects_its_timeout():
    header = replace(REGTEST.genesis_block.header, bits=0x03000001)
    assert solve_header_parallel(header, REGTEST, processes=2, timeout=1.0) is None


def test_mined_block_passes_check_proof_of_work():
    block = Block(replace(REGTEST.genesis_block.header, time=1700000000, nonce=0))
    solved = solve_header(block.header, REGTEST, max_tries=1000)
    assert solved is not None
    assert check_proof_of_work(solved.hash(), solved.bits, REGTEST)
