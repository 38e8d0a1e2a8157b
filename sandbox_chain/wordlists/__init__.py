"""BIP-39 word lists (data files; see README.md here for their provenance)."""
