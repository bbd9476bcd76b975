"""Adapters at the edge of the social service: Kafka, RocksDB and gRPC."""
