"""Adapters at the edge of the content service: Kafka, RocksDB, gRPC and the other replicas."""
