"""The scoring job: closes ISO weeks, settles them from the stored facts, keeps the estimate.

``week_inputs`` (facts → the model's input), ``pool_book`` (operations and settled weeks →
each week's pool, policy and carried amounts), ``results`` (the model's result → records) are
pure; ``fact_log`` reads the topics; the job around them is ``job`` / ``bootstrap``.
"""
