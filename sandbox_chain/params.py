"""Networks as parameter sets: regtest, the classroom network, and mainnet.

Follows Bitcoin Core `kernel/chainparams.cpp` (`CRegTestParams`, `CMainParams`,
`CreateGenesisBlock`) and `consensus/params.h`. A network is data, not code: the same
validation and mining functions run on every network with different numbers.

- `REGTEST` is Bitcoin Core's regtest: trivial difficulty, no retargeting, the regtest genesis
  block, testnet address prefixes. The sandbox's default.
- `CLASSROOM` is a teaching network *with* retargeting: 30-second blocks, a retarget every
  20 blocks, and a starting difficulty a laptop meets in about 30 seconds with our CPython miner.
- `MAINNET` is Bitcoin's main network. Its parameters are here to validate real Bitcoin
  headers (proof of work, retargets); the sandbox never runs a mainnet node.
"""

from __future__ import annotations

from dataclasses import dataclass

from .block import Block, BlockHeader, merkle_root
from .pow import target_to_bits
from .script import encode_num, op_return_script, p2pk_script, push_data, push_int
from .transaction import NULL_INDEX, NULL_TXID, OutPoint, Transaction, TxIn, TxOut

COIN = 100_000_000  # satoshis in one coin


@dataclass(frozen=True, kw_only=True)
class NetworkParams:
    """Everything that differs between networks (Core's CChainParams + Consensus::Params)."""

    name: str
    pow_limit: int  # the easiest target allowed: no block's target may exceed it
    pow_limit_bits: int  # pow_limit in compact form (what a block at minimum difficulty carries)
    pow_no_retargeting: bool  # True: difficulty never changes (regtest)
    pow_allow_min_difficulty: bool  # testnet/regtest rule: min-difficulty blocks after a pause
    target_spacing: int  # seconds between blocks the retarget aims for
    target_timespan: int  # seconds one retarget period should last
    subsidy_halving_interval: int  # blocks between two halvings of the block reward
    coinbase_maturity: int = 100  # blocks before a coinbase output may be spent
    max_future_block_time: int = 7200  # a block's time may be at most this far ahead of ours
    pubkey_address_prefix: int  # Base58Check version byte of P2PKH addresses
    script_address_prefix: int  # Base58Check version byte of P2SH addresses
    wif_prefix: int  # Base58Check version byte of WIF private keys
    default_rpc_port: int
    default_p2p_port: int
    message_start: bytes  # the 4 "magic" bytes that open every P2P message
    genesis_block: Block

    @property
    def difficulty_adjustment_interval(self) -> int:
        """Blocks per retarget period: target_timespan / target_spacing (2016 on mainnet)."""
        return self.target_timespan // self.target_spacing

    @property
    def genesis_hash(self) -> bytes:
        """Hash of the genesis block, internal byte order."""
        return self.genesis_block.hash()


def create_genesis_block(
    message: bytes,
    output_script: bytes,
    *,
    time: int,
    nonce: int,
    bits: int,
    version: int = 1,
    reward: int = 50 * COIN,
) -> Block:
    """Build a genesis block the way Bitcoin Core's CreateGenesisBlock does.

    One coinbase transaction whose scriptSig pushes the number 486604799 (0x1d00ffff),
    the number 4, and a message; one output paying `reward` to `output_script`; previous
    hash all zeros. The genesis coinbase is never added to the set of spendable outputs.
    """
    # Core writes `CScript() << 486604799 << CScriptNum(4) << message`: a CScriptNum is always
    # pushed as data, so the 4 is the push 01 04, not the opcode OP_4.
    script_sig = push_int(486604799) + push_data(encode_num(4)) + push_data(message)
    coinbase = Transaction(
        version=1,
        vin=[TxIn(OutPoint(NULL_TXID, NULL_INDEX), script_sig)],
        vout=[TxOut(reward, output_script)],
        locktime=0,
    )
    root, _ = merkle_root([coinbase.txid()])
    header = BlockHeader(
        version=version,
        prev_hash=bytes(32),
        merkle_root=root,
        time=time,
        bits=bits,
        nonce=nonce,
    )
    return Block(header, [coinbase])


SATOSHI_GENESIS_MESSAGE = b"The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"
# The uncompressed public key the 50 BTC of Bitcoin's genesis block are paid to (P2PK).
SATOSHI_GENESIS_PUBKEY = bytes.fromhex(
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb6"
    "49f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)
SATOSHI_GENESIS_SCRIPT = p2pk_script(SATOSHI_GENESIS_PUBKEY)

MAINNET = NetworkParams(
    name="mainnet",
    pow_limit=(1 << 224) - 1,
    pow_limit_bits=0x1D00FFFF,
    pow_no_retargeting=False,
    pow_allow_min_difficulty=False,
    target_spacing=10 * 60,
    target_timespan=14 * 24 * 60 * 60,
    subsidy_halving_interval=210_000,
    pubkey_address_prefix=0x00,
    script_address_prefix=0x05,
    wif_prefix=0x80,
    default_rpc_port=8332,
    default_p2p_port=8333,
    message_start=bytes.fromhex("f9beb4d9"),
    genesis_block=create_genesis_block(
        SATOSHI_GENESIS_MESSAGE,
        SATOSHI_GENESIS_SCRIPT,
        time=1231006505,
        nonce=2083236893,
        bits=0x1D00FFFF,
    ),
)

REGTEST = NetworkParams(
    name="regtest",
    pow_limit=(1 << 255) - 1,
    pow_limit_bits=0x207FFFFF,
    pow_no_retargeting=True,
    pow_allow_min_difficulty=True,
    target_spacing=10 * 60,
    target_timespan=14 * 24 * 60 * 60,
    subsidy_halving_interval=150,
    pubkey_address_prefix=0x6F,
    script_address_prefix=0xC4,
    wif_prefix=0xEF,
    default_rpc_port=18443,
    default_p2p_port=18444,
    message_start=bytes.fromhex("fabfb5da"),
    genesis_block=create_genesis_block(
        SATOSHI_GENESIS_MESSAGE,
        SATOSHI_GENESIS_SCRIPT,
        time=1296688602,
        nonce=2,
        bits=0x207FFFFF,
    ),
)

# The classroom network. The easiest target allowed is 2**240 (about 65,000 hashes a block),
# but the chain *starts* harder, at the genesis block's bits 0x1d7fffff (about 2**25 = 33.5
# million hashes: ~30 s for one laptop core at CPython's ~1.1 MH/s). Every 20 blocks the
# difficulty follows the class's real hash rate, at most 4x per retarget either way; the low
# pow_limit leaves room to ease off when only a few slow machines mine.
CLASSROOM_POW_LIMIT = (1 << 240) - 1
CLASSROOM_GENESIS_BITS = 0x1D7FFFFF
CLASSROOM_GENESIS_MESSAGE = b"Lune Academy classroom genesis, 2026-01-01: every block is a lesson"
CLASSROOM_GENESIS_TIME = 1767225600  # 2026-01-01T00:00:00Z
# Found once with pow.solve_header_parallel; tests re-derive the hash and check its work.
CLASSROOM_GENESIS_NONCE = 2158230958
CLASSROOM_GENESIS_HASH = "0000007e223af1fb0df1a13307fbc49336deb70e705b949c57662ca4ba4c8794"

CLASSROOM = NetworkParams(
    name="classroom",
    pow_limit=CLASSROOM_POW_LIMIT,
    pow_limit_bits=target_to_bits(CLASSROOM_POW_LIMIT),
    pow_no_retargeting=False,
    pow_allow_min_difficulty=False,
    target_spacing=30,
    target_timespan=20 * 30,
    subsidy_halving_interval=500,
    pubkey_address_prefix=0x6F,
    script_address_prefix=0xC4,
    wif_prefix=0xEF,
    default_rpc_port=18543,
    default_p2p_port=18544,
    message_start=bytes.fromhex("fa1ec1a5"),  # high bits set: unlikely in text
    genesis_block=create_genesis_block(
        CLASSROOM_GENESIS_MESSAGE,
        # Unspendable by construction: the classroom genesis reward goes to an OP_RETURN.
        op_return_script(b"Lune Academy"),
        time=CLASSROOM_GENESIS_TIME,
        nonce=CLASSROOM_GENESIS_NONCE,
        bits=CLASSROOM_GENESIS_BITS,
    ),
)

NETWORKS: dict[str, NetworkParams] = {p.name: p for p in (REGTEST, CLASSROOM, MAINNET)}


def get_params(name: str) -> NetworkParams:
    """The parameters of the network called `name` ("regtest", "classroom" or "mainnet")."""
    try:
        return NETWORKS[name]
    except KeyError:
        known = ", ".join(sorted(NETWORKS))
        raise ValueError(f"unknown network {name!r}: expected one of {known}") from None
