"""Output descriptors: BIP-380 checksums and the legacy subset the node reads and writes."""

from __future__ import annotations

import pytest

from sandbox_chain.keys import PrivateKey
from sandbox_chain.node.descriptor import (
    DescriptorError,
    descriptor_checksum,
    descriptor_script,
    infer_descriptor,
)
from sandbox_chain.params import REGTEST
from sandbox_chain.script import multisig_script, op_return_script, p2pk_script, p2pkh_script

# Bitcoin Core src/test/descriptor_tests.cpp, "Checksums" (the same descriptor with private
# and with public keys, each with the checksum Core computes).
CORE_CHECKSUMS = [
    (
        "sh(multi(2,[00000000/111'/222]xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7"
        "iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc,xprv9uPDJpEQgRQfDcW7BkF7eTya6RPxXeJCqC"
        "JGHuCJ4GiRVLzkTXBAJMu2qaMWPrS7AANYqdq6vcBcBUdJCVVFceUvJFjaPdGZ2y9WACViL4L/0))",
        "ggrsrxfy",
    ),
    (
        "sh(multi(2,[00000000/111'/222]xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJb"
        "ZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL,xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CR"
        "Ds6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y/0))",
        "tjg09x5t",
    ),
]

PUB = PrivateKey.from_int(0xD5).public_key()


@pytest.mark.parametrize(("desc", "checksum"), CORE_CHECKSUMS)
def test_checksum_matches_bitcoin_core(desc, checksum):
    assert descriptor_checksum(desc) == checksum


@pytest.mark.parametrize(
    "script",
    [
        p2pkh_script(PUB.hash160()),
        p2pk_script(PUB.sec()),
        p2pk_script(PUB.sec(compressed=False)),
        multisig_script(1, [PUB.sec(), PrivateKey.from_int(7).public_key().sec()]),
        op_return_script(b"lune"),
        b"\x51",
    ],
)
def test_inferred_descriptors_carry_a_checksum_and_give_the_script_back(script):
    desc = infer_descriptor(script, REGTEST)
    body, _, checksum = desc.partition("#")
    assert checksum == descriptor_checksum(body)
    assert descriptor_script(desc, REGTEST) == script


def test_inferred_forms_follow_core():
    address = PUB.address(REGTEST)
    assert infer_descriptor(p2pkh_script(PUB.hash160()), REGTEST).startswith(f"addr({address})#")
    assert infer_descriptor(p2pk_script(PUB.sec()), REGTEST).startswith(f"pk({PUB.sec().hex()})#")
    two = multisig_script(2, [PUB.sec(), PUB.sec()])
    assert infer_descriptor(two, REGTEST).startswith(f"multi(2,{PUB.sec().hex()},")
    hybrid = p2pk_script(b"\x06" + PUB.sec(compressed=False)[1:])
    assert infer_descriptor(hybrid, REGTEST).startswith(f"raw({hybrid.hex()})#")


@pytest.mark.parametrize(
    ("desc", "message"),
    [
        ("raw(51)#qqqqqqqq", "does not match computed checksum"),
        ("raw(51)#abc", "Expected 8 character checksum, not 3 characters"),
        ("wpkh(00)", "not a supported descriptor"),
        ("pk(00)", "not a hex public key"),
        ("multi(3,02" + "11" * 32 + ")", "threshold"),
        ("raw(zz)", "Invalid descriptor"),
        ("addr(1nope)", "Invalid descriptor"),
        ("raw(\u00e9)#qqqqqqqq", "Invalid characters in payload"),
    ],
)
def test_bad_descriptors_are_refused_with_core_messages(desc, message):
    with pytest.raises(DescriptorError, match=message):
        descriptor_script(desc, REGTEST)
