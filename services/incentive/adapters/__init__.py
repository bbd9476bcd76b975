"""The incentive service's edges: the Faust app (topics, tables, agents), gRPC, Kafka."""
