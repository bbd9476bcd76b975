"""The aggregator's Kafka edges: the input consumer, the transactional output, the restore."""
