"""bech32 / bech32m and SegWit addresses against the BIP-173 and BIP-350 test vectors."""

from __future__ import annotations

import json

import pytest

from sandbox_chain.bech32 import (
    Encoding,
    bech32_decode,
    bech32_encode,
    convert_bits,
    decode_segwit_address,
    encode_segwit_address,
    segwit_script_pubkey,
)
from sandbox_chain.errors import ParseError


@pytest.fixture(scope="module")
def bips(vectors) -> dict:
    return json.loads((vectors / "bips" / "bech32_vectors.json").read_text())


@pytest.mark.parametrize(
    "bip, kind, encoding",
    [("bip173", "bech32", Encoding.BECH32), ("bip350", "bech32m", Encoding.BECH32M)],
)
def test_valid_strings_decode_and_reencode(bips, bip, kind, encoding):
    for row in bips[bip][f"valid_{kind}"]:
        text = row["string"]
        hrp, data, got = bech32_decode(text)
        assert got is encoding, text
        assert bech32_encode(hrp, data, encoding) == text.lower()
        # One changed character breaks the checksum.
        pos = text.rfind("1") + 1
        flipped = "q" if text[pos].lower() != "q" else "p"
        with pytest.raises(ParseError):
            bech32_decode(text[:pos] + flipped + text[pos + 1 :])


@pytest.mark.parametrize("bip, kind", [("bip173", "bech32"), ("bip350", "bech32m")])
def test_invalid_strings_are_refused(bips, bip, kind):
    for row in bips[bip][f"invalid_{kind}"]:
        with pytest.raises(ParseError):
            bech32_decode(row["string"])


def _hrp(address: str) -> str:
    return address.lower()[: address.rfind("1")]


def test_valid_segwit_addresses_give_their_script_pubkey(bips):
    for row in bips["bip350"]["valid_segwit_addresses"]:
        address, hrp = row["address"], _hrp(row["address"])
        version, program = decode_segwit_address(hrp, address)
        assert segwit_script_pubkey(version, program).hex() == row["scriptPubKey"]
        assert encode_segwit_address(hrp, version, program) == address.lower()


def test_invalid_segwit_addresses_are_refused(bips):
    # BIP-350 supersedes BIP-173 for versions 1..16: its invalid list is the current rule.
    for row in (
        bips["bip350"]["invalid_segwit_addresses"] + bips["bip173"]["invalid_segwit_addresses"][:3]
    ):
        for hrp in ("bc", "tb"):
            with pytest.raises(ParseError):
                decode_segwit_address(hrp, row["address"])


def test_bip173_version_1_addresses_fail_under_bip350(bips):
    # bc1p… written with the old bech32 checksum: valid in 2017, refused since BIP-350.
    old = [r for r in bips["bip173"]["valid_segwit_addresses"] if r["scriptPubKey"][:2] != "00"]
    assert old
    for row in old:
        with pytest.raises(ParseError, match="bech32m"):
            decode_segwit_address(_hrp(row["address"]), row["address"])


def test_encoder_refuses_what_the_decoder_would_refuse():
    with pytest.raises(ParseError, match="20 or 32"):
        encode_segwit_address("bc", 0, bytes(21))
    with pytest.raises(ParseError, match="witness version"):
        encode_segwit_address("bc", 17, bytes(32))
    with pytest.raises(ParseError, match="padding"):
        convert_bits([31], 5, 8, False)
