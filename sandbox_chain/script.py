"""Bitcoin Script: opcodes, parsing, script numbers, standard templates and verification flags.

Follows Bitcoin Core `script/script.h` and `script/script.cpp` (opcode values and names,
`GetScriptOp`, `CScriptNum`, `IsPushOnly`, `FindAndDelete`), `script/interpreter.h` (the
`SCRIPT_VERIFY_*` flag bits), `script/solver.cpp` (the standard templates) and
`core_read.cpp` (`ParseScript`, the text form used by Bitcoin Core's test vectors).

The interpreter lives in `sandbox_chain.interpreter`; `verify_script` is re-exported here so
`from sandbox_chain.script import verify_script` works. Pay-to-script-hash (BIP-16) and segwit
are outside the sandbox subset: a P2SH scriptPubKey is evaluated as the bare hash-lock it looks
like, as before BIP-16.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .errors import ParseError, ScriptError

# --- opcodes (script.h) ---------------------------------------------------------------------

# Pushes: 0x01..0x4b push that many following bytes.
OP_0 = OP_FALSE = 0x00
OP_PUSHDATA1, OP_PUSHDATA2, OP_PUSHDATA4 = 0x4C, 0x4D, 0x4E
OP_1NEGATE, OP_RESERVED = 0x4F, 0x50
OP_1 = OP_TRUE = 0x51
OP_2, OP_3, OP_4, OP_5, OP_6, OP_7, OP_8 = range(0x52, 0x59)
OP_9, OP_10, OP_11, OP_12, OP_13, OP_14, OP_15, OP_16 = range(0x59, 0x61)
# Control.
OP_NOP, OP_VER, OP_IF, OP_NOTIF, OP_VERIF, OP_VERNOTIF = range(0x61, 0x67)
OP_ELSE, OP_ENDIF, OP_VERIFY, OP_RETURN = range(0x67, 0x6B)
# Stack.
OP_TOALTSTACK, OP_FROMALTSTACK, OP_2DROP, OP_2DUP, OP_3DUP, OP_2OVER = range(0x6B, 0x71)
OP_2ROT, OP_2SWAP, OP_IFDUP, OP_DEPTH, OP_DROP, OP_DUP, OP_NIP = range(0x71, 0x78)
OP_OVER, OP_PICK, OP_ROLL, OP_ROT, OP_SWAP, OP_TUCK = range(0x78, 0x7E)
# Splice, bitwise logic.
OP_CAT, OP_SUBSTR, OP_LEFT, OP_RIGHT, OP_SIZE = range(0x7E, 0x83)
OP_INVERT, OP_AND, OP_OR, OP_XOR, OP_EQUAL, OP_EQUALVERIFY = range(0x83, 0x89)
OP_RESERVED1, OP_RESERVED2 = 0x89, 0x8A
# Arithmetic.
OP_1ADD, OP_1SUB, OP_2MUL, OP_2DIV, OP_NEGATE, OP_ABS, OP_NOT, OP_0NOTEQUAL = range(0x8B, 0x93)
OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_LSHIFT, OP_RSHIFT = range(0x93, 0x9A)
OP_BOOLAND, OP_BOOLOR, OP_NUMEQUAL, OP_NUMEQUALVERIFY, OP_NUMNOTEQUAL = range(0x9A, 0x9F)
OP_LESSTHAN, OP_GREATERTHAN, OP_LESSTHANOREQUAL, OP_GREATERTHANOREQUAL = range(0x9F, 0xA3)
OP_MIN, OP_MAX, OP_WITHIN = range(0xA3, 0xA6)
# Crypto.
OP_RIPEMD160, OP_SHA1, OP_SHA256, OP_HASH160, OP_HASH256, OP_CODESEPARATOR = range(0xA6, 0xAC)
OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_CHECKMULTISIG, OP_CHECKMULTISIGVERIFY = range(0xAC, 0xB0)
# Expansion: NOP2 and NOP3 became CHECKLOCKTIMEVERIFY (BIP-65) and CHECKSEQUENCEVERIFY (BIP-112).
OP_NOP1 = 0xB0
OP_CHECKLOCKTIMEVERIFY = OP_NOP2 = 0xB1
OP_CHECKSEQUENCEVERIFY = OP_NOP3 = 0xB2
OP_NOP4, OP_NOP5, OP_NOP6, OP_NOP7, OP_NOP8, OP_NOP9, OP_NOP10 = range(0xB3, 0xBA)
OP_CHECKSIGADD = 0xBA  # tapscript only: a bad opcode in legacy scripts
OP_INVALIDOPCODE = 0xFF

_OTHER_NAMES = (
    "NOP VER IF NOTIF VERIF VERNOTIF ELSE ENDIF VERIFY RETURN TOALTSTACK FROMALTSTACK 2DROP "
    "2DUP 3DUP 2OVER 2ROT 2SWAP IFDUP DEPTH DROP DUP NIP OVER PICK ROLL ROT SWAP TUCK CAT SUBSTR "
    "LEFT RIGHT SIZE INVERT AND OR XOR EQUAL EQUALVERIFY RESERVED1 RESERVED2 1ADD 1SUB 2MUL 2DIV "
    "NEGATE ABS NOT 0NOTEQUAL ADD SUB MUL DIV MOD LSHIFT RSHIFT BOOLAND BOOLOR NUMEQUAL "
    "NUMEQUALVERIFY NUMNOTEQUAL LESSTHAN GREATERTHAN LESSTHANOREQUAL GREATERTHANOREQUAL MIN MAX "
    "WITHIN RIPEMD160 SHA1 SHA256 HASH160 HASH256 CODESEPARATOR CHECKSIG CHECKSIGVERIFY "
    "CHECKMULTISIG CHECKMULTISIGVERIFY NOP1 CHECKLOCKTIMEVERIFY CHECKSEQUENCEVERIFY NOP4 NOP5 "
    "NOP6 NOP7 NOP8 NOP9 NOP10 CHECKSIGADD"
).split()

#: Bitcoin Core's `GetOpName`: "0", "-1", "1".."16" for small numbers, "OP_X" for the rest.
OPCODE_NAMES: dict[int, str] = {
    OP_0: "0",
    OP_PUSHDATA1: "OP_PUSHDATA1",
    OP_PUSHDATA2: "OP_PUSHDATA2",
    OP_PUSHDATA4: "OP_PUSHDATA4",
    OP_1NEGATE: "-1",
    OP_RESERVED: "OP_RESERVED",
    **{OP_1 + i: str(i + 1) for i in range(16)},
    **{OP_NOP + i: "OP_" + name for i, name in enumerate(_OTHER_NAMES)},
    OP_INVALIDOPCODE: "OP_INVALIDOPCODE",
}

DISABLED_OPCODES = frozenset(
    {OP_CAT, OP_SUBSTR, OP_LEFT, OP_RIGHT, OP_INVERT, OP_AND, OP_OR, OP_XOR}
    | {OP_2MUL, OP_2DIV, OP_MUL, OP_DIV, OP_MOD, OP_LSHIFT, OP_RSHIFT}
)

# --- limits (script.h) ----------------------------------------------------------------------

MAX_SCRIPT_ELEMENT_SIZE = 520  # bytes in one push
MAX_OPS_PER_SCRIPT = 201  # non-push opcodes, plus the keys of each CHECKMULTISIG
MAX_PUBKEYS_PER_MULTISIG = 20
MAX_SCRIPT_SIZE = 10_000
MAX_STACK_SIZE = 1000  # stack + altstack

# --- verification flags (interpreter.h; same bit values as Bitcoin Core) --------------------

SCRIPT_VERIFY_NONE = 0
SCRIPT_VERIFY_P2SH = 1 << 0  # known so vectors can name it; BIP-16 is outside the subset
SCRIPT_VERIFY_STRICTENC = 1 << 1
SCRIPT_VERIFY_DERSIG = 1 << 2
SCRIPT_VERIFY_LOW_S = 1 << 3
SCRIPT_VERIFY_NULLDUMMY = 1 << 4
SCRIPT_VERIFY_SIGPUSHONLY = 1 << 5
SCRIPT_VERIFY_MINIMALDATA = 1 << 6
SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS = 1 << 7
SCRIPT_VERIFY_CLEANSTACK = 1 << 8
SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY = 1 << 9
SCRIPT_VERIFY_CHECKSEQUENCEVERIFY = 1 << 10
SCRIPT_VERIFY_NULLFAIL = 1 << 14
SCRIPT_VERIFY_CONST_SCRIPTCODE = 1 << 16

#: Flag names as Bitcoin Core's test vectors spell them, for the flags the interpreter applies.
FLAG_NAMES: dict[str, int] = {
    "NONE": SCRIPT_VERIFY_NONE,
    "P2SH": SCRIPT_VERIFY_P2SH,
    "STRICTENC": SCRIPT_VERIFY_STRICTENC,
    "DERSIG": SCRIPT_VERIFY_DERSIG,
    "LOW_S": SCRIPT_VERIFY_LOW_S,
    "NULLDUMMY": SCRIPT_VERIFY_NULLDUMMY,
    "SIGPUSHONLY": SCRIPT_VERIFY_SIGPUSHONLY,
    "MINIMALDATA": SCRIPT_VERIFY_MINIMALDATA,
    "DISCOURAGE_UPGRADABLE_NOPS": SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS,
    "CLEANSTACK": SCRIPT_VERIFY_CLEANSTACK,
    "CHECKLOCKTIMEVERIFY": SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
    "CHECKSEQUENCEVERIFY": SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
    "NULLFAIL": SCRIPT_VERIFY_NULLFAIL,
    "CONST_SCRIPTCODE": SCRIPT_VERIFY_CONST_SCRIPTCODE,
}

#: Consensus rules of the sandbox chain (Core's mandatory set, minus P2SH, segwit, taproot).
MANDATORY_FLAGS = (
    SCRIPT_VERIFY_DERSIG
    | SCRIPT_VERIFY_NULLDUMMY
    | SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY
    | SCRIPT_VERIFY_CHECKSEQUENCEVERIFY
)
#: Mempool policy: the consensus rules plus Core's standardness flags that exist in the subset.
STANDARD_FLAGS = (
    MANDATORY_FLAGS
    | SCRIPT_VERIFY_STRICTENC
    | SCRIPT_VERIFY_MINIMALDATA
    | SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS
    | SCRIPT_VERIFY_CLEANSTACK
    | SCRIPT_VERIFY_NULLFAIL
    | SCRIPT_VERIFY_LOW_S
    | SCRIPT_VERIFY_CONST_SCRIPTCODE
)


def parse_flags(text: str) -> int:
    """Turn Core's comma-separated flag names ("P2SH,STRICTENC") into a bit set."""
    flags = 0
    for name in filter(None, (part.strip() for part in text.split(","))):
        if name not in FLAG_NAMES:
            raise ParseError(f"unknown script verification flag {name!r}")
        flags |= FLAG_NAMES[name]
    return flags


# --- parsing (GetScriptOp) ------------------------------------------------------------------


def get_op(script: bytes, pc: int) -> tuple[bool, int, bytes | None, int]:
    """Read one instruction at `pc`: (ok, opcode, pushed data or None, new pc).

    A faithful port of Core's `GetScriptOp`, including where `pc` stops when a push is
    truncated (after the opcode and any length bytes it could read): the signature hash's
    code-separator handling depends on that position.
    """
    end = len(script)
    if pc >= end:
        return False, OP_INVALIDOPCODE, None, pc
    opcode = script[pc]
    pc += 1
    if opcode > OP_PUSHDATA4:
        return True, opcode, None, pc
    if opcode < OP_PUSHDATA1:
        size = opcode
    else:
        width = {OP_PUSHDATA1: 1, OP_PUSHDATA2: 2, OP_PUSHDATA4: 4}[opcode]
        if end - pc < width:
            return False, OP_INVALIDOPCODE, None, pc
        size = int.from_bytes(script[pc : pc + width], "little")
        pc += width
    if end - pc < size:
        return False, OP_INVALIDOPCODE, None, pc
    return True, opcode, script[pc : pc + size], pc + size


def iter_script(script: bytes) -> Iterator[tuple[int, bytes | None, int]]:
    """Yield (opcode, pushed data or None, offset after it); ScriptError BAD_OPCODE if truncated."""
    pc = 0
    while pc < len(script):
        ok, opcode, data, pc = get_op(script, pc)
        if not ok:
            raise ScriptError("BAD_OPCODE", "truncated push")
        yield opcode, data, pc


def is_push_only(script: bytes) -> bool:
    """Core's `IsPushOnly`: only pushes, OP_1NEGATE..OP_16 (and, as in Core, OP_RESERVED)."""
    pc = 0
    while pc < len(script):
        ok, opcode, _, pc = get_op(script, pc)
        if not ok or opcode > OP_16:
            return False
    return True


def push_data(data: bytes) -> bytes:
    """Encode a push of `data` as `CScript() << data` does (shortest length form)."""
    n = len(data)
    if n < OP_PUSHDATA1:
        return bytes([n]) + data
    if n <= 0xFF:
        return bytes([OP_PUSHDATA1, n]) + data
    if n <= 0xFFFF:
        return bytes([OP_PUSHDATA2]) + n.to_bytes(2, "little") + data
    return bytes([OP_PUSHDATA4]) + n.to_bytes(4, "little") + data


def push_int(n: int) -> bytes:
    """Encode a number as `CScript() << n` does: OP_0, OP_1NEGATE, OP_1..OP_16 or a push."""
    if n == 0:
        return bytes([OP_0])
    if n == -1 or 1 <= n <= 16:
        return bytes([OP_1 + n - 1])
    return push_data(encode_num(n))


def is_minimal_push(data: bytes, opcode: int) -> bool:
    """MINIMALDATA's rule (Core's `CheckMinimalPush`): was the shortest push form used?"""
    if len(data) == 0:
        return opcode == OP_0
    if len(data) == 1 and 1 <= data[0] <= 16:
        return opcode == OP_1 + data[0] - 1
    if len(data) == 1 and data[0] == 0x81:
        return opcode == OP_1NEGATE
    if len(data) <= 75:
        return opcode == len(data)
    if len(data) <= 255:
        return opcode == OP_PUSHDATA1
    if len(data) <= 65535:
        return opcode == OP_PUSHDATA2
    return True


def find_and_delete(script: bytes, pattern: bytes) -> tuple[bytes, int]:
    """Core's `FindAndDelete`: remove each op-aligned occurrence of `pattern`; (script, count).

    Legacy CHECKSIG removes the signature's own push from the signed script code, since a
    signature cannot sign itself. Matches are only looked for at instruction boundaries.
    """
    if not pattern:
        return script, 0
    found = 0
    out = bytearray()
    pc = copied_to = 0
    while True:
        out += script[copied_to:pc]
        while len(script) - pc >= len(pattern) and script[pc : pc + len(pattern)] == pattern:
            pc += len(pattern)
            found += 1
        copied_to = pc
        ok, _, _, pc = get_op(script, pc)
        if not ok:
            break
    if not found:
        return script, 0
    out += script[copied_to:]
    return bytes(out), found


# --- script numbers (CScriptNum) ------------------------------------------------------------


def encode_num(n: int) -> bytes:
    """Minimal little-endian sign-magnitude encoding; 0 is the empty string."""
    if n == 0:
        return b""
    negative, magnitude = n < 0, abs(n)
    out = bytearray()
    while magnitude:
        out.append(magnitude & 0xFF)
        magnitude >>= 8
    if out[-1] & 0x80:  # the top bit is the sign: add a byte to hold it
        out.append(0x80 if negative else 0x00)
    elif negative:
        out[-1] |= 0x80
    return bytes(out)


def decode_num(data: bytes, require_minimal: bool = False, max_size: int = 4) -> int:
    """Read a script number; ScriptError SCRIPTNUM if longer than `max_size` or non-minimal.

    Numeric opcodes take 4-byte operands (so ±(2**31 - 1)) but may produce 5-byte results;
    CHECKLOCKTIMEVERIFY and CHECKSEQUENCEVERIFY accept 5-byte operands.
    """
    if len(data) > max_size:
        raise ScriptError("SCRIPTNUM", "script number overflow")
    if require_minimal and data and data[-1] & 0x7F == 0:
        # A last byte holding only the sign is needed only if the byte before it uses bit 7.
        if len(data) <= 1 or not data[-2] & 0x80:
            raise ScriptError("SCRIPTNUM", "non-minimally encoded script number")
    if not data:
        return 0
    value = int.from_bytes(data, "little")
    if data[-1] & 0x80:
        return -(value & ~(0x80 << (8 * (len(data) - 1))))
    return value


def cast_to_bool(data: bytes) -> bool:
    """False for any encoding of zero, including negative zero (0x80 last byte)."""
    for i, byte in enumerate(data):
        if byte:
            return not (i == len(data) - 1 and byte == 0x80)
    return False


# --- text form ------------------------------------------------------------------------------

_PARSE_NAMES: dict[str, int] = {}
for _code, _name in OPCODE_NAMES.items():
    if (_code >= OP_NOP or _code == OP_RESERVED) and _code != OP_INVALIDOPCODE:
        _PARSE_NAMES[_name] = _code
        _PARSE_NAMES[_name[3:]] = _code
for _alias, _code in (("NOP2", OP_NOP2), ("NOP3", OP_NOP3)):
    _PARSE_NAMES[_alias] = _PARSE_NAMES["OP_" + _alias] = _code


def script_from_asm(text: str) -> bytes:
    """Build a script from Core's test notation (`ParseScript`).

    Words: decimal numbers (pushed as `push_int`), `0x..` raw bytes inserted as is,
    `'text'` pushed as data, and opcode names with or without `OP_`.
    """
    out = bytearray()
    for word in text.split():
        digits = word[1:] if word.startswith("-") else word
        if digits.isdigit() and digits.isascii():
            # Length first: int() refuses strings of over 4,300 digits with a ValueError.
            magnitude = digits.lstrip("0") or "0"
            if len(magnitude) > 10 or int(magnitude) > 0xFFFFFFFF:
                raise ParseError(f"number out of range in script: {word[:20]}")
            out += push_int(-int(magnitude) if word.startswith("-") else int(magnitude))
        elif word.startswith("0x") and len(word) > 2:
            try:
                out += bytes.fromhex(word[2:])
            except ValueError:
                raise ParseError(f"bad hex in script: {word}") from None
        elif len(word) >= 2 and word[0] == "'" and word[-1] == "'":
            out += push_data(word[1:-1].encode())
        elif word in _PARSE_NAMES:
            out.append(_PARSE_NAMES[word])
        else:
            raise ParseError(f"unknown word in script: {word!r}")
    return bytes(out)


def script_to_asm(script: bytes) -> str:
    """Show a script as Core's `ScriptToAsmStr` does (short pushes as numbers, else hex)."""
    words = []
    pc = 0
    while pc < len(script):
        ok, opcode, data, pc = get_op(script, pc)
        if not ok:
            words.append("[error]")
            break
        if data is not None:
            words.append(str(decode_num(data)) if len(data) <= 4 else data.hex())
        else:
            words.append(OPCODE_NAMES.get(opcode, "OP_UNKNOWN"))
    return " ".join(words)


# --- standard templates (solver.cpp) --------------------------------------------------------


def p2pkh_script(h160: bytes) -> bytes:
    """Pay to public-key hash: DUP HASH160 <20 bytes> EQUALVERIFY CHECKSIG."""
    if len(h160) != 20:
        raise ValueError(f"a public-key hash is 20 bytes, got {len(h160)}")
    return bytes([OP_DUP, OP_HASH160, 20]) + h160 + bytes([OP_EQUALVERIFY, OP_CHECKSIG])


def p2pk_script(sec: bytes) -> bytes:
    """Pay to public key: <33- or 65-byte key> CHECKSIG (what early coinbases used)."""
    if len(sec) not in (33, 65):
        raise ValueError("a SEC public key is 33 or 65 bytes")
    return push_data(sec) + bytes([OP_CHECKSIG])


def multisig_script(m: int, pubs: Sequence[bytes]) -> bytes:
    """Bare m-of-n multisig: OP_m <key>... OP_n CHECKMULTISIG (standard up to 3 keys)."""
    if not 1 <= m <= len(pubs) <= 16:
        raise ValueError("multisig needs 1 <= m <= n <= 16")
    body = b"".join(push_data(p) for p in pubs)
    return push_int(m) + body + push_int(len(pubs)) + bytes([OP_CHECKMULTISIG])


def op_return_script(data: bytes) -> bytes:
    """Provably unspendable data carrier: OP_RETURN <data> (standard up to 80 bytes)."""
    return bytes([OP_RETURN]) + (push_data(data) if data else b"")


def classify(script_pubkey: bytes) -> tuple[str, Any]:
    """Recognize a standard output script (Core's `Solver`, legacy types only).

    Returns ("p2pkh", h160), ("p2pk", sec), ("multisig", (m, [sec, ...])),
    ("nulldata", [pushed data, ...]) or ("nonstandard", None). The second item's type depends
    on the first (hence `Any`): callers test the kind before they use the details.
    """
    s = script_pubkey
    if (
        len(s) == 25
        and s[:3] == bytes([OP_DUP, OP_HASH160, 20])
        and s[23:] == bytes([OP_EQUALVERIFY, OP_CHECKSIG])
    ):
        return "p2pkh", s[3:23]
    if len(s) in (35, 67) and s[0] == len(s) - 2 and s[-1] == OP_CHECKSIG:
        key = s[1:-1]
        if _looks_like_pubkey(key):
            return "p2pk", key
    try:
        ops = list(iter_script(s))
    except ScriptError:
        return "nonstandard", None
    if ops and ops[0][0] == OP_RETURN:
        if all(op <= OP_16 for op, _, _ in ops[1:]):
            return "nulldata", [data for _, data, _ in ops[1:] if data is not None]
    if len(ops) >= 4 and ops[-1][0] == OP_CHECKMULTISIG:
        m, n = _small_int(ops[0][0]), _small_int(ops[-2][0])
        keys = [data for _, data, _ in ops[1:-2]]
        if (
            m is not None
            and n is not None
            and 1 <= m <= n == len(keys)
            and all(k is not None and _looks_like_pubkey(k) for k in keys)
        ):
            return "multisig", (m, keys)
    return "nonstandard", None


def _looks_like_pubkey(key: bytes) -> bool:
    # Core's CPubKey::ValidSize: prefix byte and length agree.
    return (len(key) == 33 and key[0] in (2, 3)) or (len(key) == 65 and key[0] in (4, 6, 7))


def _small_int(opcode: int) -> int | None:
    return opcode - OP_1 + 1 if OP_1 <= opcode <= OP_16 else None


# The interpreter and the signing helpers import this module, so they are fetched on first use
# (PEP 562) rather than imported here: `from sandbox_chain.script import verify_script` works.
_LAZY = {
    "eval_script": "interpreter",
    "verify_script": "interpreter",
    "sign_p2pkh_input": "sighash",
    "sign_p2pk_input": "sighash",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__package__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
