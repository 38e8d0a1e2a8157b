"""The Script interpreter for the sandbox subset (legacy scripts, no P2SH, no segwit).

A port of Bitcoin Core `script/interpreter.cpp` — `EvalScript`, `VerifyScript`, the signature
and public-key encoding checks, and `CheckLockTime`/`CheckSequence` — for `SigVersion::BASE`.
Error codes are Bitcoin Core's `ScriptError_t` names as its test vectors spell them
(`EVAL_FALSE`, `SIG_DER`, `NULLFAIL`...), and failures are raised as `ScriptError(code, msg)`.

Signatures are checked by `sandbox_chain.keys` (consensus ECDSA: lax DER, high-S accepted);
the encoding rules on top (DERSIG, LOW_S, STRICTENC) are applied here, as Core does. The
opcodes that only move, compare, compute or hash stack items are in `sandbox_chain.stackops`;
the error codes and their texts in `sandbox_chain.script_error`.
"""

from __future__ import annotations

from . import keys
from .script import (
    DISABLED_OPCODES,
    MAX_OPS_PER_SCRIPT,
    MAX_PUBKEYS_PER_MULTISIG,
    MAX_SCRIPT_ELEMENT_SIZE,
    MAX_SCRIPT_SIZE,
    MAX_STACK_SIZE,
    OP_1,
    OP_1NEGATE,
    OP_16,
    OP_CHECKLOCKTIMEVERIFY,
    OP_CHECKMULTISIG,
    OP_CHECKMULTISIGVERIFY,
    OP_CHECKSEQUENCEVERIFY,
    OP_CHECKSIG,
    OP_CHECKSIGVERIFY,
    OP_CODESEPARATOR,
    OP_ELSE,
    OP_ENDIF,
    OP_IF,
    OP_NOP,
    OP_NOP1,
    OP_NOP4,
    OP_NOP10,
    OP_NOTIF,
    OP_PUSHDATA4,
    OP_RETURN,
    OP_VERIFY,
    SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
    SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
    SCRIPT_VERIFY_CLEANSTACK,
    SCRIPT_VERIFY_CONST_SCRIPTCODE,
    SCRIPT_VERIFY_DERSIG,
    SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS,
    SCRIPT_VERIFY_LOW_S,
    SCRIPT_VERIFY_MINIMALDATA,
    SCRIPT_VERIFY_NULLDUMMY,
    SCRIPT_VERIFY_NULLFAIL,
    SCRIPT_VERIFY_SIGPUSHONLY,
    SCRIPT_VERIFY_STRICTENC,
    cast_to_bool,
    decode_num,
    encode_num,
    find_and_delete,
    get_op,
    is_minimal_push,
    is_push_only,
    push_data,
)
from .script_error import ERROR_MESSAGES as ERROR_MESSAGES  # re-exported: it was defined here
from .script_error import script_error
from .sighash import legacy_sighash
from .stackops import FALSE, ITEMS_NEEDED, TRUE, run_stack_op
from .transaction import Transaction

LOCKTIME_THRESHOLD = 500_000_000  # below: a block height; from here on: a Unix time
SEQUENCE_FINAL = 0xFFFFFFFF
SEQUENCE_LOCKTIME_DISABLE_FLAG = 1 << 31
SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22
SEQUENCE_LOCKTIME_MASK = 0x0000FFFF

# Stack depth each opcode needs: the stack operations' own, and those handled here.
_NEEDS = {**ITEMS_NEEDED, OP_VERIFY: 1, OP_CHECKSIG: 2, OP_CHECKSIGVERIFY: 2}


# --- signature and key checks ---------------------------------------------------------------


def check_signature_encoding(sig: bytes, flags: int) -> None:
    """DERSIG / LOW_S / STRICTENC rules on a signature with its hash-type byte (Core's
    `CheckSignatureEncoding`). The empty signature is always allowed: it is the compact way to
    provide a signature meant to fail."""
    if not sig:
        return
    if flags & (SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_LOW_S | SCRIPT_VERIFY_STRICTENC):
        if not keys.is_strict_der(sig):
            raise script_error("SIG_DER")
    if flags & SCRIPT_VERIFY_LOW_S and not keys.is_low_s(sig[:-1]):
        raise script_error("SIG_HIGH_S")
    if flags & SCRIPT_VERIFY_STRICTENC and not 1 <= sig[-1] & 0x7F <= 3:
        raise script_error("SIG_HASHTYPE")


def check_pubkey_encoding(pub: bytes, flags: int) -> None:
    """STRICTENC: a public key must be 33 bytes 02/03 or 65 bytes 04 (`CheckPubKeyEncoding`)."""
    if flags & SCRIPT_VERIFY_STRICTENC and not keys.is_valid_pubkey_encoding(pub):
        raise script_error("PUBKEYTYPE")


def check_ecdsa_signature(
    sig: bytes, pub: bytes, script_code: bytes, tx: Transaction | None, input_index: int
) -> bool:
    """Does `sig` (DER + hash-type byte) sign input `input_index` of `tx` under `pub`?"""
    if tx is None or not sig:
        return False
    digest = legacy_sighash(tx, input_index, script_code, sig[-1])
    return keys.verify_signature(pub, sig[:-1], digest)


def check_lock_time(lock_time: int, tx: Transaction | None, input_index: int) -> bool:
    """BIP-65: may this input require the transaction's locktime to be at least `lock_time`?"""
    if tx is None:
        return False
    # Heights and times are not comparable with each other.
    if (tx.locktime < LOCKTIME_THRESHOLD) != (lock_time < LOCKTIME_THRESHOLD):
        return False
    if lock_time > tx.locktime:
        return False
    # A final sequence disables nLockTime, and with it this check.
    return tx.vin[input_index].sequence != SEQUENCE_FINAL


def check_sequence(sequence: int, tx: Transaction | None, input_index: int) -> bool:
    """BIP-112: does this input's relative lock (its nSequence) cover `sequence`?"""
    if tx is None:
        return False
    tx_sequence = tx.vin[input_index].sequence
    if tx.version & 0xFFFFFFFF < 2:  # BIP-68 applies from version 2 (compared unsigned)
        return False
    if tx_sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG:
        return False
    mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK
    tx_masked, wanted = tx_sequence & mask, sequence & mask
    if (tx_masked < SEQUENCE_LOCKTIME_TYPE_FLAG) != (wanted < SEQUENCE_LOCKTIME_TYPE_FLAG):
        return False
    return wanted <= tx_masked


# --- evaluation ------------------------------------------------------------------------------


def eval_script(
    stack: list[bytes],
    script: bytes,
    flags: int,
    tx: Transaction | None = None,
    input_index: int = 0,
) -> None:
    """Run `script` on `stack` (modified in place); raise `ScriptError` if it fails.

    `tx` and `input_index` are the spending transaction and input, needed by CHECKSIG and the
    lock-time opcodes; without them signatures never verify (Core's `BaseSignatureChecker`).
    """
    if len(script) > MAX_SCRIPT_SIZE:
        raise script_error("SCRIPT_SIZE")
    altstack: list[bytes] = []
    exec_stack: list[bool] = []  # one entry per open IF: is its current branch executed?
    false_count = 0  # how many entries of exec_stack are False
    begin_code_hash = 0  # the script code starts after the last executed OP_CODESEPARATOR
    op_count = 0
    minimal = bool(flags & SCRIPT_VERIFY_MINIMALDATA)
    pc, end = 0, len(script)

    def num(item: bytes, max_size: int = 4) -> int:
        return decode_num(item, minimal, max_size)

    while pc < end:
        executing = false_count == 0
        ok, opcode, data, pc = get_op(script, pc)
        if not ok:
            raise script_error("BAD_OPCODE")
        if data is not None and len(data) > MAX_SCRIPT_ELEMENT_SIZE:
            raise script_error("PUSH_SIZE")
        # OP_RESERVED (0x50) does not count towards the limit, as in Core.
        if opcode > OP_16:
            op_count += 1
            if op_count > MAX_OPS_PER_SCRIPT:
                raise script_error("OP_COUNT")
        # Disabled opcodes fail even in a branch that is not executed.
        if opcode in DISABLED_OPCODES:
            raise script_error("DISABLED_OPCODE")
        if opcode == OP_CODESEPARATOR and flags & SCRIPT_VERIFY_CONST_SCRIPTCODE:
            raise script_error("OP_CODESEPARATOR")

        if executing and opcode <= OP_PUSHDATA4:
            data = data if data is not None else b""  # get_op gives data for every push
            if minimal and not is_minimal_push(data, opcode):
                raise script_error("MINIMALDATA")
            stack.append(data)
        elif executing or OP_IF <= opcode <= OP_ENDIF:
            if len(stack) < _NEEDS.get(opcode, 0):
                raise script_error("INVALID_STACK_OPERATION")

            if opcode == OP_1NEGATE or OP_1 <= opcode <= OP_16:
                stack.append(encode_num(opcode - (OP_1 - 1)))
            elif opcode == OP_NOP:
                pass
            elif opcode in (OP_CHECKLOCKTIMEVERIFY, OP_CHECKSEQUENCEVERIFY):
                _lock_time_op(stack, opcode, flags, num, tx, input_index)
            elif opcode == OP_NOP1 or OP_NOP4 <= opcode <= OP_NOP10:
                if flags & SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS:
                    raise script_error("DISCOURAGE_UPGRADABLE_NOPS")
            elif opcode in (OP_IF, OP_NOTIF):
                value = False
                if executing:
                    if not stack:  # Core's vectors (2026) name this a stack error
                        raise script_error("INVALID_STACK_OPERATION")
                    value = cast_to_bool(stack.pop()) != (opcode == OP_NOTIF)
                exec_stack.append(value)
                false_count += not value
            elif opcode == OP_ELSE:
                if not exec_stack:
                    raise script_error("UNBALANCED_CONDITIONAL")
                false_count += 1 if exec_stack[-1] else -1
                exec_stack[-1] = not exec_stack[-1]
            elif opcode == OP_ENDIF:
                if not exec_stack:
                    raise script_error("UNBALANCED_CONDITIONAL")
                false_count -= not exec_stack.pop()
            elif opcode == OP_VERIFY:
                if not cast_to_bool(stack[-1]):
                    raise script_error("VERIFY")
                stack.pop()
            elif opcode == OP_RETURN:
                raise script_error("OP_RETURN")
            elif opcode == OP_CODESEPARATOR:
                begin_code_hash = pc
            elif opcode in (OP_CHECKSIG, OP_CHECKSIGVERIFY):
                sig, pub = stack[-2], stack[-1]
                script_code = _script_code(script[begin_code_hash:], [sig], flags)
                check_signature_encoding(sig, flags)
                check_pubkey_encoding(pub, flags)
                success = check_ecdsa_signature(sig, pub, script_code, tx, input_index)
                if not success and flags & SCRIPT_VERIFY_NULLFAIL and sig:
                    raise script_error("NULLFAIL")
                del stack[-2:]
                if opcode == OP_CHECKSIGVERIFY:
                    if not success:
                        raise script_error("CHECKSIGVERIFY")
                else:
                    stack.append(TRUE if success else FALSE)
            elif opcode in (OP_CHECKMULTISIG, OP_CHECKMULTISIGVERIFY):
                op_count = _checkmultisig(
                    stack, script[begin_code_hash:], opcode, flags, op_count, tx, input_index
                )
            else:
                run_stack_op(stack, altstack, opcode, num)

        if len(stack) + len(altstack) > MAX_STACK_SIZE:
            raise script_error("STACK_SIZE")

    if exec_stack:
        raise script_error("UNBALANCED_CONDITIONAL")


def _lock_time_op(
    stack: list[bytes], opcode: int, flags: int, num, tx: Transaction | None, input_index: int
) -> None:
    """CHECKLOCKTIMEVERIFY (BIP-65) and CHECKSEQUENCEVERIFY (BIP-112); plain NOPs when off."""
    enabled = (
        SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY
        if opcode == OP_CHECKLOCKTIMEVERIFY
        else SCRIPT_VERIFY_CHECKSEQUENCEVERIFY
    )
    if not flags & enabled:
        # Not enabled: the NOP2/NOP3 it was. Current Core no longer discourages these two
        # (both soft forks are active), and its tx_valid vectors rely on that.
        return
    if not stack:
        raise script_error("INVALID_STACK_OPERATION")
    # 5-byte operands: lock times are uint32, beyond the range of a 4-byte script number.
    value = num(stack[-1], 5)
    if value < 0:
        raise script_error("NEGATIVE_LOCKTIME")
    if opcode == OP_CHECKLOCKTIMEVERIFY:
        if not check_lock_time(value, tx, input_index):
            raise script_error("UNSATISFIED_LOCKTIME")
    elif not value & SEQUENCE_LOCKTIME_DISABLE_FLAG:  # a disabled relative lock is a NOP
        if not check_sequence(value, tx, input_index):
            raise script_error("UNSATISFIED_LOCKTIME")


def _script_code(script_code: bytes, sigs: list[bytes], flags: int) -> bytes:
    """Remove each signature's push from the script code (a signature cannot sign itself)."""
    for sig in sigs:
        script_code, found = find_and_delete(script_code, push_data(sig))
        if found and flags & SCRIPT_VERIFY_CONST_SCRIPTCODE:
            raise script_error("SIG_FINDANDDELETE")
    return script_code


def _checkmultisig(
    stack: list[bytes],
    script_code: bytes,
    opcode: int,
    flags: int,
    op_count: int,
    tx: Transaction | None,
    input_index: int,
) -> int:
    """OP_CHECKMULTISIG(VERIFY): ( dummy sig... m key... n -- bool ); returns the op count.

    Signatures must appear in the same order as their keys. The extra `dummy` item it pops is
    Bitcoin's off-by-one bug, kept forever; NULLDUMMY requires it to be empty.
    """
    minimal = bool(flags & SCRIPT_VERIFY_MINIMALDATA)
    i = 1
    if len(stack) < i:
        raise script_error("INVALID_STACK_OPERATION")
    n_keys = decode_num(stack[-i], minimal)
    if n_keys < 0 or n_keys > MAX_PUBKEYS_PER_MULTISIG:
        raise script_error("PUBKEY_COUNT")
    op_count += n_keys
    if op_count > MAX_OPS_PER_SCRIPT:
        raise script_error("OP_COUNT")
    i += 1
    ikey = i
    ikey2 = n_keys + 2  # items above the signatures: used to find them for NULLFAIL
    i += n_keys
    if len(stack) < i:
        raise script_error("INVALID_STACK_OPERATION")
    n_sigs = decode_num(stack[-i], minimal)
    if n_sigs < 0 or n_sigs > n_keys:
        raise script_error("SIG_COUNT")
    i += 1
    isig = i
    i += n_sigs
    if len(stack) < i:
        raise script_error("INVALID_STACK_OPERATION")

    script_code = _script_code(script_code, [stack[-isig - k] for k in range(n_sigs)], flags)
    success = True
    while success and n_sigs > 0:
        sig, pub = stack[-isig], stack[-ikey]
        # The order of these checks is observable with STRICTENC (see Core's script tests).
        check_signature_encoding(sig, flags)
        check_pubkey_encoding(pub, flags)
        if check_ecdsa_signature(sig, pub, script_code, tx, input_index):
            isig += 1
            n_sigs -= 1
        ikey += 1
        n_keys -= 1
        # More signatures left than keys: too many have failed already.
        if n_sigs > n_keys:
            success = False

    while i > 1:  # pop the arguments, checking NULLFAIL on the signatures
        i -= 1
        if not success and flags & SCRIPT_VERIFY_NULLFAIL and not ikey2 and stack[-1]:
            raise script_error("NULLFAIL")
        if ikey2 > 0:
            ikey2 -= 1
        stack.pop()
    if not stack:
        raise script_error("INVALID_STACK_OPERATION")
    if flags & SCRIPT_VERIFY_NULLDUMMY and stack[-1]:
        raise script_error("SIG_NULLDUMMY")
    stack.pop()
    if opcode == OP_CHECKMULTISIGVERIFY:
        if not success:
            raise script_error("CHECKMULTISIGVERIFY")
    else:
        stack.append(TRUE if success else FALSE)
    return op_count


def verify_script(
    script_sig: bytes,
    script_pubkey: bytes,
    tx: Transaction | None,
    input_index: int,
    flags: int,
) -> None:
    """Does `script_sig` unlock `script_pubkey` for input `input_index` of `tx`? (`VerifyScript`)

    The two scripts run one after the other on the same stack (never concatenated: see
    CVE-2010-5141); success means a true top item (and, under CLEANSTACK, nothing else).
    Raises `ScriptError` with Core's error code otherwise.
    """
    if flags & SCRIPT_VERIFY_SIGPUSHONLY and not is_push_only(script_sig):
        raise script_error("SIG_PUSHONLY")
    stack: list[bytes] = []
    eval_script(stack, script_sig, flags, tx, input_index)
    eval_script(stack, script_pubkey, flags, tx, input_index)
    if not stack or not cast_to_bool(stack[-1]):
        raise script_error("EVAL_FALSE")
    if flags & SCRIPT_VERIFY_CLEANSTACK and len(stack) != 1:
        raise script_error("CLEANSTACK")
