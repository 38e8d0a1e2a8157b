"""The learner's wallet: file handling, HD derivation path, payments, multisig, and its CLI."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from sandbox_chain import bip39
from sandbox_chain.bip32 import master_key_from_seed
from sandbox_chain.interpreter import verify_script
from sandbox_chain.keys import PrivateKey
from sandbox_chain.params import REGTEST
from sandbox_chain.script import STANDARD_FLAGS, classify, p2pkh_script
from sandbox_chain.wallet import (
    DUST_LIMIT,
    Coin,
    Wallet,
    WalletError,
    build_transaction,
    multisig_output,
)
from web.cli import main

KEY = PrivateKey.from_int(0xC0FFEE)
SCRIPT = p2pkh_script(KEY.public_key().hash160())
DEST = p2pkh_script(PrivateKey.from_int(7).public_key().hash160())


def coin(value: int, n: int = 0) -> Coin:
    return Coin(bytes([n + 1]) * 32, n, value, SCRIPT)


def test_payment_has_change_fee_and_valid_signatures():
    coins = [coin(50_000, 0), coin(300_000, 1), coin(20_000, 2)]
    tx = build_transaction(coins, [(DEST, 100_000)], SCRIPT, 2, [KEY])
    assert len(tx.vin) == 1 and tx.vin[0].prevout.vout == 1  # largest coin first, one suffices
    assert tx.vout[0].value == 100_000 and tx.vout[1].script_pubkey == SCRIPT
    fee = 300_000 - tx.total_out()
    assert 2 * len(tx.serialize()) <= fee <= 2 * (len(tx.serialize()) + 4)
    for i, txin in enumerate(tx.vin):
        verify_script(txin.script_sig, SCRIPT, tx, i, STANDARD_FLAGS)


def test_dust_change_goes_to_the_fee_and_shortfalls_are_reported():
    tx = build_transaction([coin(100_500)], [(DEST, 100_000)], SCRIPT, 1, [KEY])
    assert len(tx.vout) == 1 and 100_500 - tx.total_out() < DUST_LIMIT
    with pytest.raises(WalletError, match="insufficient funds"):
        build_transaction([coin(1_000)], [(DEST, 100_000)], SCRIPT, 1, [KEY])
    with pytest.raises(WalletError, match="insufficient"):  # coins of other keys are not used
        build_transaction([coin(10**9)], [(DEST, 1_000)], SCRIPT, 1, [PrivateKey.from_int(9)])


def test_wallet_keys_follow_bip44_path_with_coin_type_1():
    w = Wallet.create("english")
    seed = bip39.mnemonic_to_seed(w.mnemonic)
    expected = master_key_from_seed(seed, "regtest").derive("m/44'/1'/0'/0/0").private_key
    assert w.key(0, 0).secret == expected.secret
    change = master_key_from_seed(seed, "regtest").derive("m/44'/1'/0'/1/3").private_key
    assert w.key(1, 3).secret == change.secret
    assert w.new_address() == expected.public_key().address(REGTEST) and w.next_receive == 1


def test_wallet_file_is_private_atomic_and_restorable(tmp_path):
    w = Wallet.create("french", words=24)
    assert len(w.mnemonic.split()) == 24
    w.new_address()
    path = tmp_path / "wallet.json"
    w.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["wallet.json"]  # no temp file left behind
    loaded = Wallet.load(path)
    assert loaded.mnemonic == w.mnemonic and loaded.next_receive == 1
    restored = Wallet.restore("  " + w.mnemonic.replace(" ", "\n") + " ")
    assert restored.language == "french" and restored.address(0, 0) == w.address(0, 0)
    words = w.mnemonic.split()
    words[0], words[1] = words[1], words[0]
    with pytest.raises(WalletError):
        Wallet.restore(" ".join(words) if words[0] != words[1] else "bad words")
    path.write_text("{not json")
    with pytest.raises(WalletError, match="not a readable wallet"):
        Wallet.load(path)
    with pytest.raises(WalletError, match="no wallet"):
        Wallet.load(tmp_path / "missing.json")


def test_multisig_output_script():
    pubs = [PrivateKey.from_int(i).public_key().sec().hex() for i in (1, 2, 3)]
    out = multisig_output(2, pubs)
    kind, (m, keys) = classify(bytes.fromhex(out["script"]))
    assert kind == "multisig" and m == 2 and len(keys) == 3
    assert out["descriptor"] == f"raw({out['script']})"
    with pytest.raises(WalletError):
        multisig_output(4, pubs)
    with pytest.raises(WalletError):
        multisig_output(1, ["00" * 33])


def test_multisig_address_cli():
    pubs = [PrivateKey.from_int(i).public_key().sec().hex() for i in (1, 2)]
    result = CliRunner().invoke(main, ["chain", "wallet", "multisig-address", "1", *pubs])
    assert result.exit_code == 0 and "descriptor: raw(51" in result.output
    result = CliRunner().invoke(main, ["chain", "wallet", "multisig-address", "3", *pubs])
    assert result.exit_code != 0 and "Error:" in result.output


@pytest.mark.network
def test_wallet_and_faucet_through_the_cli(node_factory):
    n = node_factory("w")
    d = str(n.datadir)
    run = lambda *args: CliRunner().invoke(main, ["chain", *args])  # noqa: E731
    created = run("wallet", "create", "--datadir", d)
    assert created.exit_code == 0, created.output
    address = created.output.split("first address: ")[1].split()[0]
    assert run("wallet", "create", "--datadir", d).exit_code != 0  # never overwrites
    paid = run("faucet", address, "--amount", "3", "--datadir", d)
    assert paid.exit_code == 0 and "paid 3.00000000" in paid.output, paid.output
    again = run("faucet", address, "--datadir", d)
    assert again.exit_code != 0 and "paid recently" in again.output
    n.rpc.generatetoaddress(1, PrivateKey.from_int(5).public_key().address(REGTEST))
    balance = run("wallet", "balance", "--datadir", d)
    assert "spendable: 3.00000000" in balance.output, balance.output
    other = PrivateKey.from_int(11).public_key().address(REGTEST)
    sent = run("wallet", "send", other, "1.5", "--datadir", d)
    assert sent.exit_code == 0, sent.output
    assert sent.output.strip() in n.rpc.getrawmempool()
    too_much = run("wallet", "send", other, "100", "--datadir", d)
    assert too_much.exit_code != 0 and "insufficient funds" in too_much.output
    assert run("wallet", "send", "nonsense", "1", "--datadir", d).exit_code != 0
    assert run("wallet", "send", other, "-1", "--datadir", d).exit_code != 0
    n.rpc.generatetoaddress(1, other)
    balance = run("wallet", "balance", "--datadir", d)
    assert "spendable: 1.49" in balance.output  # 3 - 1.5 - fee, on a change address
    # The faucet's limit survives a restart (it is on disk).
    n.stop()
    n.start()
    again = run("faucet", address, "--datadir", d)
    assert again.exit_code != 0 and "paid recently" in again.output
    missing = run("wallet", "balance", "--datadir", str(n.datadir.parent / "none"))
    assert missing.exit_code != 0 and "no wallet" in missing.output


def test_wallet_works_on_an_in_process_chain(tmp_path):
    """A notebook without a node: balance and payment straight on a `Chain`."""
    from sandbox_chain.chainstate import Chain
    from sandbox_chain.miner import generate_to_script

    w = Wallet.create()
    mine_to = p2pkh_script(w.key(0, 0).public_key().hash160())
    with Chain.open(tmp_path / "chain", REGTEST) as chain:
        generate_to_script(chain, mine_to, 101)
        bal = w.balance(chain)
        # At height 101 the coinbases of heights 1 and 2 may be spent by the next block.
        assert bal == {"spendable": 100 * 10**8, "immature": 99 * 50 * 10**8, "height": 101}
        other = PrivateKey.from_int(99).public_key().address(REGTEST)
        txid = w.send(chain, other, 10**8)
        assert bytes.fromhex(txid)[::-1] in chain.mempool
        assert w.balance(chain)["spendable"] == 50 * 10**8  # one coin is spent in the mempool
        assert w.next_change == 1
        with pytest.raises(WalletError, match="insufficient"):
            w.send(chain, other, 60 * 10**8)


def test_restore_picks_the_language_whose_checksum_holds():
    # Every word is on both the English and the French list; only the French checksum holds.
    french = (
        "notable prison image social tunnel million mobile surprise double wagon figure essence"
    )
    assert all(w in bip39.wordlist("english") for w in french.split())
    wallet = Wallet.restore(french)
    assert wallet.language == "french"
    assert wallet.to_json()["language"] == "french"
    with pytest.raises(WalletError, match="checksum"):
        Wallet.restore(french.replace("essence", "figure"))
