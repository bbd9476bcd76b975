"""The groups service's pure core: rights, state per key, decide and evolve. No I/O, no clock."""
