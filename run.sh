#!/usr/bin/env bash
# Install Zynamo into .venv and run the main job: `zynamo test` with its defaults
# (5 nodes, N=3 R=2 W=2, dvv, the set workload under partitions and kills, about
# 60 s) on a local cluster behind the embedded Toxiproxy (or, with --net kernel, with links
# cut by nftables in per-node network namespaces). Extra arguments go to `zynamo test`.
# The exit code is the verdict's (0 valid, 1 invalid, 2 unknown).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
# Kernel-level partitions (--net kernel) put each node in a network namespace (iproute2's `ip`)
# and cut links with nftables rules (`nft`).
. scripts/debian-packages.sh
need_packages "--net kernel will be refused" nft ip -- nftables iproute2
exec .venv/bin/zynamo test "$@"
