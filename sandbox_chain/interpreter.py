"""The Script interpreter for the sandbox subset (legacy scripts, no P2SH, no segwit).

A port of Bitcoin Core `script/interpreter.cpp` — `EvalScript`, `VerifyScript`, the signature
and public-key encoding checks, and `CheckLockTime`/`CheckSequence` — for `SigVersion::BASE`.
Error codes are Bitcoin Core's `ScriptError_t` names as its test vectors spell them
(`EVAL_FALSE`, `SIG_DER`, `NULLFAIL`...), and failures are raised as `ScriptError(code, msg)`.

Signatures are checked by `sandbox_chain.keys` (consensus ECDSA: lax DER, high-S accepted);
the encoding rules on top (DERSIG, LOW_S, STRICTENC) are applied here, as Core does.
"""

from __future__ import annotations

import hashlib

from . import keys
from .errors import ScriptError
from .hashes import hash160, hash256, ripemd160, sha256
from .script import (
    DISABLED_OPCODES,
    MAX_OPS_PER_SCRIPT,
    MAX_PUBKEYS_PER_MULTISIG,
    MAX_SCRIPT_ELEMENT_SIZE,
    MAX_SCRIPT_SIZE,
    MAX_STACK_SIZE,
    OP_0NOTEQUAL,
    OP_1,
    OP_1ADD,
    OP_1NEGATE,
    OP_1SUB,
    OP_2DROP,
    OP_2DUP,
    OP_2OVER,
    OP_2ROT,
    OP_2SWAP,
    OP_3DUP,
    OP_16,
    OP_ABS,
    OP_ADD,
    OP_BOOLAND,
    OP_BOOLOR,
    OP_CHECKLOCKTIMEVERIFY,
    OP_CHECKMULTISIG,
    OP_CHECKMULTISIGVERIFY,
    OP_CHECKSEQUENCEVERIFY,
    OP_CHECKSIG,
    OP_CHECKSIGVERIFY,
    OP_CODESEPARATOR,
    OP_DEPTH,
    OP_DROP,
    OP_DUP,
    OP_ELSE,
    OP_ENDIF,
    OP_EQUAL,
    OP_EQUALVERIFY,
    OP_FROMALTSTACK,
    OP_GREATERTHAN,
    OP_GREATERTHANOREQUAL,
    OP_HASH160,
    OP_HASH256,
    OP_IF,
    OP_IFDUP,
    OP_LESSTHAN,
    OP_LESSTHANOREQUAL,
    OP_MAX,
    OP_MIN,
    OP_NEGATE,
    OP_NIP,
    OP_NOP,
    OP_NOP1,
    OP_NOP4,
    OP_NOP10,
    OP_NOT,
    OP_NOTIF,
    OP_NUMEQUAL,
    OP_NUMEQUALVERIFY,
    OP_NUMNOTEQUAL,
    OP_OVER,
    OP_PICK,
    OP_PUSHDATA4,
    OP_RETURN,
    OP_RIPEMD160,
    OP_ROLL,
    OP_ROT,
    OP_SHA1,
    OP_SHA256,
    OP_SIZE,
    OP_SUB,
    OP_SWAP,
    OP_TOALTSTACK,
    OP_TUCK,
    OP_VERIFY,
    OP_WITHIN,
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
from .sighash import legacy_sighash
from .transaction import Transaction

#: Bitcoin Core's `ScriptErrorString` texts for the codes this interpreter raises.
ERROR_MESSAGES = {
    "EVAL_FALSE": (
        "Script evaluated without error but finished with a false/empty top stack element"
    ),
    "VERIFY": "Script failed an OP_VERIFY operation",
    "EQUALVERIFY": "Script failed an OP_EQUALVERIFY operation",
    "CHECKMULTISIGVERIFY": "Script failed an OP_CHECKMULTISIGVERIFY operation",
    "CHECKSIGVERIFY": "Script failed an OP_CHECKSIGVERIFY operation",
    "NUMEQUALVERIFY": "Script failed an OP_NUMEQUALVERIFY operation",
    "OP_RETURN": "OP_RETURN was encountered",
    "SCRIPT_SIZE": "Script is too big",
    "PUSH_SIZE": "Push value size limit exceeded",
    "OP_COUNT": "Operation limit exceeded",
    "STACK_SIZE": "Stack size limit exceeded",
    "SIG_COUNT": "Signature count negative or greater than pubkey count",
    "PUBKEY_COUNT": "Pubkey count negative or limit exceeded",
    "BAD_OPCODE": "Opcode missing or not understood",
    "DISABLED_OPCODE": "Attempted to use a disabled opcode",
    "INVALID_STACK_OPERATION": "Operation not valid with the current stack size",
    "INVALID_ALTSTACK_OPERATION": "Operation not valid with the current altstack size",
    "UNBALANCED_CONDITIONAL": "Invalid OP_IF construction",
    "NEGATIVE_LOCKTIME": "Negative locktime",
    "UNSATISFIED_LOCKTIME": "Locktime requirement not satisfied",
    "SIG_HASHTYPE": "Signature hash type missing or not understood",
    "SIG_DER": "Non-canonical DER signature",
    "MINIMALDATA": "Data push larger than necessary",
    "SIG_PUSHONLY": "Only push operators allowed in signatures",
    "SIG_HIGH_S": "Non-canonical signature: S value is unnecessarily high",
    "SIG_NULLDUMMY": "Dummy CHECKMULTISIG argument must be zero",
    "PUBKEYTYPE": "Public key is neither compressed or uncompressed",
    "CLEANSTACK": "Stack size must be exactly one after execution",
    "NULLFAIL": "Signature must be zero for failed CHECK(MULTI)SIG operation",
    "DISCOURAGE_UPGRADABLE_NOPS": "NOPx reserved for soft-fork upgrades",
    "OP_CODESEPARATOR": "Using OP_CODESEPARATOR in non-witness script",
    "SIG_FINDANDDELETE": "Signature is found in scriptCode",
    "SCRIPTNUM": "Script number overflowed or is non-minimally encoded",
    "UNKNOWN_ERROR": "unknown error",
}

LOCKTIME_THRESHOLD = 500_000_000  # below: a block height; from here on: a Unix time
SEQUENCE_FINAL = 0xFFFFFFFF
SEQUENCE_LOCKTIME_DISABLE_FLAG = 1 << 31
SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22
SEQUENCE_LOCKTIME_MASK = 0x0000FFFF

_TRUE, _FALSE = b"\x01", b""


def _fail(code: str) -> ScriptError:
    return ScriptError(code, ERROR_MESSAGES.get(code, ""))


# --- signature and key checks ---------------------------------------------------------------


def check_signature_encoding(sig: bytes, flags: int) -> None:
    """DERSIG / LOW_S / STRICTENC rules on a signature with its hash-type byte (Core's
    `CheckSignatureEncoding`). The empty signature is always allowed: it is the compact way to
    provide a signature meant to fail."""
    if not sig:
        return
    if flags & (SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_LOW_S | SCRIPT_VERIFY_STRICTENC):
        if not keys.is_strict_der(sig):
            raise _fail("SIG_DER")
    if flags & SCRIPT_VERIFY_LOW_S and not keys.is_low_s(sig[:-1]):
        raise _fail("SIG_HIGH_S")
    if flags & SCRIPT_VERIFY_STRICTENC and not 1 <= sig[-1] & 0x7F <= 3:
        raise _fail("SIG_HASHTYPE")


def check_pubkey_encoding(pub: bytes, flags: int) -> None:
    """STRICTENC: a public key must be 33 bytes 02/03 or 65 bytes 04 (`CheckPubKeyEncoding`)."""
    if flags & SCRIPT_VERIFY_STRICTENC and not keys.is_valid_pubkey_encoding(pub):
        raise _fail("PUBKEYTYPE")


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


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


_HASHES = {
    OP_RIPEMD160: ripemd160,
    OP_SHA1: _sha1,
    OP_SHA256: sha256,
    OP_HASH160: hash160,
    OP_HASH256: hash256,
}
_UNARY = {
    OP_1ADD: lambda a: a + 1,
    OP_1SUB: lambda a: a - 1,
    OP_NEGATE: lambda a: -a,
    OP_ABS: abs,
    OP_NOT: lambda a: int(a == 0),
    OP_0NOTEQUAL: lambda a: int(a != 0),
}
_BINARY = {
    OP_ADD: lambda a, b: a + b,
    OP_SUB: lambda a, b: a - b,
    OP_BOOLAND: lambda a, b: int(a != 0 and b != 0),
    OP_BOOLOR: lambda a, b: int(a != 0 or b != 0),
    OP_NUMEQUAL: lambda a, b: int(a == b),
    OP_NUMEQUALVERIFY: lambda a, b: int(a == b),
    OP_NUMNOTEQUAL: lambda a, b: int(a != b),
    OP_LESSTHAN: lambda a, b: int(a < b),
    OP_GREATERTHAN: lambda a, b: int(a > b),
    OP_LESSTHANOREQUAL: lambda a, b: int(a <= b),
    OP_GREATERTHANOREQUAL: lambda a, b: int(a >= b),
    OP_MIN: min,
    OP_MAX: max,
}
# How many items each plain stack operation needs.
_NEEDS = {
    OP_2DROP: 2, OP_2DUP: 2, OP_3DUP: 3, OP_2OVER: 4, OP_2ROT: 6, OP_2SWAP: 4, OP_IFDUP: 1,
    OP_DROP: 1, OP_DUP: 1, OP_NIP: 2, OP_OVER: 2, OP_ROT: 3, OP_SWAP: 2, OP_TUCK: 2, OP_SIZE: 1,
    OP_EQUAL: 2, OP_EQUALVERIFY: 2, OP_VERIFY: 1, OP_TOALTSTACK: 1, OP_PICK: 2, OP_ROLL: 2,
    OP_WITHIN: 3, **{op: 1 for op in _UNARY}, **{op: 2 for op in _BINARY},
    **{op: 1 for op in _HASHES}, OP_CHECKSIG: 2, OP_CHECKSIGVERIFY: 2,
}  # fmt: skip


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
        raise _fail("SCRIPT_SIZE")
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
            raise _fail("BAD_OPCODE")
        if data is not None and len(data) > MAX_SCRIPT_ELEMENT_SIZE:
            raise _fail("PUSH_SIZE")
        # OP_RESERVED (0x50) does not count towards the limit, as in Core.
        if opcode > OP_16:
            op_count += 1
            if op_count > MAX_OPS_PER_SCRIPT:
                raise _fail("OP_COUNT")
        # Disabled opcodes fail even in a branch that is not executed.
        if opcode in DISABLED_OPCODES:
            raise _fail("DISABLED_OPCODE")
        if opcode == OP_CODESEPARATOR and flags & SCRIPT_VERIFY_CONST_SCRIPTCODE:
            raise _fail("OP_CODESEPARATOR")

        if executing and opcode <= OP_PUSHDATA4:
            data = data if data is not None else b""  # get_op gives data for every push
            if minimal and not is_minimal_push(data, opcode):
                raise _fail("MINIMALDATA")
            stack.append(data)
        elif executing or OP_IF <= opcode <= OP_ENDIF:
            if len(stack) < _NEEDS.get(opcode, 0):
                raise _fail("INVALID_STACK_OPERATION")

            if opcode == OP_1NEGATE or OP_1 <= opcode <= OP_16:
                stack.append(encode_num(opcode - (OP_1 - 1)))
            elif opcode == OP_NOP:
                pass
            elif opcode in (OP_CHECKLOCKTIMEVERIFY, OP_CHECKSEQUENCEVERIFY):
                _lock_time_op(stack, opcode, flags, num, tx, input_index)
            elif opcode == OP_NOP1 or OP_NOP4 <= opcode <= OP_NOP10:
                if flags & SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS:
                    raise _fail("DISCOURAGE_UPGRADABLE_NOPS")
            elif opcode in (OP_IF, OP_NOTIF):
                value = False
                if executing:
                    if not stack:  # Core's vectors (2026) name this a stack error
                        raise _fail("INVALID_STACK_OPERATION")
                    value = cast_to_bool(stack.pop()) != (opcode == OP_NOTIF)
                exec_stack.append(value)
                false_count += not value
            elif opcode == OP_ELSE:
                if not exec_stack:
                    raise _fail("UNBALANCED_CONDITIONAL")
                false_count += 1 if exec_stack[-1] else -1
                exec_stack[-1] = not exec_stack[-1]
            elif opcode == OP_ENDIF:
                if not exec_stack:
                    raise _fail("UNBALANCED_CONDITIONAL")
                false_count -= not exec_stack.pop()
            elif opcode == OP_VERIFY:
                if not cast_to_bool(stack[-1]):
                    raise _fail("VERIFY")
                stack.pop()
            elif opcode == OP_RETURN:
                raise _fail("OP_RETURN")
            elif opcode in _HASHES:
                stack.append(_HASHES[opcode](stack.pop()))
            elif opcode == OP_CODESEPARATOR:
                begin_code_hash = pc
            elif opcode in (OP_CHECKSIG, OP_CHECKSIGVERIFY):
                sig, pub = stack[-2], stack[-1]
                script_code = _script_code(script[begin_code_hash:], [sig], flags)
                check_signature_encoding(sig, flags)
                check_pubkey_encoding(pub, flags)
                success = check_ecdsa_signature(sig, pub, script_code, tx, input_index)
                if not success and flags & SCRIPT_VERIFY_NULLFAIL and sig:
                    raise _fail("NULLFAIL")
                del stack[-2:]
                if opcode == OP_CHECKSIGVERIFY:
                    if not success:
                        raise _fail("CHECKSIGVERIFY")
                else:
                    stack.append(_TRUE if success else _FALSE)
            elif opcode in (OP_CHECKMULTISIG, OP_CHECKMULTISIGVERIFY):
                op_count = _checkmultisig(
                    stack, script[begin_code_hash:], opcode, flags, op_count, tx, input_index
                )
            else:
                _stack_op(stack, altstack, opcode, num)

        if len(stack) + len(altstack) > MAX_STACK_SIZE:
            raise _fail("STACK_SIZE")

    if exec_stack:
        raise _fail("UNBALANCED_CONDITIONAL")


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
        raise _fail("INVALID_STACK_OPERATION")
    # 5-byte operands: lock times are uint32, beyond the range of a 4-byte script number.
    value = num(stack[-1], 5)
    if value < 0:
        raise _fail("NEGATIVE_LOCKTIME")
    if opcode == OP_CHECKLOCKTIMEVERIFY:
        if not check_lock_time(value, tx, input_index):
            raise _fail("UNSATISFIED_LOCKTIME")
    elif not value & SEQUENCE_LOCKTIME_DISABLE_FLAG:  # a disabled relative lock is a NOP
        if not check_sequence(value, tx, input_index):
            raise _fail("UNSATISFIED_LOCKTIME")


def _script_code(script_code: bytes, sigs: list[bytes], flags: int) -> bytes:
    """Remove each signature's push from the script code (a signature cannot sign itself)."""
    for sig in sigs:
        script_code, found = find_and_delete(script_code, push_data(sig))
        if found and flags & SCRIPT_VERIFY_CONST_SCRIPTCODE:
            raise _fail("SIG_FINDANDDELETE")
    return script_code


def _stack_op(stack: list[bytes], altstack: list[bytes], opcode: int, num) -> None:
    """Stack manipulation, equality and arithmetic; the stack depth was checked already."""
    if opcode == OP_TOALTSTACK:
        altstack.append(stack.pop())
    elif opcode == OP_FROMALTSTACK:
        if not altstack:
            raise _fail("INVALID_ALTSTACK_OPERATION")
        stack.append(altstack.pop())
    elif opcode == OP_2DROP:
        del stack[-2:]
    elif opcode == OP_2DUP:
        stack.extend(stack[-2:])
    elif opcode == OP_3DUP:
        stack.extend(stack[-3:])
    elif opcode == OP_2OVER:
        stack.extend(stack[-4:-2])
    elif opcode == OP_2ROT:
        moved = stack[-6:-4]
        del stack[-6:-4]
        stack.extend(moved)
    elif opcode == OP_2SWAP:
        stack[-4:] = stack[-2:] + stack[-4:-2]
    elif opcode == OP_IFDUP:
        if cast_to_bool(stack[-1]):
            stack.append(stack[-1])
    elif opcode == OP_DEPTH:
        stack.append(encode_num(len(stack)))
    elif opcode == OP_DROP:
        stack.pop()
    elif opcode == OP_DUP:
        stack.append(stack[-1])
    elif opcode == OP_NIP:
        del stack[-2]
    elif opcode == OP_OVER:
        stack.append(stack[-2])
    elif opcode in (OP_PICK, OP_ROLL):
        n = num(stack[-1])
        stack.pop()
        if n < 0 or n >= len(stack):
            raise _fail("INVALID_STACK_OPERATION")
        item = stack[-n - 1]
        if opcode == OP_ROLL:
            del stack[-n - 1]
        stack.append(item)
    elif opcode == OP_ROT:
        stack.append(stack.pop(-3))
    elif opcode == OP_SWAP:
        stack[-2], stack[-1] = stack[-1], stack[-2]
    elif opcode == OP_TUCK:
        stack.insert(-2, stack[-1])
    elif opcode == OP_SIZE:
        stack.append(encode_num(len(stack[-1])))
    elif opcode in (OP_EQUAL, OP_EQUALVERIFY):
        equal = stack.pop() == stack.pop()
        if opcode == OP_EQUALVERIFY:
            if not equal:
                raise _fail("EQUALVERIFY")
        else:
            stack.append(_TRUE if equal else _FALSE)
    elif opcode in _UNARY:
        stack.append(encode_num(_UNARY[opcode](num(stack.pop()))))
    elif opcode in _BINARY:
        a, b = num(stack[-2]), num(stack[-1])
        del stack[-2:]
        result = _BINARY[opcode](a, b)
        if opcode == OP_NUMEQUALVERIFY:
            if not result:
                raise _fail("NUMEQUALVERIFY")
        else:
            stack.append(encode_num(result))
    elif opcode == OP_WITHIN:
        x, low, high = num(stack[-3]), num(stack[-2]), num(stack[-1])
        del stack[-3:]
        stack.append(_TRUE if low <= x < high else _FALSE)
    else:
        # Reserved, VER/VERIF/VERNOTIF, CHECKSIGADD, unassigned: fail when executed.
        raise _fail("BAD_OPCODE")


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
        raise _fail("INVALID_STACK_OPERATION")
    n_keys = decode_num(stack[-i], minimal)
    if n_keys < 0 or n_keys > MAX_PUBKEYS_PER_MULTISIG:
        raise _fail("PUBKEY_COUNT")
    op_count += n_keys
    if op_count > MAX_OPS_PER_SCRIPT:
        raise _fail("OP_COUNT")
    i += 1
    ikey = i
    ikey2 = n_keys + 2  # items above the signatures: used to find them for NULLFAIL
    i += n_keys
    if len(stack) < i:
        raise _fail("INVALID_STACK_OPERATION")
    n_sigs = decode_num(stack[-i], minimal)
    if n_sigs < 0 or n_sigs > n_keys:
        raise _fail("SIG_COUNT")
    i += 1
    isig = i
    i += n_sigs
    if len(stack) < i:
        raise _fail("INVALID_STACK_OPERATION")

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
            raise _fail("NULLFAIL")
        if ikey2 > 0:
            ikey2 -= 1
        stack.pop()
    if not stack:
        raise _fail("INVALID_STACK_OPERATION")
    if flags & SCRIPT_VERIFY_NULLDUMMY and stack[-1]:
        raise _fail("SIG_NULLDUMMY")
    stack.pop()
    if opcode == OP_CHECKMULTISIGVERIFY:
        if not success:
            raise _fail("CHECKMULTISIGVERIFY")
    else:
        stack.append(_TRUE if success else _FALSE)
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
        raise _fail("SIG_PUSHONLY")
    stack: list[bytes] = []
    eval_script(stack, script_sig, flags, tx, input_index)
    eval_script(stack, script_pubkey, flags, tx, input_index)
    if not stack or not cast_to_bool(stack[-1]):
        raise _fail("EVAL_FALSE")
    if flags & SCRIPT_VERIFY_CLEANSTACK and len(stack) != 1:
        raise _fail("CLEANSTACK")
