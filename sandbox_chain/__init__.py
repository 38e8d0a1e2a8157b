"""sandbox_chain — a minimal, Bitcoin-compatible proof-of-work chain for teaching.

Everything this package implements is byte-compatible with Bitcoin: real Bitcoin blocks,
transactions, keys and addresses parse and validate with it. It is a library first (pure
functions and dataclasses, no sockets); the node and the CLI sit on top.

The names a learner needs are importable from here, whatever module defines them::

    from sandbox_chain import PrivateKey, Transaction, TxIn, TxOut, OutPoint, Chain, REGTEST

This surface is stable: a module may move, these names stay. Importing the package loads
nothing else; each name loads its module the first time it is used (PEP 562), so
`import sandbox_chain` stays instant and `from sandbox_chain import sha256` does not pull in
the elliptic-curve code or SQLite. The modules themselves remain importable as before
(`from sandbox_chain.keys import PrivateKey`).

The package imports nothing else of Lune Academy, so a learner's notebook can use it alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name → the module (relative to this package) that defines it, layer by layer as in
# docs/chain.md ("How the library is layered").
_EXPORTS: dict[str, str] = {
    # encodings and hashes
    "sha256": "hashes",
    "hash256": "hashes",
    "ripemd160": "hashes",
    "hash160": "hashes",
    "encode_varint": "encoding",
    "hash_to_hex": "encoding",
    "hex_to_hash": "encoding",
    "b58encode": "encoding",
    "b58decode": "encoding",
    "b58check_encode": "encoding",
    "b58check_decode": "encoding",
    "bech32_encode": "bech32",
    "bech32_decode": "bech32",
    "encode_segwit_address": "bech32",
    "decode_segwit_address": "bech32",
    "segwit_script_pubkey": "bech32",
    "ChainError": "errors",
    "ParseError": "errors",
    "ScriptError": "errors",
    "ValidationError": "errors",
    "StorageError": "errors",
    "p2pkh_script": "script",
    "p2pk_script": "script",
    "multisig_script": "script",
    "op_return_script": "script",
    "push_data": "script",
    "classify": "script",
    "script_to_asm": "script",
    "script_from_asm": "script",
    "MANDATORY_FLAGS": "script",
    "STANDARD_FLAGS": "script",
    # keys and signatures
    "PrivateKey": "keys",
    "PublicKey": "keys",
    "verify_signature": "keys",
    "demo_key": "keys",
    "decode_address": "address",
    "address_from_pubkey_hash": "address",
    "generate_mnemonic": "bip39",
    "mnemonic_to_seed": "bip39",
    "is_valid_mnemonic": "bip39",
    "wordlist": "bip39",
    "ExtendedKey": "bip32",
    "master_key_from_seed": "bip32",
    # transactions and script
    "OutPoint": "transaction",
    "TxIn": "transaction",
    "TxOut": "transaction",
    "Transaction": "transaction",
    "SIGHASH_ALL": "sighash",
    "SIGHASH_NONE": "sighash",
    "SIGHASH_SINGLE": "sighash",
    "SIGHASH_ANYONECANPAY": "sighash",
    "legacy_sighash": "sighash",
    "sign_p2pkh_input": "sighash",
    "sign_p2pk_input": "sighash",
    "verify_script": "interpreter",
    # blocks, proof of work, network parameters
    "BlockHeader": "block",
    "Block": "block",
    "merkle_root": "block",
    "merkle_proof": "block",
    "verify_merkle_proof": "block",
    "bits_to_target": "pow",
    "target_to_bits": "pow",
    "check_proof_of_work": "pow",
    "solve_header": "pow",
    "COIN": "params",
    "NetworkParams": "params",
    "MAINNET": "params",
    "REGTEST": "params",
    "CLASSROOM": "params",
    "get_params": "params",
    # the chain
    "Chain": "chainstate",
    # miner and wallet
    "create_block_template": "miner",
    "mine_block": "miner",
    "generate_to_script": "miner",
    "solve_block": "miner",
    "solve_template": "miner",
    "Wallet": "wallet",
    "WalletError": "wallet",
    "build_transaction": "wallet",
    # nodes on loopback (a notebook starts its own)
    "NodeConfig": "node.config",
    "start_node": "node.node",
    "RPCClient": "node.client",
    "RPCConnectionError": "node.client",
}

# Written out (not computed from _EXPORTS) so linters and type checkers read it; a test
# checks that the two agree.
__all__ = [
    "Block",
    "BlockHeader",
    "CLASSROOM",
    "COIN",
    "Chain",
    "ChainError",
    "ExtendedKey",
    "MAINNET",
    "MANDATORY_FLAGS",
    "NetworkParams",
    "NodeConfig",
    "OutPoint",
    "ParseError",
    "PrivateKey",
    "PublicKey",
    "REGTEST",
    "RPCClient",
    "RPCConnectionError",
    "SIGHASH_ALL",
    "SIGHASH_ANYONECANPAY",
    "SIGHASH_NONE",
    "SIGHASH_SINGLE",
    "STANDARD_FLAGS",
    "ScriptError",
    "StorageError",
    "Transaction",
    "TxIn",
    "TxOut",
    "ValidationError",
    "Wallet",
    "WalletError",
    "address_from_pubkey_hash",
    "b58check_decode",
    "b58check_encode",
    "b58decode",
    "b58encode",
    "bech32_decode",
    "bech32_encode",
    "bits_to_target",
    "build_transaction",
    "check_proof_of_work",
    "classify",
    "create_block_template",
    "decode_address",
    "decode_segwit_address",
    "demo_key",
    "encode_segwit_address",
    "encode_varint",
    "generate_mnemonic",
    "generate_to_script",
    "get_params",
    "hash160",
    "hash256",
    "hash_to_hex",
    "hex_to_hash",
    "is_valid_mnemonic",
    "legacy_sighash",
    "master_key_from_seed",
    "merkle_proof",
    "merkle_root",
    "mine_block",
    "mnemonic_to_seed",
    "multisig_script",
    "op_return_script",
    "p2pk_script",
    "p2pkh_script",
    "push_data",
    "ripemd160",
    "script_from_asm",
    "script_to_asm",
    "segwit_script_pubkey",
    "sha256",
    "sign_p2pk_input",
    "sign_p2pkh_input",
    "solve_block",
    "solve_header",
    "solve_template",
    "start_node",
    "target_to_bits",
    "verify_merkle_proof",
    "verify_script",
    "verify_signature",
    "wordlist",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # what type checkers and editors see; nothing of this runs
    from .address import address_from_pubkey_hash, decode_address
    from .bech32 import (
        bech32_decode,
        bech32_encode,
        decode_segwit_address,
        encode_segwit_address,
        segwit_script_pubkey,
    )
    from .bip32 import ExtendedKey, master_key_from_seed
    from .bip39 import generate_mnemonic, is_valid_mnemonic, mnemonic_to_seed, wordlist
    from .block import Block, BlockHeader, merkle_proof, merkle_root, verify_merkle_proof
    from .chainstate import Chain
    from .encoding import (
        b58check_decode,
        b58check_encode,
        b58decode,
        b58encode,
        encode_varint,
        hash_to_hex,
        hex_to_hash,
    )
    from .errors import ChainError, ParseError, ScriptError, StorageError, ValidationError
    from .hashes import hash160, hash256, ripemd160, sha256
    from .interpreter import verify_script
    from .keys import PrivateKey, PublicKey, demo_key, verify_signature
    from .miner import (
        create_block_template,
        generate_to_script,
        mine_block,
        solve_block,
        solve_template,
    )
    from .node.client import RPCClient, RPCConnectionError
    from .node.config import NodeConfig
    from .node.node import start_node
    from .params import CLASSROOM, COIN, MAINNET, REGTEST, NetworkParams, get_params
    from .pow import bits_to_target, check_proof_of_work, solve_header, target_to_bits
    from .script import (
        MANDATORY_FLAGS,
        STANDARD_FLAGS,
        classify,
        multisig_script,
        op_return_script,
        p2pk_script,
        p2pkh_script,
        push_data,
        script_from_asm,
        script_to_asm,
    )
    from .sighash import (
        SIGHASH_ALL,
        SIGHASH_ANYONECANPAY,
        SIGHASH_NONE,
        SIGHASH_SINGLE,
        legacy_sighash,
        sign_p2pk_input,
        sign_p2pkh_input,
    )
    from .transaction import OutPoint, Transaction, TxIn, TxOut
    from .wallet import Wallet, WalletError, build_transaction
