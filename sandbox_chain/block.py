"""Blocks, block headers and Merkle trees, byte for byte as Bitcoin has them.

Follows Bitcoin Core `primitives/block.h` (the 80-byte `CBlockHeader` and `CBlock`) and
`consensus/merkle.cpp` (`ComputeMerkleRoot` with its `mutated` flag, which detects the
duplicate-subtree ambiguity of CVE-2012-2459). Merkle inclusion proofs are the "Merkle branch"
of the Bitcoin white paper, section 8 (Simplified Payment Verification).

Hashes are kept in *internal* byte order (the order they are serialized in) and shown
byte-reversed, the way Bitcoin Core and block explorers display them (`hash_hex`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .encoding import ByteReader, encode_varint, hash_to_hex
from .hashes import hash256
from .transaction import Transaction

HEADER_SIZE = 80
# A legacy transaction with no inputs and no outputs is 10 bytes (version, two empty counts,
# locktime); nothing shorter can follow a transaction count, so larger counts are refused.
MIN_TRANSACTION_SIZE = 10
ZERO_HASH = bytes(32)


@dataclass
class BlockHeader:
    """The 80 bytes that are hashed for proof of work.

    Serialized in field order, integers little-endian. `prev_hash` and `merkle_root` are in
    internal byte order (the reverse of how they are displayed).
    """

    version: int  # 4 bytes little-endian, signed (int32_t nVersion in Bitcoin Core)
    prev_hash: bytes  # 32 bytes: hash of the previous block's header, internal byte order
    merkle_root: bytes  # 32 bytes: root of the Merkle tree of the block's txids
    time: int  # 4 bytes little-endian, unsigned: seconds since 1970-01-01 UTC
    bits: int  # 4 bytes little-endian: the target in compact form (see pow.bits_to_target)
    nonce: int  # 4 bytes little-endian: what miners vary to find a hash below the target

    def __post_init__(self) -> None:
        if len(self.prev_hash) != 32 or len(self.merkle_root) != 32:
            raise ValueError("prev_hash and merkle_root must be 32 bytes")
        if not -(2**31) <= self.version < 2**31:
            raise ValueError(f"version {self.version} does not fit a signed 32-bit integer")
        for name in ("time", "bits", "nonce"):
            value = getattr(self, name)
            if not 0 <= value < 2**32:
                raise ValueError(f"{name} {value} does not fit an unsigned 32-bit integer")

    @classmethod
    def read(cls, reader: ByteReader) -> BlockHeader:
        """Read an 80-byte header from `reader`."""
        return cls(
            version=int.from_bytes(reader.read(4), "little", signed=True),
            prev_hash=reader.read(32),
            merkle_root=reader.read(32),
            time=reader.read_int(4),
            bits=reader.read_int(4),
            nonce=reader.read_int(4),
        )

    @classmethod
    def parse(cls, data: bytes) -> BlockHeader:
        """Parse exactly 80 bytes; `ParseError` if they are fewer or more."""
        reader = ByteReader(data)
        header = cls.read(reader)
        reader.expect_end("block header")
        return header

    def serialize(self) -> bytes:
        """The 80 bytes of this header."""
        return (
            self.version.to_bytes(4, "little", signed=True)
            + self.prev_hash
            + self.merkle_root
            + self.time.to_bytes(4, "little")
            + self.bits.to_bytes(4, "little")
            + self.nonce.to_bytes(4, "little")
        )

    def hash(self) -> bytes:
        """The block hash: double SHA-256 of the 80 header bytes, internal byte order."""
        return hash256(self.serialize())

    @property
    def hash_hex(self) -> str:
        """The block hash as Bitcoin shows it (byte-reversed hex)."""
        return hash_to_hex(self.hash())


@dataclass
class Block:
    """A header followed by its transactions (a CompactSize count, then each transaction)."""

    header: BlockHeader
    txs: list[Transaction] = field(default_factory=list)

    @classmethod
    def read(cls, reader: ByteReader) -> Block:
        """Read a block from `reader`; `ParseError` on truncation or an impossible count."""
        header = BlockHeader.read(reader)
        count = reader.read_count(MIN_TRANSACTION_SIZE, "transaction")
        txs = [Transaction.read(reader) for _ in range(count)]
        return cls(header, txs)

    @classmethod
    def parse(cls, data: bytes) -> Block:
        """Parse a whole serialized block; `ParseError` on truncation or trailing bytes."""
        reader = ByteReader(data)
        block = cls.read(reader)
        reader.expect_end("block")
        return block

    def serialize(self) -> bytes:
        """Header, transaction count, then each transaction as it serializes itself."""
        parts = [self.header.serialize(), encode_varint(len(self.txs))]
        parts.extend(tx.serialize() for tx in self.txs)
        return b"".join(parts)

    def hash(self) -> bytes:
        """The block hash (that of its header), internal byte order."""
        return self.header.hash()

    @property
    def hash_hex(self) -> str:
        """The block hash as Bitcoin shows it (byte-reversed hex)."""
        return self.header.hash_hex

    def size(self) -> int:
        """Serialized size in bytes."""
        return len(self.serialize())

    def txids(self) -> list[bytes]:
        """The txids of the block's transactions, in block order (internal byte order)."""
        return [tx.txid() for tx in self.txs]

    def compute_merkle_root(self) -> tuple[bytes, bool]:
        """Merkle root of this block's txids and whether the list is CVE-2012-2459-mutated.

        A block whose recomputed root differs from `header.merkle_root` is invalid
        (`bad-txnmrklroot`); one whose root matches but `mutated` is True has a duplicated
        transaction (`bad-txns-duplicate`) and must be rejected *without* marking its header
        invalid, since the honest version of the block has the same header.
        """
        return merkle_root(self.txids())


# --- Merkle trees ---------------------------------------------------------------------------


def merkle_parent(left: bytes, right: bytes) -> bytes:
    """One inner node: double SHA-256 of the two 32-byte children concatenated."""
    return hash256(left + right)


def _parent_level(level: list[bytes]) -> list[bytes]:
    """The level above: an odd count repeats its last hash, then each pair is hashed."""
    if len(level) % 2:
        level = [*level, level[-1]]
    return [merkle_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]


def merkle_root(hashes: Sequence[bytes]) -> tuple[bytes, bool]:
    """Bitcoin's Merkle root of `hashes` (internal byte order) and the `mutated` flag.

    At each level an odd count is made even by repeating the last hash. That rule makes two
    different transaction lists share a root: [a, b, c] and [a, b, c, c] both hash to the same
    value (CVE-2012-2459). Like Bitcoin Core's ComputeMerkleRoot, `mutated` is True when two
    identical hashes sit side by side as a pair at any level — which a list of distinct
    transactions never produces. An empty list gives the all-zero hash.
    """
    level = list(hashes)
    mutated = False
    while len(level) > 1:
        # Compared before padding: the repeated last hash of an odd level is not a mutation.
        if any(level[pos] == level[pos + 1] for pos in range(0, len(level) - 1, 2)):
            mutated = True
        level = _parent_level(level)
    if not level:
        return ZERO_HASH, mutated
    return level[0], mutated


def merkle_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The Merkle branch proving that `hashes[index]` is in the tree: its sibling at each level.

    A light (SPV) client that holds a block header can check a transaction's inclusion with
    these log2(n) hashes instead of the whole block (white paper, section 8). At a level with an
    odd count, the last node's sibling is itself, as in `merkle_root`.
    """
    if not 0 <= index < len(hashes):
        raise IndexError(f"index {index} is outside the {len(hashes)} leaves")
    level = list(hashes)
    branch: list[bytes] = []
    pos = index
    while len(level) > 1:
        sibling = pos ^ 1
        branch.append(level[sibling] if sibling < len(level) else level[pos])
        level = _parent_level(level)
        pos //= 2
    return branch


def merkle_root_from_proof(leaf: bytes, index: int, branch: Sequence[bytes]) -> bytes:
    """Fold a Merkle branch back up to the root it implies (Core's ComputeMerkleRootFromBranch).

    The low bit of `index` at each level says whether our node is the right (1) or left (0)
    child.
    """
    node = leaf
    for sibling in branch:
        node = merkle_parent(sibling, node) if index & 1 else merkle_parent(node, sibling)
        index >>= 1
    return node


def verify_merkle_proof(leaf: bytes, index: int, branch: Sequence[bytes], root: bytes) -> bool:
    """True if `branch` proves that `leaf` sits at position `index` under `root`.

    Rejects malformed proofs (hashes that are not 32 bytes, an index that does not fit the
    branch's depth) rather than letting two different indexes verify the same way. A light
    client should also know the tree's depth (from the block's transaction count): a 64-byte
    "transaction" has the shape of two concatenated inner nodes, which is one reason Bitcoin
    Core will not relay transactions that small.
    """
    if len(leaf) != 32 or len(root) != 32 or any(len(h) != 32 for h in branch):
        return False
    if not 0 <= index < (1 << len(branch)):
        return False
    return merkle_root_from_proof(leaf, index, branch) == root
