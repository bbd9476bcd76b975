"""Simulators of systems outside Planet, for demos, tests and benchmarks."""
