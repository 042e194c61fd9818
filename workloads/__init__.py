"""Generators and clients that drive a cluster and record Jepsen-style histories."""
