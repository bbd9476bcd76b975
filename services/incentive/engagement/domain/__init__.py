"""The aggregator's pure core: a fetch's accepted views, their fact records, dedup memory,
placement, snapshot bookkeeping.

Nothing here touches Kafka, the clock or the network: handlers and adapters do.
"""
