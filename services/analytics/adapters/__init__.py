"""Kafka, engine and gRPC edges of the analytics sink."""
