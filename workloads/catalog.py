"""The workloads ``zynamo test --workload`` offers, by name. No I/O."""

from __future__ import annotations

from collections.abc import Callable

from workloads.base import Workload
from workloads.cart import CartWorkload
from workloads.register import RegisterWorkload
from workloads.register_delete import RegisterDeleteWorkload
from workloads.set import SetWorkload

WORKLOADS: dict[str, Callable[[], Workload]] = {
    "set": SetWorkload,
    "register": RegisterWorkload,
    "cart": CartWorkload,
    "register-delete": RegisterDeleteWorkload,
}


def make_workload(name: str) -> Workload:
    """A fresh workload named ``name``; ``ValueError`` naming the accepted ones otherwise."""
    if name not in WORKLOADS:
        raise ValueError(f"workload: {name!r} is not one of {', '.join(WORKLOADS)}")
    return WORKLOADS[name]()
