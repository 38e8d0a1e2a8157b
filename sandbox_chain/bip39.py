"""BIP-39 mnemonic sentences: entropy <-> words, checksum, and mnemonic -> 64-byte seed.

Spec: BIP-39 (bitcoin/bips, bip-0039.mediawiki).

* Entropy of 128 to 256 bits (a multiple of 32) gets a checksum of ENT/32 bits: the first bits
  of SHA-256(entropy). Entropy || checksum is cut into 11-bit numbers, each an index into a
  2048-word list: 12 words for 128 bits, 24 words for 256 bits.
* The seed is PBKDF2-HMAC-SHA512(password = NFKD(mnemonic), salt = "mnemonic" + NFKD(passphrase),
  2048 iterations, 64 bytes). BIP-32 (`bip32.master_key_from_seed`) turns it into keys.

Word lists: English and French (the official lists, shipped in `sandbox_chain/wordlists/`).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import unicodedata
from importlib import resources

from .errors import ParseError

LANGUAGES = ("english", "french")
WORD_COUNTS = (12, 15, 18, 21, 24)
PBKDF2_ROUNDS = 2048


def _nfkd(text: str) -> str:
    return unicodedata.normalize("NFKD", text)


@functools.cache
def wordlist(language: str = "english") -> tuple[str, ...]:
    """The 2048 words of `language` ("english" or "french"), in index order, NFKD-normalized."""
    if language not in LANGUAGES:
        raise ValueError(f"no BIP-39 word list for {language!r}; available: {', '.join(LANGUAGES)}")
    text = resources.files("sandbox_chain.wordlists").joinpath(f"{language}.txt").read_text("utf-8")
    words = tuple(_nfkd(w) for w in text.split())
    if len(words) != 2048 or len(set(words)) != 2048:
        raise ValueError(f"the {language} word list is damaged: not 2048 distinct words")
    return words


@functools.cache
def _index(language: str) -> dict[str, int]:
    return {w: i for i, w in enumerate(wordlist(language))}


def entropy_to_mnemonic(entropy: bytes, language: str = "english") -> str:
    """Encode 16, 20, 24, 28 or 32 bytes of entropy as a 12- to 24-word mnemonic."""
    if len(entropy) not in (16, 20, 24, 28, 32):
        raise ParseError(f"BIP-39 entropy is 16, 20, 24, 28 or 32 bytes, got {len(entropy)}")
    bits = len(entropy) * 8
    checksum_bits = bits // 32
    checksum = hashlib.sha256(entropy).digest()[0] >> (8 - checksum_bits)
    number = (int.from_bytes(entropy, "big") << checksum_bits) | checksum
    count = (bits + checksum_bits) // 11
    words = wordlist(language)
    indices = [(number >> (11 * (count - 1 - i))) & 0x7FF for i in range(count)]
    return " ".join(words[i] for i in indices)


def _split(mnemonic: str) -> list[str]:
    if not isinstance(mnemonic, str):
        raise ParseError("a mnemonic is text")
    words = _nfkd(mnemonic).split()
    if len(words) not in WORD_COUNTS:
        raise ParseError(f"a BIP-39 mnemonic has 12, 15, 18, 21 or 24 words, got {len(words)}")
    return words


def _decode_words(words: list[str], language: str) -> bytes:
    index = _index(language)
    unknown = [w for w in words if w not in index]
    if unknown:
        raise ParseError(f"not in the {language} BIP-39 word list: {unknown[0]!r}")
    number = 0
    for w in words:
        number = (number << 11) | index[w]
    total_bits = 11 * len(words)
    checksum_bits = total_bits // 33
    entropy_bits = total_bits - checksum_bits
    entropy = (number >> checksum_bits).to_bytes(entropy_bits // 8, "big")
    expected = hashlib.sha256(entropy).digest()[0] >> (8 - checksum_bits)
    if number & ((1 << checksum_bits) - 1) != expected:
        raise ParseError("BIP-39 checksum mismatch: a word is wrong or the words are out of order")
    return entropy


def detect_language(mnemonic: str) -> str:
    """The first language whose list contains every word of `mnemonic`; ParseError if none."""
    words = _split(mnemonic)
    for language in LANGUAGES:
        index = _index(language)
        if all(w in index for w in words):
            return language
    raise ParseError("the words do not all come from one BIP-39 word list")


def mnemonic_to_entropy(mnemonic: str, language: str | None = None) -> bytes:
    """Decode a mnemonic back to its entropy, checking words and checksum (ParseError).

    Words may be separated by any whitespace and typed with or without decomposed accents.
    With `language=None` every known list whose words all match is tried (a few words, such
    as "abandon", are in both the English and the French list).
    """
    words = _split(mnemonic)
    if language is not None:
        return _decode_words(words, language)
    candidates = [lang for lang in LANGUAGES if all(w in _index(lang) for w in words)]
    if not candidates:
        raise ParseError("the words do not all come from one BIP-39 word list")
    error = ParseError("BIP-39 checksum mismatch")
    for lang in candidates:
        try:
            return _decode_words(words, lang)
        except ParseError as exc:
            error = exc
    raise error


def is_valid_mnemonic(mnemonic: str, language: str | None = None) -> bool:
    """True when every word is in the list and the checksum matches."""
    try:
        mnemonic_to_entropy(mnemonic, language)
    except ParseError:
        return False
    return True


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP-39 seed. As the BIP says, the sentence is not validated here:
    check it first with `is_valid_mnemonic` when it was typed by a person."""
    password = _nfkd(mnemonic).encode("utf-8")
    salt = ("mnemonic" + _nfkd(passphrase)).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha512", password, salt, PBKDF2_ROUNDS)


def generate_mnemonic(words: int = 12, language: str = "english") -> str:
    """A fresh random mnemonic of 12 to 24 words from the operating system's CSPRNG."""
    if words not in WORD_COUNTS:
        raise ValueError(f"a BIP-39 mnemonic has 12, 15, 18, 21 or 24 words, not {words}")
    return entropy_to_mnemonic(secrets.token_bytes(words * 4 // 3), language)
