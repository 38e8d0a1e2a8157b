"""BIP-39 mnemonics (sandbox_chain.bip39) against the Trezor reference vectors."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain import bip39
from sandbox_chain.bip32 import master_key_from_seed
from sandbox_chain.errors import ParseError


def _vectors(vectors, language):
    return json.loads((vectors / "bip39" / "vectors.json").read_text())[language]


@pytest.mark.parametrize("language", ["english", "french"])
def test_reference_vectors(vectors, language):
    """Entropy -> mnemonic -> seed (passphrase "TREZOR") -> BIP-32 master xprv, 24 vectors each."""
    rows = _vectors(vectors, language)
    assert len(rows) == 24
    for entropy_hex, mnemonic, seed_hex, xprv in rows:
        entropy = bytes.fromhex(entropy_hex)
        assert bip39.entropy_to_mnemonic(entropy, language) == mnemonic
        assert bip39.mnemonic_to_entropy(mnemonic, language) == entropy
        assert bip39.mnemonic_to_entropy(mnemonic) == entropy  # language detected
        seed = bip39.mnemonic_to_seed(mnemonic, "TREZOR")
        assert seed.hex() == seed_hex
        assert master_key_from_seed(seed, "main").to_base58() == xprv


def test_wordlists_are_the_official_ones(vectors):
    english = bip39.wordlist("english")
    assert len(english) == 2048
    assert (vectors / "bip39" / "english.txt").read_text().split() == list(english)
    french = bip39.wordlist("french")
    assert (french[0], french[-1]) == ("abaisser", "zoologie")
    assert unicodedata.normalize("NFKD", "académie") in french
    with pytest.raises(ValueError):
        bip39.wordlist("klingon")


def test_french_accepts_precomposed_accents(vectors):
    entropy_hex, mnemonic, seed_hex, _ = next(
        row for row in _vectors(vectors, "french") if not row[1].isascii()
    )
    typed = unicodedata.normalize("NFC", mnemonic)  # what a French keyboard produces
    assert typed != mnemonic
    assert bip39.mnemonic_to_entropy(typed, "french").hex() == entropy_hex
    assert bip39.mnemonic_to_seed(typed, "TREZOR").hex() == seed_hex


def test_checksum_and_word_errors(vectors):
    _, mnemonic, _, _ = _vectors(vectors, "english")[0]  # "abandon ... about"
    words = mnemonic.split()
    assert bip39.is_valid_mnemonic(mnemonic)
    swapped = " ".join(words[:-1] + ["abandon"])  # a last word with the wrong checksum bits
    with pytest.raises(ParseError, match="checksum"):
        bip39.mnemonic_to_entropy(swapped)
    assert not bip39.is_valid_mnemonic(swapped)
    with pytest.raises(ParseError, match="word list"):
        bip39.mnemonic_to_entropy(" ".join(words[:-1] + ["bitcoin"]), "english")
    with pytest.raises(ParseError, match="12, 15"):
        bip39.mnemonic_to_entropy(" ".join(words[:11]))
    # Extra whitespace between words is harmless.
    assert bip39.is_valid_mnemonic("  " + "\n".join(words) + " ")
    # A French sentence is not English.
    _, french, _, _ = _vectors(vectors, "french")[3]
    with pytest.raises(ParseError):
        bip39.mnemonic_to_entropy(french, "english")


def test_bad_entropy_lengths():
    for size in (0, 15, 17, 33):
        with pytest.raises(ParseError):
            bip39.entropy_to_mnemonic(bytes(size))


def test_generate_mnemonic():
    for count in bip39.WORD_COUNTS:
        for language in bip39.LANGUAGES:
            sentence = bip39.generate_mnemonic(count, language)
            assert len(sentence.split()) == count
            assert bip39.detect_language(sentence) in bip39.LANGUAGES
            assert bip39.is_valid_mnemonic(sentence, language)
    with pytest.raises(ValueError):
        bip39.generate_mnemonic(13)


@settings(max_examples=100, deadline=None)
@given(
    entropy=st.sampled_from([16, 20, 24, 28, 32]).flatmap(
        lambda n: st.binary(min_size=n, max_size=n)
    ),
    language=st.sampled_from(bip39.LANGUAGES),
)
def test_round_trip(entropy, language):
    sentence = bip39.entropy_to_mnemonic(entropy, language)
    assert bip39.mnemonic_to_entropy(sentence, language) == entropy


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=80),
        st.lists(st.sampled_from(bip39.wordlist("english")[:50]), min_size=11, max_size=25).map(
            " ".join
        ),
        st.lists(st.sampled_from(bip39.wordlist("french")[:50]), min_size=12, max_size=12).map(
            " ".join
        ),
    )
)
def test_decoding_raises_only_parse_error(text):
    try:
        bip39.mnemonic_to_entropy(text)
    except ParseError:
        pass
