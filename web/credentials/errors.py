"""Error types of the credential library: one class per failure domain.

* `CredentialError` — base of every error raised on purpose here; its message names what is wrong.
* `DocumentError` — JSON that is not a credential we can process: malformed JSON, a missing or
  unknown `@context`, a term no context defines, a remote context the offline loader refuses.
* `ProofError` — a proof that cannot be decoded (bad multibase, bad CBOR, unknown cryptosuite).
* `IssuerError` — the issuer's profile or key store cannot do what was asked (unknown key, key
  outside its validity window, damaged key file).
* `AnchorError` — a batch cannot be anchored on the sandbox chain (no funds, node unreachable,
  rejected).
* `StatusError` — a status-list operation that makes no sense (unknown index, not revoked, ...).
* `ChainLookupError` — the chain could not be asked (node down, bad answer); verification reports
  it."""

from __future__ import annotations


class CredentialError(Exception):
    """Base class of every error raised on purpose by web.credentials."""


class DocumentError(CredentialError):
    """The JSON is not a credential we can process (syntax, contexts, undefined terms)."""


class ProofError(CredentialError):
    """A proof is malformed or uses something we do not support."""


class IssuerError(CredentialError):
    """The issuer profile or key store cannot do what was asked."""


class AnchorError(CredentialError):
    """A batch could not be anchored on the chain."""


class StatusError(CredentialError):
    """A status-list operation that cannot be done."""


class ChainLookupError(CredentialError):
    """The chain could not be asked (node unreachable, unexpected answer)."""
