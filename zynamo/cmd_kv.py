"""`zynamo kv get|put|delete`: talk to the local cluster recorded in a directory.

``get`` prints every sibling (as JSON, one per line) and the context to write back; ``put``
stores a value (a JSON string unless ``--json`` parses it) with an optional context; ``delete``
writes a tombstone over the versions a context covers. The coordinator is ``--node`` or a
running node chosen at random; a node that cannot even be reached (the request was never
sent) is skipped for the next. Errors print whether the outcome is definite (nothing was
written: exit 1) or indefinite (it may have been: exit 2). Does network and file I/O.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cluster.net import Client, ClientError, GetResult, PutResult
from zynamo.cli import EXIT_INVALID, EXIT_UNKNOWN, ArgumentParser, UsageError
from zynamo.cmd_cluster import load_cluster, non_negative_int, positive_int

T = TypeVar("T")

# Exit codes of a failed request, after Jepsen's: 1 it certainly did not happen, 2 unknown.
EXIT_DEFINITE = EXIT_INVALID
EXIT_INDEFINITE = EXIT_UNKNOWN


def _candidates(args: argparse.Namespace, client: Client, running: list[str]) -> list[str]:
    """The nodes to try as coordinator, in order."""
    if args.node is not None:
        if args.node not in client.endpoints:
            known = ", ".join(sorted(client.endpoints))
            raise UsageError(f"--node {args.node!r}: not in the cluster ({known})")
        return [args.node]
    if not running:
        raise UsageError(f"--dir {args.dir}: no node of the cluster is running")
    order = list(running)
    client.rng.shuffle(order)
    return order


def _run(args: argparse.Namespace, request: Callable[[Client, str], T]) -> T | int:
    """Send ``request`` to the first coordinator that takes it; report a failure and return
    its exit code."""
    cluster = load_cluster(args.dir)
    running = [n for n in cluster.nodes if cluster.is_running(n) and not cluster.is_paused(n)]
    with Client(cluster.endpoints, timeout_ms=args.timeout_ms, rng=random.Random(args.seed)) as c:
        error: ClientError | None = None
        for node in _candidates(args, c, running):
            try:
                return request(c, node)
            except ClientError as err:
                error = err
                if err.sent:
                    break  # the request reached a coordinator: never resend it elsewhere
        assert error is not None
        kind = "definite" if error.definite else "indefinite"
        print(f"error ({kind}): {error.node}: {error.message}", file=sys.stderr)
        return EXIT_DEFINITE if error.definite else EXIT_INDEFINITE


def _seen_by(result: GetResult | PutResult) -> str:
    fallbacks = f", fallbacks {' '.join(result.fallbacks)}" if result.fallbacks else ""
    return f"coordinator {result.coordinator}, replicas {' '.join(result.replicas)}{fallbacks}"


def get(args: argparse.Namespace) -> int:
    result = _run(args, lambda c, node: c.get(args.key, r=args.r, pr=args.pr, node=node))
    if isinstance(result, int):
        return result
    if result.found:
        for value in result.values:
            print(json.dumps(value))
    else:
        print("(not found)")
    print(f"context: {result.context}")
    print(_seen_by(result))
    return 0


def _parse_value(args: argparse.Namespace) -> Any:
    if not args.json:
        return args.value
    try:
        return json.loads(args.value)
    except ValueError as err:
        raise UsageError(f"VALUE {args.value!r} is not JSON (--json): {err}") from None


def put(args: argparse.Namespace) -> int:
    value = _parse_value(args)
    if value is None:
        raise UsageError("VALUE: null is a tombstone; use `zynamo kv delete` to delete")
    result = _run(
        args,
        lambda c, node: c.put(
            args.key, value, context=args.context, w=args.w, pw=args.pw, node=node
        ),
    )
    if isinstance(result, int):
        return result
    print(f"ok: version {json.dumps(result.version, sort_keys=True)}")
    print(_seen_by(result))
    return 0


def delete(args: argparse.Namespace) -> int:
    result = _run(
        args,
        lambda c, node: c.delete(args.key, context=args.context, w=args.w, pw=args.pw, node=node),
    )
    if isinstance(result, int):
        return result
    print(f"deleted: tombstone version {json.dumps(result.version, sort_keys=True)}")
    print(_seen_by(result))
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, required=True, help="the cluster's directory")
    parser.add_argument("key", metavar="KEY")
    parser.add_argument("--node", default=None, help="coordinator (default: a running node)")
    parser.add_argument(
        "--timeout-ms", type=positive_int, default=1000, help="request timeout (default 1000)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the coordinator choice")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("kv", help="get, put and delete keys on a local cluster")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=ArgumentParser)
    actions.required = True

    p = actions.add_parser("get", help="print every sibling of KEY and its context")
    _common(p)
    p.add_argument("--r", type=positive_int, default=None, help="read quorum for this request")
    p.add_argument("--pr", type=non_negative_int, default=None, help="primaries that must answer")
    p.set_defaults(handler=get)

    p = actions.add_parser("put", help="store VALUE under KEY")
    _common(p)
    p.add_argument("value", metavar="VALUE")
    p.add_argument("--context", default="", help="the context a get printed (default: none)")
    p.add_argument("--json", action="store_true", help="parse VALUE as JSON (default: a string)")
    p.add_argument("--w", type=positive_int, default=None, help="write quorum for this request")
    p.add_argument("--pw", type=non_negative_int, default=None, help="primaries that must ack")
    p.set_defaults(handler=put)

    p = actions.add_parser("delete", help="delete KEY (a tombstone over what CONTEXT covers)")
    _common(p)
    p.add_argument("--context", required=True, help="the context a get printed")
    p.add_argument("--w", type=positive_int, default=None, help="write quorum for this request")
    p.add_argument("--pw", type=non_negative_int, default=None, help="primaries that must ack")
    p.set_defaults(handler=delete)
