#!/usr/bin/env bash
# Install what the tests need into .venv, then run ruff, mypy and the test suite.
#   ./test.sh          the default suite (under 10 minutes on 2 cores)
#   ./test.sh --slow   only the long nemesis suites (marked `slow`)
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# The browser tests drive Debian's headless Chromium through its chromedriver (selenium).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq chromium chromium-driver >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
    else
        echo "test.sh: chromium and chromium-driver are missing (apt-get install chromium" \
            "chromium-driver as root); the browser tests will be skipped" >&2
    fi
fi
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
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
if [ "${1:-}" = "--slow" ]; then
    shift
    exec .venv/bin/pytest -m slow "$@"
fi
exec .venv/bin/pytest -n 2 "$@"
