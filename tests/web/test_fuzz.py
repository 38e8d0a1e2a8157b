"""Hypothesis throws arbitrary paths, query strings and form fields at every route, as each kind of
user: the portal answers 4xx (or a normal page), never a 5xx and never an exception."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portalkit import PASSWORD

pytestmark = pytest.mark.slow
NEEDS_NODE = ("/explorer", "/wallet")

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)
VALUE = st.one_of(
    TEXT,
    st.integers(-(2**63), 2**63).map(str),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1e309",
            "NaN",
            "../../etc/passwd",
            "<script>",
            "' OR 1=1 --",
            "%00",
            "lune-101",
            "01-hashing",
            "fr",
            "csv",
            "submission:1",
            "learner:1",
            "module:01-hashing",
        ]
    ),
)
FIELDS = st.dictionaries(
    st.sampled_from(
        [
            "email",
            "password",
            "name",
            "invite_code",
            "code",
            "current",
            "language",
            "score",
            "reason",
            "target",
            "value",
            "q",
            "module",
            "state",
            "sort",
            "next",
            "due-01-hashing",
            "course_id",
            "csrf_token",
        ]
    ),
    VALUE,
    max_size=6,
)


def _rules(app):
    return sorted(
        (rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}))
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/static") and rule.rule != "/logout"
    )


def _fill(rule: str, values: list[str]) -> str:
    from urllib.parse import quote

    it = iter(values)
    return re.sub(r"<[^>]+>", lambda _m: quote(next(it, "x"), safe="") or "x", rule)


@pytest.mark.parametrize("role", ["anon", "a@lune.test", "inst1@lune.test", "admin@lune.test"])
def test_no_route_answers_5xx(app_factory, world, role):
    app = app_factory(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        if role != "anon":
            assert (
                client.post("/login", data={"email": role, "password": PASSWORD}).status_code == 302
            )
        rules = _rules(app)

        @settings(
            max_examples=60,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            index=st.integers(0, len(rules) - 1),
            params=st.lists(VALUE, max_size=3),
            query=FIELDS,
            form=FIELDS,
        )
        def probe(index, params, query, form):
            rule, methods = rules[index]
            url = _fill(rule, params)
            for method in methods:
                r = client.open(
                    url, method=method, query_string=query, data=form if method == "POST" else None
                )
                # No node runs here: the explorer and the wallet rightly answer 503 for it.
                node_down = r.status_code == 503 and rule.startswith(NEEDS_NODE)
                assert r.status_code < 500 or node_down, (
                    f"{method} {url} {query} {form} → {r.status_code}"
                )

        probe()
