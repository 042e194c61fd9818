"""The Dynamo node: ring, versions, quorum logic, the sans-IO node core and its shells
(ZeroMQ server and deterministic simulator), storage, the client and local clusters."""
