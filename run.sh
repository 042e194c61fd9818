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
# and cut links with nftables rules (`nft`): install them when running as root and missing.
has() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
if ! has nft || ! has ip; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq nftables iproute2 >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq nftables iproute2 >/dev/null; }
    else
        echo "$(basename "$0"): nft or ip is missing (apt-get install nftables iproute2 as" \
            "root); --net kernel will be refused and its tests skipped" >&2
    fi
fi
exec .venv/bin/zynamo test "$@"
