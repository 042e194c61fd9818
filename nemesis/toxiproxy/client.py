"""The nemesis's Toxiproxy client: typed calls to any Toxiproxy 2.x HTTP API (the embedded server
or a real ``toxiproxy-server``), using only the documented API.

Every call has a deadline (``timeout_s``, default 5 s) that bounds connecting, sending and every
read, so a call never hangs, and every failure raises a ``ToxiproxyError`` that names the server
and the request: ``ToxiproxyUnavailable`` (nothing listens there), ``ToxiproxyTimeout`` (no answer
in time), ``ToxiproxyApiError`` (an HTTP error, with the server's own message: ``NotFound``,
``Conflict``, ``BadRequest``). Stdlib only (``http.client``). Does network I/O.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_URL = "http://127.0.0.1:8474"
DEFAULT_TIMEOUT_S = 5.0
USER_AGENT = "zynamo-nemesis-toxiproxy-client/1"


class ToxiproxyError(Exception):
    """Anything that went wrong talking to Toxiproxy; the message names the URL and request."""

    def __init__(self, message: str, *, url: str = "", method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.method = method
        self.path = path


class ToxiproxyUnavailable(ToxiproxyError):
    """No Toxiproxy answers at that address (connection refused, unknown host, network down)."""


class ToxiproxyTimeout(ToxiproxyError):
    """The call did not complete before its deadline."""


class ToxiproxyApiError(ToxiproxyError):
    """Toxiproxy answered with an HTTP error; ``message`` is its ``error`` field."""

    def __init__(self, message: str, *, status: int, url: str, method: str, path: str) -> None:
        super().__init__(
            f"Toxiproxy at {url}: {method} {path} failed with HTTP {status}: {message}",
            url=url,
            method=method,
            path=path,
        )
        self.status = status
        self.message = message


class BadRequest(ToxiproxyApiError):
    """HTTP 400: e.g. a missing field, an invalid stream or toxic type."""


class NotFound(ToxiproxyApiError):
    """HTTP 404: no such proxy or toxic."""


class Conflict(ToxiproxyApiError):
    """HTTP 409: a proxy or toxic with that name already exists."""


_API_ERRORS: dict[int, type[ToxiproxyApiError]] = {400: BadRequest, 404: NotFound, 409: Conflict}


@dataclass(frozen=True)
class ToxicInfo:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: object) -> ToxicInfo:
        obj = _expect(value, dict, "a toxic object")
        return cls(
            name=_expect(obj.get("name"), str, "toxic name"),
            type=_expect(obj.get("type"), str, "toxic type"),
            stream=_expect(obj.get("stream"), str, "toxic stream"),
            toxicity=float(_expect(obj.get("toxicity", 1.0), (int, float), "toxicity")),
            attributes=dict(_expect(obj.get("attributes") or {}, dict, "toxic attributes")),
        )


@dataclass(frozen=True)
class ProxyInfo:
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[ToxicInfo, ...] = ()

    @classmethod
    def from_json(cls, value: object) -> ProxyInfo:
        obj = _expect(value, dict, "a proxy object")
        toxics = _expect(obj.get("toxics") or [], list, "a list of toxics")
        return cls(
            name=_expect(obj.get("name"), str, "proxy name"),
            listen=_expect(obj.get("listen"), str, "proxy listen address"),
            upstream=_expect(obj.get("upstream"), str, "proxy upstream address"),
            enabled=_expect(obj.get("enabled"), bool, "proxy enabled flag"),
            toxics=tuple(ToxicInfo.from_json(toxic) for toxic in toxics),
        )

    @property
    def listen_port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


@dataclass(frozen=True)
class ProxySpec:
    """A proxy to create (``populate``, ``create_proxy``)."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
        }


class _MalformedResponse(Exception):
    pass


def _expect(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
        return value
    raise _MalformedResponse(f"expected {what}, got {value!r}")


def parse_url(url: str) -> tuple[str, int, str]:
    """``http://host:port`` (or ``host:port``) into host, port and the canonical URL."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme != "http":
        raise ValueError(
            f"Toxiproxy URL {url!r}: scheme {parts.scheme!r} is not supported (use http://host:port)"
        )
    if not parts.hostname:
        raise ValueError(f"Toxiproxy URL {url!r} has no host (expected http://host:port)")
    try:
        port = parts.port or 80
    except ValueError:
        raise ValueError(f"Toxiproxy URL {url!r} has an invalid port") from None
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    return host, port, f"http://{shown}:{port}"


class _DeadlineSocket(socket.socket):
    """A socket whose every blocking call ends by the request's deadline."""

    deadline = 0.0

    def _arm(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        self.settimeout(remaining)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return super().recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._arm()
        return super().recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._arm()
        super().sendall(data, flags)


class _DeadlineConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, deadline: float) -> None:
        super().__init__(host, port, timeout=max(deadline - time.monotonic(), 0.001))
        self._deadline = deadline

    def connect(self) -> None:
        last_error: OSError | None = None
        for family, kind, proto, _, address in socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM
        ):
            sock = _DeadlineSocket(family, kind, proto)
            sock.deadline = self._deadline
            try:
                sock._arm()
                sock.connect(address)
            except OSError as err:
                sock.close()
                last_error = err
                if isinstance(err, TimeoutError):
                    raise
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
            return
        raise last_error or OSError(f"cannot resolve {self.host}")


class ToxiproxyClient:
    """Typed calls to a Toxiproxy 2.x server at ``url`` (default ``http://127.0.0.1:8474``)."""

    def __init__(self, url: str = DEFAULT_URL, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.host, self.port, self.url = parse_url(url)
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"ToxiproxyClient({self.url!r}, timeout_s={self.timeout_s})"

    # -- server -----------------------------------------------------------------------------

    def version(self) -> str:
        """The server's version (``/version`` answers JSON since 2.6, plain text before)."""
        _, body = self._request("GET", "/version")
        text = body.decode("utf-8", errors="replace").strip()
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, dict) and isinstance(value.get("version"), str):
            return str(value["version"])
        return text

    def is_available(self) -> bool:
        try:
            self.version()
        except ToxiproxyError:
            return False
        return True

    def wait_until_available(self, timeout_s: float = 10.0) -> str:
        """Poll ``/version`` until the server answers; returns its version."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.version()
            except (ToxiproxyUnavailable, ToxiproxyTimeout):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._request("POST", "/reset")

    # -- proxies ----------------------------------------------------------------------------

    def proxies(self) -> dict[str, ProxyInfo]:
        value = self._json("GET", "/proxies")
        obj = self._parse(value, lambda v: _expect(v, dict, "an object of proxies"), "GET")
        return {name: self._parse(p, ProxyInfo.from_json, "GET") for name, p in obj.items()}

    def create_proxy(
        self, name: str, listen: str, upstream: str, enabled: bool = True
    ) -> ProxyInfo:
        spec = ProxySpec(name, listen, upstream, enabled)
        return self._proxy("POST", "/proxies", spec.to_json())

    def populate(self, proxies: Iterable[ProxySpec | Mapping[str, Any]]) -> list[ProxyInfo]:
        """Create the proxies that are missing, replace those whose address changed, keep the
        rest; returns them in the order given."""
        body = [p.to_json() if isinstance(p, ProxySpec) else dict(p) for p in proxies]
        value = self._json("POST", "/populate", body)
        listed = self._parse(
            value,
            lambda v: _expect(_expect(v, dict, "an object")["proxies"], list, "a list"),
            "POST",
        )
        return [self._parse(p, ProxyInfo.from_json, "POST") for p in listed]

    def get_proxy(self, name: str) -> ProxyInfo:
        return self._proxy("GET", _proxy_path(name))

    def update_proxy(
        self,
        name: str,
        *,
        enabled: bool | None = None,
        listen: str | None = None,
        upstream: str | None = None,
    ) -> ProxyInfo:
        """Change some fields; a new ``listen`` or ``upstream`` drops the proxy's connections.

        Uses ``POST``, which every 2.x server accepts (2.6+ also takes ``PATCH``)."""
        body: dict[str, Any] = {}
        if enabled is not None:
            body["enabled"] = enabled
        if listen is not None:
            body["listen"] = listen
        if upstream is not None:
            body["upstream"] = upstream
        return self._proxy("POST", _proxy_path(name), body)

    def enable_proxy(self, name: str) -> ProxyInfo:
        return self.update_proxy(name, enabled=True)

    def disable_proxy(self, name: str) -> ProxyInfo:
        """Stop listening and close every connection of the proxy."""
        return self.update_proxy(name, enabled=False)

    def delete_proxy(self, name: str) -> None:
        self._request("DELETE", _proxy_path(name))

    # -- toxics -----------------------------------------------------------------------------

    def toxics(self, proxy: str) -> list[ToxicInfo]:
        path = _proxy_path(proxy) + "/toxics"
        value = self._json("GET", path)
        listed = self._parse(value, lambda v: _expect(v, list, "a list of toxics"), "GET")
        return [self._parse(t, ToxicInfo.from_json, "GET") for t in listed]

    def get_toxic(self, proxy: str, name: str) -> ToxicInfo:
        return self._toxic("GET", _toxic_path(proxy, name))

    def add_toxic(
        self,
        proxy: str,
        type: str,
        stream: str = "downstream",
        attributes: Mapping[str, Any] | None = None,
        name: str | None = None,
        toxicity: float = 1.0,
    ) -> ToxicInfo:
        """Add a toxic (named ``<type>_<stream>`` unless ``name`` is given); it applies to the
        proxy's existing connections as well as new ones."""
        body: dict[str, Any] = {
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": dict(attributes or {}),
        }
        if name is not None:
            body["name"] = name
        return self._toxic("POST", _proxy_path(proxy) + "/toxics", body)

    def update_toxic(
        self,
        proxy: str,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        toxicity: float | None = None,
    ) -> ToxicInfo:
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        return self._toxic("POST", _toxic_path(proxy, name), body)

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._request("DELETE", _toxic_path(proxy, name))

    # -- plumbing ---------------------------------------------------------------------------

    def _proxy(self, method: str, path: str, body: object = None) -> ProxyInfo:
        proxy: ProxyInfo = self._parse(
            self._json(method, path, body), ProxyInfo.from_json, method, path
        )
        return proxy

    def _toxic(self, method: str, path: str, body: object = None) -> ToxicInfo:
        toxic: ToxicInfo = self._parse(
            self._json(method, path, body), ToxicInfo.from_json, method, path
        )
        return toxic

    def _parse(self, value: object, parse: Any, method: str, path: str = "") -> Any:
        try:
            return parse(value)
        except (_MalformedResponse, KeyError, TypeError) as err:
            raise ToxiproxyError(
                f"Toxiproxy at {self.url} sent an unexpected response to {method} {path}: {err}",
                url=self.url,
                method=method,
                path=path,
            ) from None

    def _json(self, method: str, path: str, body: object = None) -> Any:
        _, data = self._request(method, path, body)
        try:
            return json.loads(data)
        except ValueError:
            raise ToxiproxyError(
                f"Toxiproxy at {self.url} answered {method} {path} with non-JSON: {data[:200]!r}",
                url=self.url,
                method=method,
                path=path,
            ) from None

    def _request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        deadline = time.monotonic() + self.timeout_s
        payload = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        where = dict(url=self.url, method=method, path=path)
        connection = _DeadlineConnection(self.host, self.port, deadline)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            raise ToxiproxyTimeout(
                f"Toxiproxy at {self.url} did not answer {method} {path} within {self.timeout_s} s",
                **where,
            ) from None
        except (ConnectionRefusedError, socket.gaierror) as err:
            raise ToxiproxyUnavailable(
                f"cannot reach Toxiproxy at {self.url} ({method} {path}): {_describe(err)}; "
                "is the server running? (start one with `zynamo toxiproxy`)",
                **where,
            ) from None
        except (OSError, http.client.HTTPException) as err:
            raise ToxiproxyUnavailable(
                f"Toxiproxy at {self.url} failed during {method} {path}: {_describe(err)}",
                **where,
            ) from None
        finally:
            connection.close()
        if response.status >= 400:
            error_class = _API_ERRORS.get(response.status, ToxiproxyApiError)
            raise error_class(_error_message(data), status=response.status, **where)
        return response.status, data


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err) or type(err).__name__


def _error_message(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text or "(empty body)"
    if isinstance(value, dict):
        for key in ("error", "title"):  # "title" is what Toxiproxy 1.x and early 2.0 said
            if isinstance(value.get(key), str):
                return str(value[key])
    return text


def _proxy_path(name: str) -> str:
    return "/proxies/" + quote(name, safe="")


def _toxic_path(proxy: str, name: str) -> str:
    return _proxy_path(proxy) + "/toxics/" + quote(name, safe="")
