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
. scripts/debian-packages.sh
# The browser tests drive Debian's headless Chromium through its chromedriver (selenium).
need_packages "the browser tests will be skipped" chromium chromedriver -- chromium chromium-driver
# Kernel-level partitions (--net kernel) put each node in a network namespace (iproute2's `ip`)
# and cut links with nftables rules (`nft`).
need_packages "the --net kernel tests will be skipped" nft ip -- nftables iproute2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
if [ "${1:-}" = "--slow" ]; then
    shift
    exec .venv/bin/pytest -m slow "$@"
fi
exec .venv/bin/pytest -n 2 "$@"
