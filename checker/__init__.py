"""Pure analysis of histories: readers, linearizability, and the Dynamo checks.

Imports nothing from the other Zynamo packages; the only I/O is reading history files."""
