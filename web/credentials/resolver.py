"""Finding the documents a credential points to: the issuer's profile and its status lists.

A verifier works offline with pinned documents (files the employer was given, or the portal's own
records) and only reaches out when told to: `fetch=True` lets it GET http(s) URLs, with a timeout
and a size cap. A document the resolver cannot find is a failed step, never a guess.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from .errors import ChainLookupError, DocumentError

HTTP_TIMEOUT = 10.0
MAX_BYTES = 4 << 20


class Resolver:
    """URL → JSON document, from pinned documents, a lookup function, or (if allowed) HTTP."""

    def __init__(
        self,
        pinned: dict[str, dict[str, Any]] | None = None,
        lookup: Callable[[str], dict[str, Any] | None] | None = None,
        fetch: bool = False,
    ) -> None:
        self.pinned = dict(pinned or {})
        self.lookup = lookup
        self.fetch = fetch

    def pin(self, document: dict[str, Any], url: str | None = None) -> None:
        """Serve `document` for `url` (default: its `id`)."""
        key = url or document.get("id")
        if not isinstance(key, str):
            raise DocumentError("a pinned document needs an id")
        self.pinned[key] = document

    def get(self, url: str) -> dict[str, Any]:
        """The document at `url`; `DocumentError` if it cannot be found or read."""
        if url in self.pinned:
            return self.pinned[url]
        if self.lookup is not None:
            found = self.lookup(url)
            if found is not None:
                return found
        if self.fetch and url.startswith(("http://", "https://")):
            return _http_json(url)
        raise DocumentError(
            f"{url} is not available offline (give it as a file, or allow fetching)"
        )


def _http_json(url: str) -> dict[str, Any]:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:  # noqa: S310
            data = json.loads(resp.read(MAX_BYTES))
    except urllib.error.HTTPError as exc:
        raise DocumentError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ChainLookupError(f"cannot reach {url}: {exc}") from None
    except ValueError:
        raise DocumentError(f"{url} did not return JSON") from None
    if not isinstance(data, dict):
        raise DocumentError(f"{url} did not return a JSON object")
    return data
