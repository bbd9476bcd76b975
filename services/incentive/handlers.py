"""Where what each event does lives now (kept so the import contracts' module list holds).

- source events → facts and statuses: ``services/incentive/intake`` (pure folds over plain
  mappings; the Faust agents that feed them are ``adapters/faust_intake.py``);
- the pool's output topics → the read side's tables: ``adapters/faust_readside.py``;
- a week's settlement and the estimate: ``services/incentive/scoring`` (its own deployable).

Nothing here: this module can go once pyproject's import contracts name
``services.incentive.intake`` instead of it.
"""
