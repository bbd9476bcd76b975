"""The scoring processor: a Faust app that folds per-event domain events into weekly tables."""
