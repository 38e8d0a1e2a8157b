"""web.credentials — Lune certificates: Open Badges 3.0 credentials, signed, anchored, revocable.

The library the `lune cert` commands, the portal and the course's credentials notebook share. It
imports nothing of Flask. Modules, each following one specification:

* `jsonld` — offline JSON-LD with the shipped contexts, RDFC-1.0 canonicalization;
* `eddsa` — `eddsa-rdfc-2022` Data Integrity proofs (Ed25519);
* `merkle`, `merkleproof2019` — the Merkle tree of a batch and the `merkle-proof-2019` proof;
* `anchor`, `chainsource` — the OP_RETURN transaction on the sandbox chain and reading it back;
* `issuer`, `keystore` — the issuer's public profile (keys, validity windows) and its secret keys;
* `credential` — the `OpenBadgeCredential` builder;
* `statuslist` — the Bitstring Status List (revocation, suspension);
* `verify` — the verifier, step by step.
"""
