"""The aggregator's pure core: folding fetches, dedup memory, placement, snapshot bookkeeping.

Nothing here touches Kafka, the clock or the network: handlers and adapters do.
"""
