"""Error types of sandbox_chain: one class per failure domain.

* `ParseError` — bytes or text that do not decode (truncated data, bad checksum, bad varint...).
* `ValidationError` — a well-formed block or transaction that breaks a consensus or policy rule.
  Its `reason` is Bitcoin Core's reject reason (`high-hash`, `bad-txns-inputs-missingorspent`...),
  so what a learner sees here is what they would see from a real Bitcoin node.
* `ScriptError` — a script that fails to evaluate; its `code` names the failure as Bitcoin Core's
  `ScriptError_t` does (`EVAL_FALSE`, `SIG_DER`, `SIG_HIGH_S`...).
* `StorageError` — the data directory cannot be opened or is inconsistent.

None of them derive from `AssertionError` or `ValueError` on purpose: catching them is a decision.
"""

from __future__ import annotations


class ChainError(Exception):
    """Base class of every error raised on purpose by sandbox_chain."""


class ParseError(ChainError):
    """Bytes or text that cannot be decoded into the structure asked for."""


class ScriptError(ChainError):
    """A script failed to evaluate. `code` follows Bitcoin Core's script_error names."""

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        super().__init__(f"{code}: {message}" if message else code)


class ValidationError(ChainError):
    """A block or transaction broke a rule; `reason` is Bitcoin Core's reject reason.

    `level` distinguishes a *consensus* failure (the object is invalid forever) from a
    *policy* failure (the mempool refuses it, a block may still contain it) and from a
    *state* failure (e.g. the inputs are not known yet: it might become valid later).
    `corrupted` is True when the failure could be caused by a mutated body under an honest
    header (bad merkle root, duplicate transactions...): such a header must not be marked invalid.
    """

    def __init__(
        self,
        reason: str,
        message: str = "",
        *,
        level: str = "consensus",
        corrupted: bool = False,
    ) -> None:
        self.reason = reason
        self.message = message
        self.level = level
        self.corrupted = corrupted
        # The block that failed, when a reorg connecting several blocks meets an invalid one
        # (set by the chain state, which marks that block and its descendants invalid).
        self.block_hash: bytes | None = None
        super().__init__(f"{reason}: {message}" if message else reason)


class StorageError(ChainError):
    """The chain's data directory cannot be opened, or disagrees with itself."""
