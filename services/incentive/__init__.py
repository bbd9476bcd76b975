"""The weekly pool: the incentive model and the deployables around it.

- ``domain/``: the model, a pure library (settlement, allocation, proofs, id map); it imports
  nothing of the deployables.
- ``python -m services.incentive``: a Faust worker whose ``intake/`` folds the owning services'
  events into interaction facts and user / item statuses, whose ``readside/`` projects the
  pool's results for the gRPC API (``adapters/``, ``bootstrap.py``, ``settings.py``).
- ``engagement/`` (``python -m services.incentive.engagement``): the engagement aggregator,
  telemetry → deduplicated view facts, exactly once.
- ``scoring/`` (``python -m services.incentive.scoring``): the one active job that closes ISO
  weeks, settles them from the stored facts, keeps the estimate and records payouts.
- ``reconcile/`` (``make reconcile WEEK=…``): recomputes a settled week in ClickHouse SQL.
"""
