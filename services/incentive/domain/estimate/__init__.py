"""The running weekly estimate: table values, keys and the PLACEHOLDER score (pure).

Replaced by the weekly-pool issue (it needs per-view facts, not per-consumer sums).
"""
