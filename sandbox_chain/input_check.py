"""Checking a transaction's input scripts quickly, with the interpreter's exact answers.

Almost every input on a chain spends a standard pay-to-public-key-hash output the standard way:
scriptSig `<sig> <pubkey>`, scriptPubKey `DUP HASH160 <20 bytes> EQUALVERIFY CHECKSIG`. Running
the general interpreter (`sandbox_chain.interpreter`, a port of Bitcoin Core's `EvalScript`) on
it costs about as much Python as the signature check costs C. `verify_input` recognizes that
shape and performs exactly the steps the interpreter would perform on it, in one function:

* scriptSig: two direct pushes, so push-only (SIGPUSHONLY) and minimal (MINIMALDATA);
* DUP HASH160 <h> EQUALVERIFY: HASH160 of the public key equals `h`;
* CHECKSIG: the signature is strict DER (BIP-66; demanded here even when DERSIG is off), low-S
  when LOW_S is on, a defined hash type when STRICTENC is on; the public key is compressed or
  uncompressed (demanded here even when STRICTENC is off); the script code is the whole
  scriptPubKey (no OP_CODESEPARATOR; the signature's push is not in it, so FindAndDelete
  removes nothing); the signature verifies over the legacy signature hash;
* the final stack is one true item (EVAL_FALSE, CLEANSTACK).

The fast path only ever *accepts*. When any step does not pass, or the input has another shape,
the general interpreter runs and decides (raising Core's error code), so a failure is always
reported exactly as the interpreter reports it, and the fast path can never accept what the
interpreter rejects. tests/chain/test_input_check.py checks this against Core's vectors and
random mutations.

`SighashCache` serves the SIGHASH_ALL digests of one transaction from pieces serialized once
(Core's `PrecomputedTransactionData` plays this role for segwit; legacy sighash has no such
cache in Core, but the digest is the same bytes either way).
"""

from __future__ import annotations

from typing import Protocol

from . import keys
from .encoding import encode_varint
from .errors import ParseError
from .hashes import hash160, hash256
from .interpreter import verify_script
from .script import SCRIPT_VERIFY_LOW_S, SCRIPT_VERIFY_STRICTENC
from .secp_backend import verify_rs
from .sighash import SIGHASH_ALL, legacy_sighash
from .signature import HALF_N, N
from .transaction import Transaction


class InputQueue(Protocol):
    """Where standard inputs are queued for a batched check (`checkqueue.SignatureChecks`).

    Named by what this module needs rather than imported: `checkqueue` runs
    `check_standard_input` from here, so importing it back would make a circle.
    """

    def add(self, raw_tx: bytes, input_index: int, script_pubkey: bytes, flags: int) -> None:
        """Queue input `input_index` of the serialized transaction `raw_tx`."""


_ALL_SUFFIX = SIGHASH_ALL.to_bytes(4, "little")


class SighashCache:
    """SIGHASH_ALL digests of one transaction's inputs, serializing the rest of it once.

    The legacy digest for input i (hash type ALL) is the transaction serialized with input i
    carrying the script code and every other input an empty script, then the 4-byte hash
    type. Only input i's script changes from one input to the next. The pieces are cut from
    `raw`, the transaction's legacy serialization, when the caller has it (`check_block` made
    it for the txid), or serialized here. The transaction must not change while the cache is
    in use (it lives for one `check_input_scripts` call); nothing is computed before the first
    digest is asked for.
    """

    __slots__ = ("_pieces", "raw", "tx")

    def __init__(self, tx: Transaction, raw: bytes | None = None) -> None:
        self.tx = tx
        self.raw = raw  # must be tx.serialize_legacy() when given
        self._pieces: tuple[bytes, list[tuple[bytes, bytes]], bytes] | None = None

    def _cut(self) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
        """(version and input count, [(outpoint, sequence)] per input, outputs + locktime)."""
        tx, raw = self.tx, self.raw
        if raw is None:
            raw = tx.serialize_legacy()
        pos = 4 + len(encode_varint(len(tx.vin)))
        head = raw[:pos]
        inputs = []
        for txin in tx.vin:
            n = len(txin.script_sig)
            seq = pos + 36 + len(encode_varint(n)) + n
            inputs.append((raw[pos : pos + 36], raw[seq : seq + 4]))
            pos = seq + 4
        return head, inputs, raw[pos:] + _ALL_SUFFIX

    def digest_all(self, input_index: int, script_code_serialized: bytes) -> bytes:
        """`legacy_sighash(tx, input_index, script_code, SIGHASH_ALL)`.

        `script_code_serialized` is the script code with its CompactSize length and without
        OP_CODESEPARATORs (`sighash.serialize_script_code`).
        """
        if self._pieces is None:
            self._pieces = self._cut()
        head, inputs, tail = self._pieces
        parts = [head]
        for i, (outpoint, sequence) in enumerate(inputs):
            parts += (outpoint, script_code_serialized if i == input_index else b"\x00", sequence)
        parts.append(tail)
        return hash256(b"".join(parts))


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


def _is_strict_der(sig: bytes) -> bool:
    """BIP-66 (`signature.is_strict_der`), same rules, for the fast path's own use."""
    size = len(sig)
    if size < 9 or size > 73 or sig[0] != 0x30 or sig[1] != size - 3:
        return False
    len_r = sig[3]
    if 5 + len_r >= size:
        return False
    len_s = sig[5 + len_r]
    if len_r + len_s + 7 != size or sig[2] != 0x02 or len_r == 0 or sig[4] & 0x80:
        return False
    if len_r > 1 and sig[4] == 0x00 and not sig[5] & 0x80:
        return False
    if sig[len_r + 4] != 0x02 or len_s == 0 or sig[len_r + 6] & 0x80:
        return False
    return not (len_s > 1 and sig[len_r + 6] == 0x00 and not sig[len_r + 7] & 0x80)


def _p2pkh_parts(
    script_sig: bytes, script_pubkey: bytes, tx: Transaction, input_index: int
) -> tuple[bytes, bytes] | None:
    """(signature, public key) when the input has the standard P2PKH shape, else None."""
    if len(script_pubkey) != 25 or len(script_sig) < 2 or not 0 <= input_index < len(tx.vin):
        return None  # (a wrong index: the interpreter raises, as legacy_sighash does)
    if (
        script_pubkey[0] != 0x76  # OP_DUP
        or script_pubkey[1] != 0xA9  # OP_HASH160
        or script_pubkey[2] != 20  # push of 20 bytes
        or script_pubkey[23] != 0x88  # OP_EQUALVERIFY
        or script_pubkey[24] != 0xAC  # OP_CHECKSIG
    ):
        return None
    # scriptSig: <direct push of the signature> <direct push of the public key>, nothing else.
    sig_len = script_sig[0]
    if not 9 <= sig_len <= 73 or len(script_sig) < sig_len + 2:
        return None
    pub_len = script_sig[sig_len + 1]
    if pub_len not in (33, 65) or len(script_sig) != sig_len + 2 + pub_len:
        return None
    pub = script_sig[sig_len + 2 :]
    if pub[0] not in ((2, 3) if pub_len == 33 else (4,)):
        return None
    return script_sig[1 : 1 + sig_len], pub


def _p2pkh_accepts(
    sig: bytes,
    pub: bytes,
    script_pubkey: bytes,
    tx: Transaction,
    input_index: int,
    flags: int,
    cache: SighashCache | None,
) -> bool:
    """The checks of a P2PKH-shaped input after its shape: True if the interpreter accepts."""
    if hash160(pub) != script_pubkey[3:23]:
        return False
    if sig == script_pubkey[3:23] or not _is_strict_der(sig):
        return False  # (a signature equal to the hash would be FindAndDeleted: interpreter)
    hash_type = sig[-1]
    if flags & SCRIPT_VERIFY_STRICTENC and not 1 <= hash_type & 0x7F <= 3:
        return False
    if flags & SCRIPT_VERIFY_LOW_S:
        len_r = sig[3]
        s_bytes = sig[6 + len_r : -1].lstrip(b"\x00")
        if len(s_bytes) <= 32 and int.from_bytes(s_bytes, "big") > HALF_N:
            return False  # (32+ bytes read as zero, which is low: the verify then fails)
    script_code = b"\x19" + script_pubkey  # CompactSize 25, no OP_CODESEPARATOR inside
    if hash_type == SIGHASH_ALL and cache is not None:
        digest = cache.digest_all(input_index, script_code)
    else:
        digest = legacy_sighash(tx, input_index, script_pubkey, hash_type)
    if keys.get_backend() != "coincurve":  # another backend chosen (keys.set_backend)
        return keys.verify_signature(pub, sig[:-1], digest)
    return verify_strict_der(pub, sig, digest)


def check_standard_input(raw_tx: bytes, input_index: int, script_pubkey: bytes, flags: int) -> bool:
    """The fast path on a serialized (legacy) transaction: what the check queue's worker runs.

    True only if the input is a standard P2PKH spend that the interpreter accepts.
    """
    try:
        tx = Transaction.parse(raw_tx)
    except ParseError:
        return False
    if not 0 <= input_index < len(tx.vin):
        return False
    parts = _p2pkh_parts(tx.vin[input_index].script_sig, script_pubkey, tx, input_index)
    if parts is None:
        return False
    cache = SighashCache(tx, raw_tx)
    return _p2pkh_accepts(*parts, script_pubkey, tx, input_index, flags, cache)


def _p2pkh_fast(
    script_sig: bytes,
    script_pubkey: bytes,
    tx: Transaction,
    input_index: int,
    flags: int,
    cache: SighashCache | None,
    checks: InputQueue | None = None,
) -> bool:
    """True when this input is a standard P2PKH spend that the interpreter would accept.

    With `checks` (and the transaction's bytes in `cache.raw`), only the shape is looked at
    here and the rest of the checks is queued (`check_standard_input`): True then means
    "accepted if `checks.wait()` says every queued input passed".
    """
    parts = _p2pkh_parts(script_sig, script_pubkey, tx, input_index)
    if parts is None:
        return False
    if (
        checks is not None
        and cache is not None
        and cache.raw is not None
        and keys.get_backend() == "coincurve"
    ):
        checks.add(cache.raw, input_index, script_pubkey, flags)
        return True
    return _p2pkh_accepts(*parts, script_pubkey, tx, input_index, flags, cache)


def verify_input(
    tx: Transaction,
    input_index: int,
    script_sig: bytes,
    script_pubkey: bytes,
    flags: int,
    cache: SighashCache | None = None,
    checks: InputQueue | None = None,
) -> None:
    """`interpreter.verify_script(script_sig, script_pubkey, tx, input_index, flags)`, faster.

    Standard P2PKH spends that pass are accepted by the fast path; everything else (and every
    failure) goes through the interpreter, which raises `ScriptError` with Core's code. With
    `checks`, standard-looking inputs are queued there (see `checkqueue`).
    """
    if _p2pkh_fast(script_sig, script_pubkey, tx, input_index, flags, cache, checks):
        return
    verify_script(script_sig, script_pubkey, tx, input_index, flags)
