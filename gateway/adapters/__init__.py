"""Real backends: gRPC clients and the Kafka producer."""
