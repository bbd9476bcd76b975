"""The groups service's edges: store, event log, gRPC, social."""
