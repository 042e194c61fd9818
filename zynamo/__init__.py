"""The command line, the test runner that wires cluster, nemesis, workloads and checker
together, the results store and the reports."""
