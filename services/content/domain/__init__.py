"""The content domain: pure data and rules, no Kafka, gRPC or HTTP."""
