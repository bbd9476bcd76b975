"""Adapters at the edge of the content service: Kafka and gRPC."""
