"""Weekly-pool incentive model: pure, exact, deterministic; no I/O, no clock, no floats."""
