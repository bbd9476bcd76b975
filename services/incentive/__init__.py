"""The incentive service (``python -m services.incentive``) and the incentive model.

- ``domain/``: the model, a pure library (settlement, allocation, proofs) plus the running
  estimate's state (``domain/estimate``); it imports nothing of the deployable.
- the deployable around it: ``handlers.py``, ``adapters/`` (Faust, gRPC, Kafka),
  ``bootstrap.py``, ``settings.py``, ``__main__.py`` on planetkit.runner.
- ``engagement/``: the engagement aggregator, a separate deployable that imports neither.
"""
