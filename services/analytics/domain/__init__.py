"""Pure translation of Kafka records into analytics rows (no Kafka, gRPC or engine imports)."""
