"""The analytics sink: every enveloped topic into the analytics store, and read-only SQL."""
