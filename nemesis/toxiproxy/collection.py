"""The set of proxies of one server, and the operations that change it as a whole: create, delete,
populate (create-or-replace a list, all or nothing) and reset (every proxy enabled, every toxic
removed). Mirrors Toxiproxy's ``proxy_collection.go``. Does network I/O through the proxies.
"""

from __future__ import annotations

import contextlib
import random
import socket
from dataclasses import dataclass
from http import HTTPStatus

from nemesis.toxiproxy.addresses import AddressError, bind_listener, normalized, resolve
from nemesis.toxiproxy.errors import (
    PROXY_ALREADY_EXISTS,
    PROXY_NOT_FOUND,
    ApiError,
    ProxyAlreadyStarted,
    internal_error,
)
from nemesis.toxiproxy.proxy import Proxy


@dataclass(frozen=True)
class ProxyFields:
    """A proxy as a request describes it."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True


@dataclass
class _PopulatePlan:
    fields: ProxyFields
    existing: Proxy | None
    keep: bool
    bound: tuple[socket.socket, str] | None = None


class ProxyCollection:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.proxies: dict[str, Proxy] = {}

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise PROXY_NOT_FOUND from None

    def sorted_proxies(self) -> list[Proxy]:
        return [self.proxies[name] for name in sorted(self.proxies)]

    def create(self, fields: ProxyFields) -> Proxy:
        if fields.name in self.proxies:
            raise PROXY_ALREADY_EXISTS
        proxy = Proxy(fields.name, fields.listen, fields.upstream, self.rng)
        if fields.enabled:
            proxy.start()
        self.proxies[fields.name] = proxy
        return proxy

    def remove(self, name: str) -> None:
        proxy = self.get(name)
        proxy.stop()
        del self.proxies[name]

    def populate(self, items: list[ProxyFields]) -> list[Proxy]:
        """Create the proxies that do not exist, replace those whose ``listen`` or ``upstream``
        changed, keep the others (with their toxics). Every new listener is bound before anything
        changes, so a failure (e.g. a port in use) leaves the collection as it was."""
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                raise ApiError(f'duplicate proxy name "{item.name}"', HTTPStatus.BAD_REQUEST)
            seen.add(item.name)
        plans = []
        for item in items:
            existing = self.proxies.get(item.name)
            keep = existing is not None and not _differs(existing, item)
            plans.append(_PopulatePlan(item, existing, keep))
        self._reserve_listeners(plans)
        result: list[Proxy] = []
        for plan in plans:
            if plan.keep and plan.existing is not None:
                result.append(plan.existing)
                continue
            if plan.existing is not None:
                plan.existing.stop()
            item = plan.fields
            proxy = Proxy(item.name, item.listen, item.upstream, self.rng)
            self.proxies[item.name] = proxy
            if item.enabled:
                proxy.start(plan.bound)
            result.append(proxy)
        return result

    def _reserve_listeners(self, plans: list[_PopulatePlan]) -> None:
        reserved: list[socket.socket] = []
        try:
            for plan in plans:
                if plan.keep or not plan.fields.enabled:
                    continue
                existing = plan.existing
                if (
                    existing is not None
                    and existing.enabled
                    and normalized(existing.listen) == normalized(plan.fields.listen)
                ):
                    continue  # rebound after the old proxy lets the address go
                try:
                    resolve(plan.fields.listen)
                except AddressError as err:
                    raise internal_error(f'proxy "{plan.fields.name}": {err}') from None
                try:
                    plan.bound = bind_listener(plan.fields.listen)
                except AddressError as err:
                    raise internal_error(str(err)) from None
                reserved.append(plan.bound[0])
        except BaseException:
            for sock in reserved:
                sock.close()
            raise

    def reset(self) -> None:
        """Enable every proxy and remove every toxic (``POST /reset``)."""
        for proxy in list(self.proxies.values()):
            with contextlib.suppress(ProxyAlreadyStarted):
                proxy.start()
            proxy.reset_toxics()

    def close_all(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies.clear()


def _differs(existing: Proxy, wanted: ProxyFields) -> bool:
    """Toxiproxy's ``Proxy.Differs``: another listen address (once resolved) or upstream."""
    return (
        normalized(existing.listen) != normalized(wanted.listen)
        or existing.upstream != wanted.upstream
    )
