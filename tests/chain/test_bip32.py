"""BIP-32 HD keys (sandbox_chain.bip32) against every test vector of BIP-32."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.bip32 import (
    HARDENED,
    DerivationError,
    ExtendedKey,
    format_path,
    master_key_from_seed,
    parse_path,
)
from sandbox_chain.errors import ParseError


def _bip32(vectors):
    return json.loads((vectors / "bips" / "bip32_vectors.json").read_text())


def _chains(vectors):
    for tv in _bip32(vectors)["valid"]:
        for chain in tv["chains"]:
            yield tv, chain


def test_vector_counts(vectors):
    data = _bip32(vectors)
    assert [tv["name"] for tv in data["valid"]] == [f"Test vector {i}" for i in (1, 2, 3, 4)]
    assert len(list(_chains(vectors))) == 17
    assert len(data["invalid_extended_keys"]["keys"]) == 16


def test_private_derivation_and_serialization(vectors):
    """Vectors 1-4: seed -> master -> each chain, both xprv and xpub, byte for byte."""
    for tv, chain in _chains(vectors):
        master = master_key_from_seed(bytes.fromhex(tv["seed_hex"]), "main")
        key = master.derive(chain["chain"])
        assert parse_path(chain["chain"]) == chain["path_indices"]
        assert key.to_base58() == chain["ext_prv"], (tv["name"], chain["chain"])
        assert key.neuter().to_base58() == chain["ext_pub"], (tv["name"], chain["chain"])
        assert key.depth == len(chain["path_indices"])


def test_public_derivation_matches(vectors):
    """CKDpub: from the xpub above the last hardened step, derive the rest without secrets."""
    checked = 0
    for tv in _bip32(vectors)["valid"]:
        by_path = {tuple(c["path_indices"]): c for c in tv["chains"]}
        for chain in tv["chains"]:
            indices = chain["path_indices"]
            hardened = [i for i, index in enumerate(indices) if index >= HARDENED]
            start = hardened[-1] + 1 if hardened else 0
            if start == len(indices):
                continue  # ends with a hardened step: only the private key can derive it
            xpub = ExtendedKey.parse(by_path[tuple(indices[:start])]["ext_pub"])
            assert not xpub.is_private
            assert xpub.derive(indices[start:]).to_base58() == chain["ext_pub"]
            checked += 1
    assert checked == 6


def test_parse_round_trip(vectors):
    for _, chain in _chains(vectors):
        for text in (chain["ext_prv"], chain["ext_pub"]):
            key = ExtendedKey.parse(text, "main")
            assert key.to_base58() == text
            assert str(key) == text
        with pytest.raises(ParseError, match="another network"):
            ExtendedKey.parse(chain["ext_prv"], "regtest")


def test_vector5_invalid_keys_rejected(vectors):
    keys = _bip32(vectors)["invalid_extended_keys"]["keys"]
    for case in keys:
        with pytest.raises(ParseError):
            ExtendedKey.parse(case["key"])
    assert len(keys) == 16


def test_hardened_child_of_public_key_is_refused(vectors):
    _, chain = next(_chains(vectors))
    xpub = ExtendedKey.parse(chain["ext_pub"])
    with pytest.raises(DerivationError, match="hardened"):
        xpub.child(HARDENED)
    with pytest.raises(DerivationError):
        xpub.child(2**32)


def test_sandbox_uses_tprv_tpub():
    master = master_key_from_seed(bytes(range(16)))  # default network: the sandbox's regtest
    assert master.to_base58().startswith("tprv")
    assert master.neuter().to_base58().startswith("tpub")
    account = master.derive("m/44'/1'/0'")
    address_key = account.derive("0/0")
    assert address_key == master.derive("m/44h/1H/0'/0/0")
    assert address_key.neuter() == account.neuter().derive([0, 0]).neuter()
    assert address_key.public_key.address().startswith(("m", "n"))
    assert ExtendedKey.parse(address_key.to_base58(), "regtest") == address_key
    assert "tprv" not in repr(address_key)
    with pytest.raises(DerivationError):
        account.derive("m/0")  # "m/..." must start at the master key


@pytest.mark.parametrize(
    "path, indices",
    [
        ("m", []),
        ("m/0", [0]),
        ("m/44'/1'/0'/0/0", [HARDENED + 44, HARDENED + 1, HARDENED, 0, 0]),
        ("m/0H/1h/2147483647'", [HARDENED, HARDENED + 1, 2**32 - 1]),
        ("0/1", [0, 1]),
    ],
)
def test_parse_path(path, indices):
    assert parse_path(path) == indices
    assert parse_path(format_path(indices)) == indices


@pytest.mark.parametrize(
    "path", ["m/", "m//0", "m/-1", "m/x", "m/2147483648", "m/0''", "m/ 0", "m/１", "M/0", "/0"]
)
def test_parse_path_rejects(path):
    with pytest.raises(ParseError):
        parse_path(path)


def test_overlong_extended_key_text_is_refused_before_decoding():
    with pytest.raises(ParseError, match="too long"):
        ExtendedKey.parse("x" * 10_000)


@pytest.mark.parametrize("step", ["9" * 5000, "9" * 5000 + "'", "0" * 5000 + "1"])
def test_parse_path_handles_steps_of_thousands_of_digits(step):
    # int() refuses strings over 4,300 digits with ValueError: a typed path must not leak it.
    if step.lstrip("0") == "1":
        assert parse_path("m/" + step) == [1]
        return
    with pytest.raises(ParseError, match="too large"):
        parse_path("m/" + step)


def test_seed_length():
    for size in (15, 65):
        with pytest.raises(ValueError):
            master_key_from_seed(bytes(size))


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=120),
        st.text(
            alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
            min_size=100,
            max_size=115,
        ),
    )
)
def test_parse_raises_only_parse_error(text):
    for parse in (ExtendedKey.parse, parse_path):
        try:
            parse(text)
        except ParseError:
            pass


def test_network_parameter_sets_pick_the_version_bytes():
    from sandbox_chain.params import MAINNET, REGTEST

    seed = bytes(range(32))
    assert master_key_from_seed(seed, MAINNET).to_base58().startswith("xprv")
    assert master_key_from_seed(seed, REGTEST).to_base58().startswith("tprv")
    xprv = master_key_from_seed(seed, "mainnet").to_base58()
    assert ExtendedKey.parse(xprv, MAINNET).network == "main"


@settings(max_examples=200, deadline=None)
@given(
    version=st.sampled_from([0x0488ADE4, 0x0488B21E, 0x04358394, 0x043587CF, 0x01010101]),
    depth=st.sampled_from([0, 1, 255]),
    body=st.binary(min_size=8, max_size=8),
    chain_code=st.binary(min_size=32, max_size=32),
    key_prefix=st.sampled_from([0, 2, 3, 4]),
    key=st.binary(min_size=32, max_size=32),
)
def test_checksummed_random_keys_raise_only_parse_error(
    version, depth, body, chain_code, key_prefix, key
):
    """Payloads with a valid checksum reach every validity rule behind it."""
    from sandbox_chain.encoding import b58check_encode

    payload = version.to_bytes(4, "big") + bytes([depth]) + body + chain_code
    text = b58check_encode(payload + bytes([key_prefix]) + key)
    try:
        parsed = ExtendedKey.parse(text)
    except ParseError:
        return
    assert parsed.to_base58() == text
