"""Faults: the embedded Toxiproxy-compatible server and its client, grudges computed as
data, and the adapters that apply network, process, clock and membership faults."""
