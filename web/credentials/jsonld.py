"""JSON-LD processed offline: shipped contexts, a loader that refuses the network, RDFC-1.0.

Follows JSON-LD 1.1 (via pyld) and RDF Dataset Canonicalization (RDFC-1.0, which is URDNA2015 —
pyld's `normalize()` defaults to the older URGNA2012, so the algorithm is always passed). The only
documents the loader serves are the W3C Verifiable Credentials 2.0 context and the Open Badges
3.0.3 context, both shipped in `contexts/`; any other URL is refused with a `DocumentError` naming
it, so processing a credential never touches the network and a credential cannot pull in a context
that redefines its terms.

A term that no context defines is dropped by JSON-LD expansion: it would not be signed. We refuse
it instead (`DocumentError`), so every character a reader sees in a credential is covered by its
proofs."""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cache
from importlib.resources import files
from typing import Any

from pyld import jsonld

from .errors import DocumentError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREDENTIAL_CONTEXT = [VC_V2, OB_V3]
SHIPPED_CONTEXTS = {VC_V2: "credentials-v2.jsonld", OB_V3: "ob-context-3.0.3.json"}


@cache
def _context_document(url: str) -> dict[str, Any]:
    text = files(__package__).joinpath("contexts", SHIPPED_CONTEXTS[url]).read_text("utf-8")
    return json.loads(text)


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader serving only the shipped contexts; every other URL is refused."""
    if url not in SHIPPED_CONTEXTS:
        raise DocumentError(
            f"unknown remote context {url!r}: only {', '.join(SHIPPED_CONTEXTS)} are processed "
            "(offline, shipped with Lune)"
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # pyld may keep references into the document: hand it a copy of the cached one
        "document": copy.deepcopy(_context_document(url)),
        # "static": pyld may keep the processed context across operations (the files never
        # change), which divides the cost of canonicalizing a credential by about two
        "tag": "static",
    }


def _unwrap(exc: BaseException) -> DocumentError | None:
    """The DocumentError our loader raised, if pyld wrapped one (it chains causes)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DocumentError):
            return seen
        seen = seen.__cause__ or getattr(seen, "cause", None)
    return None


class _StrictProcessor(jsonld.JsonLdProcessor):
    """A pyld processor that records the keys expansion drops, by their name in the JSON.

    pyld's drop handler receives the key's failed expansion (None for an undefined term), not the
    key: the key is the value of the `_expand_iri` call just before it.
    """

    def __init__(self) -> None:
        super().__init__(on_property_dropped=self._dropped)
        self.dropped: list[str] = []
        self._last_key: Any = None

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):  # type: ignore[no-untyped-def]  # noqa: E501
        self._last_key = value
        return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)

    def _dropped(self, expanded: str | None) -> None:
        self.dropped.append(str(self._last_key if expanded is None else expanded))


def canonicalize(document: dict[str, Any]) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document.

    Raises `DocumentError` for an unknown context, an undefined term, or JSON-LD pyld rejects.
    """
    if not isinstance(document, dict):
        raise DocumentError("a credential is a JSON object")
    processor = _StrictProcessor()
    dropped = processor.dropped
    try:
        canon = processor.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": document_loader,
            },
        )
    except jsonld.JsonLdError as exc:
        ours = _unwrap(exc)
        if ours is not None:
            raise ours from None
        raise DocumentError(f"not valid JSON-LD: {_jsonld_message(exc)}") from None
    except DocumentError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise DocumentError(f"not valid JSON-LD: {exc}") from None
    if dropped:
        names = ", ".join(sorted({d for d in dropped}))
        raise DocumentError(f"term not defined by the credential's contexts: {names}")
    return canon


def _jsonld_message(exc: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 4:
        parts.append(str(getattr(seen, "message", None) or seen).split("\n")[0])
        seen = seen.__cause__ or getattr(seen, "cause", None)
    return parts[-1] if parts else type(exc).__name__


def sha256_canonical(document: dict[str, Any]) -> bytes:
    """SHA-256 of the document's canonical N-Quads (UTF-8)."""
    return hashlib.sha256(canonicalize(document).encode("utf-8")).digest()
