"""Reconciliation of a settled week: an independent recomputation in ClickHouse SQL.

``python -m services.incentive.reconcile --week 2026-W48`` (``make reconcile WEEK=...``) reads
the week's close, settlement, facts up to the cut, statuses and creator results from Kafka
(read_committed), loads the raw rows into ClickHouse (chdb in a temporary directory, or the
server at CLICKHOUSE_URL), recomputes stage 1 (counted points per (consumer, creator) and
every discount) in SQL, compares it with the model's stage 1 on the settlement's own input,
and checks the records: amounts add up, every Merkle proof verifies. Exit 0: no difference;
1: differences (one line each); 2: the week cannot be reconciled (one line: unknown or not
settled, a topic missing); 3: the job could not run (broker, engine).
"""
