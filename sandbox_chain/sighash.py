"""The legacy (pre-segwit) signature hash, and signing helpers for P2PKH and P2PK inputs.

Follows Bitcoin Core `script/interpreter.cpp`: `SignatureHash` for `SigVersion::BASE` and
`CTransactionSignatureSerializer`. The digest a legacy signature signs is the double SHA-256
of a modified copy of the spending transaction followed by the 4-byte hash type:

* the input being signed carries the *script code* (the spent scriptPubKey from its last
  executed OP_CODESEPARATOR on, with every OP_CODESEPARATOR removed); other inputs carry an
  empty script;
* SIGHASH_NONE signs no outputs and zeroes the other inputs' sequence numbers;
* SIGHASH_SINGLE signs only the output at the input's index (earlier outputs become
  value -1 with an empty script) and zeroes the other sequences; if there is no such
  output, the digest is the number 1 — a famous bug every implementation must copy;
* SIGHASH_ANYONECANPAY keeps only the input being signed.

The interpreter, before calling `legacy_sighash`, removes the signature's own push from the
script code (`script.find_and_delete`), since a signature cannot sign itself.
"""

from __future__ import annotations

from typing import Any

from .encoding import encode_varint
from .hashes import hash160, hash256
from .script import OP_CODESEPARATOR, classify, get_op, push_data
from .transaction import Transaction

SIGHASH_ALL = 1
SIGHASH_NONE = 2
SIGHASH_SINGLE = 3
SIGHASH_ANYONECANPAY = 0x80

#: uint256 one, little-endian: what SIGHASH_SINGLE without a matching output signs.
SIGHASH_ONE = b"\x01" + b"\x00" * 31


def serialize_script_code(script_code: bytes) -> bytes:
    """The script code with its length, every OP_CODESEPARATOR removed (Core's quirks kept).

    The length written is the script's size minus the separators found; the bytes copied stop
    where instruction parsing stops, exactly as Core's `SerializeScriptCode` does.
    """
    separators = 0
    pc = 0
    while True:
        ok, opcode, _, pc = get_op(script_code, pc)
        if not ok:
            break
        separators += opcode == OP_CODESEPARATOR
    out = bytearray(encode_varint(len(script_code) - separators))
    pc = begin = 0
    while True:
        ok, opcode, _, pc = get_op(script_code, pc)
        if not ok:
            break
        if opcode == OP_CODESEPARATOR:
            out += script_code[begin : pc - 1]
            begin = pc
    if begin != len(script_code):
        out += script_code[begin:pc]
    return bytes(out)


def legacy_sighash(tx: Transaction, input_index: int, script_code: bytes, hash_type: int) -> bytes:
    """The 32-byte digest a legacy signature with `hash_type` signs for input `input_index`.

    `hash_type` is the signature's last byte (or, in Core's test vectors, any int32); only its
    low 5 bits and the 0x80 bit select what is signed, but all 32 bits are hashed.
    """
    if not 0 <= input_index < len(tx.vin):
        raise IndexError(f"input index {input_index} out of range ({len(tx.vin)} inputs)")
    base = hash_type & 0x1F
    anyone_can_pay = bool(hash_type & SIGHASH_ANYONECANPAY)
    single, none = base == SIGHASH_SINGLE, base == SIGHASH_NONE
    if single and input_index >= len(tx.vout):
        return SIGHASH_ONE

    parts = [tx.version.to_bytes(4, "little", signed=True)]
    inputs = [input_index] if anyone_can_pay else range(len(tx.vin))
    parts.append(encode_varint(len(inputs)))
    for i in inputs:
        txin = tx.vin[i]
        parts.append(txin.prevout.serialize())
        if i == input_index:
            parts.append(serialize_script_code(script_code))
            parts.append(txin.sequence.to_bytes(4, "little"))
        else:
            # Other inputs' scriptSigs are left out: their own signers fill them in later.
            parts.append(b"\x00")
            # NONE and SINGLE let the other signers update their sequence at will.
            parts.append(b"\0\0\0\0" if single or none else txin.sequence.to_bytes(4, "little"))
    n_out = 0 if none else input_index + 1 if single else len(tx.vout)
    parts.append(encode_varint(n_out))
    for i in range(n_out):
        if single and i != input_index:
            # CTxOut() (value -1, empty script): SINGLE commits to no other output's payee.
            parts.append(b"\xff" * 8 + b"\x00")
        else:
            parts.append(tx.vout[i].serialize())
    parts.append(tx.locktime.to_bytes(4, "little"))
    parts.append((hash_type & 0xFFFFFFFF).to_bytes(4, "little"))
    return hash256(b"".join(parts))


def sign_input(
    tx: Transaction,
    input_index: int,
    private_key: Any,
    script_code: bytes,
    hash_type: int = SIGHASH_ALL,
) -> bytes:
    """Sign input `input_index` against `script_code`: DER signature + hash-type byte.

    `private_key` is a `sandbox_chain.keys.PrivateKey` (anything with `.sign(digest32)`).
    """
    if not 0 <= hash_type <= 0xFF:
        raise ValueError("a signature's hash type is one byte")
    digest = legacy_sighash(tx, input_index, script_code, hash_type)
    return private_key.sign(digest) + bytes([hash_type])


def sign_p2pkh_input(
    tx: Transaction,
    input_index: int,
    private_key: Any,
    prev_script_pubkey: bytes,
    hash_type: int = SIGHASH_ALL,
) -> bytes:
    """Sign a P2PKH input in place: sets its scriptSig to <sig> <pubkey>, and returns it.

    The public key is given in whichever form (compressed or not) the output's hash commits to.
    """
    kind, h160 = classify(prev_script_pubkey)
    if kind != "p2pkh":
        raise ValueError(f"the spent output is {kind}, not p2pkh")
    public_key = private_key.public_key()
    for compressed in (True, False):
        sec = public_key.sec(compressed)
        if hash160(sec) == h160:
            break
    else:
        raise ValueError("the private key does not match the output's public-key hash")
    sig = sign_input(tx, input_index, private_key, prev_script_pubkey, hash_type)
    tx.vin[input_index].script_sig = push_data(sig) + push_data(sec)
    return tx.vin[input_index].script_sig


def sign_p2pk_input(
    tx: Transaction,
    input_index: int,
    private_key: Any,
    prev_script_pubkey: bytes,
    hash_type: int = SIGHASH_ALL,
) -> bytes:
    """Sign a P2PK input (e.g. a coinbase paid to a key) in place: scriptSig <sig>."""
    kind, _ = classify(prev_script_pubkey)
    if kind != "p2pk":
        raise ValueError(f"the spent output is {kind}, not p2pk")
    sig = sign_input(tx, input_index, private_key, prev_script_pubkey, hash_type)
    tx.vin[input_index].script_sig = push_data(sig)
    return tx.vin[input_index].script_sig
