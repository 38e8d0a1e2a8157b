"""Script's stack, equality, arithmetic and hash opcodes: the ones that only touch the stacks.

These are the `EvalScript` cases of Bitcoin Core's `script/interpreter.cpp` that need neither
the transaction nor the verification flags (beyond MINIMALDATA's reading of numbers): DUP,
SWAP, PICK, ROLL, EQUAL, ADD, WITHIN, HASH160... Control flow, signatures and lock times stay in
`sandbox_chain.interpreter`, which calls `run_stack_op` for everything else.

Numbers are `CScriptNum`s (see `script.decode_num`): operands are at most 4 bytes, results are
not range-checked, as in Core.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from .hashes import hash160, hash256, ripemd160, sha256
from .script import (
    OP_0NOTEQUAL,
    OP_1ADD,
    OP_1SUB,
    OP_2DROP,
    OP_2DUP,
    OP_2OVER,
    OP_2ROT,
    OP_2SWAP,
    OP_3DUP,
    OP_ABS,
    OP_ADD,
    OP_BOOLAND,
    OP_BOOLOR,
    OP_DEPTH,
    OP_DROP,
    OP_DUP,
    OP_EQUAL,
    OP_EQUALVERIFY,
    OP_FROMALTSTACK,
    OP_GREATERTHAN,
    OP_GREATERTHANOREQUAL,
    OP_HASH160,
    OP_HASH256,
    OP_IFDUP,
    OP_LESSTHAN,
    OP_LESSTHANOREQUAL,
    OP_MAX,
    OP_MIN,
    OP_NEGATE,
    OP_NIP,
    OP_NOT,
    OP_NUMEQUAL,
    OP_NUMEQUALVERIFY,
    OP_NUMNOTEQUAL,
    OP_OVER,
    OP_PICK,
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
    OP_WITHIN,
    cast_to_bool,
    encode_num,
)
from .script_error import script_error

TRUE, FALSE = b"\x01", b""  # what comparisons push (Core's vchTrue and vchFalse)


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


HASH_OPS = {
    OP_RIPEMD160: ripemd160,
    OP_SHA1: _sha1,
    OP_SHA256: sha256,
    OP_HASH160: hash160,
    OP_HASH256: hash256,
}
UNARY_OPS: dict[int, Callable[[int], int]] = {
    OP_1ADD: lambda a: a + 1,
    OP_1SUB: lambda a: a - 1,
    OP_NEGATE: lambda a: -a,
    OP_ABS: abs,
    OP_NOT: lambda a: int(a == 0),
    OP_0NOTEQUAL: lambda a: int(a != 0),
}
BINARY_OPS: dict[int, Callable[[int, int], int]] = {
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
#: How many stack items each opcode here needs (Core's `if (stack.size() < n)` checks).
ITEMS_NEEDED = {
    OP_2DROP: 2, OP_2DUP: 2, OP_3DUP: 3, OP_2OVER: 4, OP_2ROT: 6, OP_2SWAP: 4, OP_IFDUP: 1,
    OP_DROP: 1, OP_DUP: 1, OP_NIP: 2, OP_OVER: 2, OP_ROT: 3, OP_SWAP: 2, OP_TUCK: 2, OP_SIZE: 1,
    OP_EQUAL: 2, OP_EQUALVERIFY: 2, OP_TOALTSTACK: 1, OP_PICK: 2, OP_ROLL: 2, OP_WITHIN: 3,
    **{op: 1 for op in UNARY_OPS}, **{op: 2 for op in BINARY_OPS}, **{op: 1 for op in HASH_OPS},
}  # fmt: skip


def run_stack_op(
    stack: list[bytes], altstack: list[bytes], opcode: int, num: Callable[[bytes], int]
) -> None:
    """Execute one stack, equality, arithmetic or hash opcode on `stack` (and `altstack`).

    The caller has checked `ITEMS_NEEDED` already, and passes `num`, which reads a script
    number under its MINIMALDATA setting. The interpreter hands over every opcode it has no
    case of its own for, so an opcode unknown here (OP_RESERVED, OP_VER, OP_VERIF, OP_CHECKSIGADD,
    unassigned bytes) fails with BAD_OPCODE: reserved opcodes only fail when executed.
    """
    if opcode in HASH_OPS:
        stack.append(HASH_OPS[opcode](stack.pop()))
    elif opcode == OP_TOALTSTACK:
        altstack.append(stack.pop())
    elif opcode == OP_FROMALTSTACK:
        if not altstack:
            raise script_error("INVALID_ALTSTACK_OPERATION")
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
            raise script_error("INVALID_STACK_OPERATION")
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
                raise script_error("EQUALVERIFY")
        else:
            stack.append(TRUE if equal else FALSE)
    elif opcode in UNARY_OPS:
        stack.append(encode_num(UNARY_OPS[opcode](num(stack.pop()))))
    elif opcode in BINARY_OPS:
        a, b = num(stack[-2]), num(stack[-1])
        del stack[-2:]
        result = BINARY_OPS[opcode](a, b)
        if opcode == OP_NUMEQUALVERIFY:
            if not result:
                raise script_error("NUMEQUALVERIFY")
        else:
            stack.append(encode_num(result))
    elif opcode == OP_WITHIN:
        x, low, high = num(stack[-3]), num(stack[-2]), num(stack[-1])
        del stack[-3:]
        stack.append(TRUE if low <= x < high else FALSE)
    else:
        raise script_error("BAD_OPCODE")
