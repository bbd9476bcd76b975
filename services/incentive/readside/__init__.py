"""The incentive read side: pure projections of the pool's output topics into key-value
tables, and the queries the IncentiveService answers from them.

Every function here takes the tables as plain ``MutableMapping[str, bytes]`` (Faust tables in
the service, dicts in tests) and protobuf values; nothing here knows Kafka, Faust or gRPC.
Every ``apply_*`` is idempotent: applying the same record twice changes nothing, and it
returns False when it changed nothing.
"""
