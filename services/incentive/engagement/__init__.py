"""The engagement aggregator: the volume path from telemetry batches to view facts.

Views with dwell are this product's volume. A Faust agent costs a task, a
cross-thread hand-off and a changelog write per record (~2 500 records/s
exactly-once on our machines), so this path is a plain aiokafka loop instead: it
deduplicates a whole fetch in memory and commits the accepted views at full detail
(FactRows on planet.incentive.view-facts.v1), its dedup memory and the input
offsets in ONE Kafka transaction per fetch (see handlers.py).
"""
