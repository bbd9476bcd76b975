"""The incentive processor's intake, as pure functions: source events in, records out.

- ``interaction_facts``: a content interaction or a social follow → one FactRows (the act).
- ``item_status``: posts, comments and moderation → an item's whole ItemStatus.
- ``user_status``: KYC, identities, sanctions → a user's whole UserStatus.
- ``fee_window``: trade fees → the UserStatus's per-day quote values (trailing window, dedup).
- ``records``: the enveloped records to write, and which topic each goes to.
- ``dispatch``: which fold a record of each source topic goes through, over plain mappings.

No Kafka, Faust or clock here (tests call them with dicts); the Faust agents that feed them are
``services/incentive/adapters/faust_intake.py``.
"""
