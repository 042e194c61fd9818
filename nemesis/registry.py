"""The faults a run may use, by name: each registers how it is built, what its start op
carries, what it needs of the environment, and when heal-all undoes it.

A ``Fault`` is a plug-in: ``register_fault(Fault("disk", build=...))`` makes ``disk`` a package
that ``zynamo test --nemesis`` accepts, the schedule starts and stops, the nemesis dispatches
to and heals, without editing any list. The built-in faults (partition, kill, pause, clock,
latency, membership) register themselves the same way, in ``nemesis.faults``, which the
``nemesis`` package imports first: the registry is never read without them.
``fault_names()`` is what error messages list as accepted; ``parse_packages`` reads a run's
``"partition,kill"`` against it. No I/O.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nemesis.base import FaultOp
from nemesis.shapes import check_choice

if TYPE_CHECKING:
    from nemesis.environment import FaultEnvironment
    from nemesis.options import NemesisOptions

NO_FAULTS = "none"
# Names that mean something else where packages are listed.
RESERVED = (NO_FAULTS, "all")


class FaultNemesis(Protocol):
    """One fault's adapter: applies its start and stop ops, and heals what it did."""

    def invoke(self, op: FaultOp) -> dict[str, Any]: ...

    def heal(self) -> None: ...


def _no_start_value(options: NemesisOptions, rng: random.Random) -> dict[str, Any]:
    return {}


def _needs_nothing(env: FaultEnvironment) -> str | None:
    return None


@dataclass(frozen=True)
class Fault:
    """A fault package.

    ``build(env, rng, options)`` makes its adapter (called for every run whose environment
    offers what it ``needs``, chosen or not, so heal-all also undoes what an earlier run left);
    ``start_value(options, rng)`` is what the schedule puts in a ``start-<name>`` op;
    ``needs(env)`` names what the environment lacks for it (None when nothing), for the error;
    heal-all heals adapters in increasing ``heal_order``.
    """

    name: str
    build: Callable[[FaultEnvironment, random.Random, NemesisOptions], FaultNemesis]
    start_value: Callable[[NemesisOptions, random.Random], dict[str, Any]] = _no_start_value
    needs: Callable[[FaultEnvironment], str | None] = _needs_nothing
    heal_order: int = 50


_faults: dict[str, Fault] = {}
_lock = threading.Lock()


def register_fault(fault: Fault, replace: bool = False) -> Fault:
    """Make ``fault`` available by its name; ``ValueError`` if the name is taken (unless
    ``replace``) or unusable."""
    name = fault.name
    if not name or name != name.strip() or "," in name or "+" in name or name in RESERVED:
        raise ValueError(f"fault name {name!r}: give a word without , or +, not none or all")
    with _lock:
        if name in _faults and not replace:
            raise ValueError(f"a fault named {name!r} is already registered")
        _faults[name] = fault
    return fault


def unregister_fault(name: str) -> None:
    """Forget the fault ``name`` (for tests that plug one in); nothing if it is unknown."""
    with _lock:
        _faults.pop(name, None)


def registered_faults() -> tuple[Fault, ...]:
    """Every fault, in registration order (the built-ins first)."""
    with _lock:
        return tuple(_faults.values())


def fault_names() -> tuple[str, ...]:
    """The names of every registered fault: the packages a run accepts."""
    return tuple(fault.name for fault in registered_faults())


def get_fault(name: str) -> Fault:
    """The fault ``name``; ``ValueError`` naming the accepted ones otherwise."""
    for fault in registered_faults():
        if fault.name == name:
            return fault
    raise ValueError(f"no fault {name!r}; accepted: {', '.join(fault_names())}")


def accepted_packages() -> tuple[str, ...]:
    """What a run's nemesis may be made of: ``none``, or registered faults."""
    return (NO_FAULTS, *fault_names())


def parse_packages(value: str | Sequence[str]) -> tuple[str, ...]:
    """Fault packages from ``"partition,kill"`` or a list; ``none`` (or nothing) is no faults."""
    names = value.split(",") if isinstance(value, str) else list(value)
    cleaned = [str(name).strip() for name in names if str(name).strip()]
    accepted = accepted_packages()
    for name in cleaned:
        check_choice("nemesis package", name, accepted)
    if NO_FAULTS in cleaned and len(cleaned) > 1:
        raise ValueError(f"nemesis packages: {NO_FAULTS!r} cannot be combined with others")
    return tuple(dict.fromkeys(name for name in cleaned if name != NO_FAULTS))
