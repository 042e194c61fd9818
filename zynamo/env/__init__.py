"""Environments the runner can run a test in: ``base`` (the interface), ``real`` (local node
processes behind Toxiproxy) and ``memory`` (a no-op, in-process stand-in for tests)."""
