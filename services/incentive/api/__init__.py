"""The incentive gRPC API, served from inside the scoring-processor worker."""
