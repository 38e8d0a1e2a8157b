"""The JSON-RPC dispatcher alone (no sockets): Core's request, batch and error rules."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.node.rpc import Dispatcher, Param, RPCError, bind_params


def _dispatcher() -> Dispatcher:
    disp = Dispatcher()
    disp.register("add", lambda a, b=1: a + b, [Param("a", "num"), Param("b", "num", False, 1)])
    disp.register("flag", lambda v=0: v, [Param("v", "num|bool", False, 0)])
    disp.register("fail", lambda: (_ for _ in ()).throw(RPCError(-8, "nope")))
    disp.register("bug", lambda: 1 / 0)
    return disp


@pytest.fixture
def d() -> Dispatcher:
    return _dispatcher()


@pytest.fixture(scope="session")
def d_factory():
    return _dispatcher


def call(d: Dispatcher, body) -> tuple[int, object]:
    status, raw = d.handle(body if isinstance(body, bytes) else json.dumps(body).encode())
    return status, (json.loads(raw) if raw else None)


def test_positional_named_and_default_parameters(d):
    assert call(d, {"id": 1, "method": "add", "params": [2, 3]})[1]["result"] == 5
    assert call(d, {"id": 1, "method": "add", "params": {"a": 2}})[1]["result"] == 3
    assert call(d, {"id": 1, "method": "add", "params": [2, None]})[1]["result"] == 3
    assert call(d, {"id": 1, "method": "add", "params": [2.0]})[1]["result"] == 3
    assert call(d, {"id": 1, "method": "flag", "params": [True]})[1]["result"] is True


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ([], -1),  # missing required argument: usage
        ([1, 2, 3], -1),  # too many arguments
        (["1"], -3),  # wrong JSON type
        ([1.5], -3),  # not an integer
        ({"c": 1}, -8),  # unknown named parameter
        ("x", -32600),  # params neither array nor object
    ],
)
def test_parameter_errors(d, params, code):
    status, reply = call(d, {"id": 7, "method": "add", "params": params})
    assert status == 200 and reply["error"]["code"] == code and reply["id"] == 7
    assert reply["result"] is None


def test_request_and_version_rules(d):
    assert call(d, {"id": 1, "method": "nope"})[1]["error"]["code"] == -32601
    assert call(d, {"id": 1})[1]["error"]["code"] == -32600
    assert call(d, {"id": 1, "method": 5})[1]["error"]["code"] == -32600
    assert (
        call(d, {"id": 1, "method": "add", "params": [1], "jsonrpc": "3.0"})[1]["error"]["code"]
        == -32600
    )
    status, reply = call(d, {"jsonrpc": "2.0", "id": "a", "method": "add", "params": [1]})
    assert reply == {"jsonrpc": "2.0", "result": 2, "error": None, "id": "a"}
    assert call(d, {"jsonrpc": "2.0", "method": "add", "params": [1]}) == (204, None)
    assert call(d, {"id": 1, "method": "fail"})[1]["error"] == {"code": -8, "message": "nope"}
    # A bug inside a method is an error object, not a crash.
    assert call(d, {"id": 1, "method": "bug"})[1]["error"]["code"] == -1


def test_batches_keep_order_and_skip_notifications(d):
    batch = [
        {"id": 1, "method": "add", "params": [1]},
        {"jsonrpc": "2.0", "method": "add", "params": [1]},
        "junk",
        {"id": 3, "method": "nope"},
    ]
    status, replies = call(d, batch)
    assert status == 200 and [r["id"] for r in replies] == [1, None, 3]
    assert [r["error"] and r["error"]["code"] for r in replies] == [None, -32600, -32601]
    assert call(d, [])[1]["error"]["code"] == -32600
    assert call(d, [{"jsonrpc": "2.0", "method": "add", "params": [1]}]) == (204, None)


@pytest.mark.parametrize(
    "body", [b"{", b"\xff", b"NaN", b"[1e999]", b'"str"', b"42", b"[" * 100_000, b"null"]
)
def test_unparseable_or_top_level_garbage_is_400(d, body):
    status, reply = call(d, body)
    assert status == 400 and reply["error"]["code"] == -32700


def test_bind_params_reports_usage(d):
    with pytest.raises(RPCError) as info:
        bind_params(d.methods["add"], [])
    assert "usage: add a ( b )" in info.value.message


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        _json,
        st.fixed_dictionaries(
            {"method": st.sampled_from(["add", "flag", "fail", "bug", "nope"]) | _json},
            optional={"params": _json, "id": _json, "jsonrpc": _json},
        ),
        st.lists(
            st.fixed_dictionaries(
                {"method": st.sampled_from(["add", "flag"])},
                optional={"params": _json, "id": _json},
            ),
            max_size=5,
        ),
    )
)
def test_any_json_gets_a_json_rpc_answer(d_factory, value):
    status, raw = d_factory().handle(json.dumps(value).encode())
    assert status in (200, 204, 400)
    if raw is not None:
        json.loads(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_get_an_answer(d_factory, body):
    status, raw = d_factory().handle(body)
    assert status in (200, 204, 400)
