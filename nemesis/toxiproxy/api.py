"""Toxiproxy 2.x's HTTP API (``api.go``): the same routes, status codes, JSON shapes and error
bodies, served over a ``ProxyCollection``.

Routes: ``GET/POST /proxies``, ``POST /populate``, ``GET/POST/PATCH/DELETE /proxies/{proxy}``,
``GET/POST /proxies/{proxy}/toxics``, ``GET/POST/PATCH/DELETE /proxies/{proxy}/toxics/{toxic}``,
``POST /reset``, ``GET /version``. Unknown paths answer 404 ``404 page not found``, a known path
with another method 405, an unclean path a 301 to the clean one, and browsers (a ``User-Agent``
starting with ``Mozilla/``) 403, all as gorilla/mux and Toxiproxy's middleware do. Requests are
handled one at a time, so each is atomic. No I/O of its own beyond what the proxies do.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from nemesis.toxiproxy import gojson
from nemesis.toxiproxy.collection import ProxyCollection, ProxyFields
from nemesis.toxiproxy.errors import (
    MISSING_FIELD,
    TOXIC_ALREADY_EXISTS,
    TOXIC_NOT_FOUND,
    ApiError,
    bad_request_body,
)
from nemesis.toxiproxy.httpserver import Request, Response
from nemesis.toxiproxy.proxy import Proxy
from nemesis.toxiproxy.toxics import Toxic, decode_attributes, kind_named, parse_direction

# The Toxiproxy release whose API this server speaks, and this implementation (semver build tag).
TOXIPROXY_API_VERSION = "2.12.0"
SERVER_VERSION = f"{TOXIPROXY_API_VERSION}+zynamo"

JSON = "application/json"
PROXY_FIELDS = ("name", "listen", "upstream", "enabled")
TOXIC_FIELDS = ("name", "type", "stream", "toxicity", "attributes")

Route = Callable[[Request, list[str]], Awaitable[Response]]


def json_response(value: object, status: int = HTTPStatus.OK) -> Response:
    return Response(status, gojson.encode(value), JSON)


def error_response(error: ApiError) -> Response:
    return Response(error.status, gojson.encode(error.to_json()) + b"\n", JSON)


def _text(status: int, text: str) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8")


def clean_path(path: str) -> str:
    """gorilla/mux's ``cleanPath``: ``path.Clean``, keeping a trailing slash."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


class ToxiproxyApi:
    """Turns HTTP requests into operations on the proxies."""

    def __init__(self, collection: ProxyCollection) -> None:
        self.collection = collection
        self._lock = asyncio.Lock()
        self._routes: list[tuple[tuple[str, ...], dict[str, Route]]] = [
            (("reset",), {"POST": self.reset}),
            (("version",), {"GET": self.version}),
            (("populate",), {"POST": self.populate}),
            (("proxies",), {"GET": self.proxy_index, "POST": self.proxy_create}),
            (
                ("proxies", "*"),
                {
                    "GET": self.proxy_show,
                    "POST": self.proxy_update,
                    "PATCH": self.proxy_update,
                    "DELETE": self.proxy_delete,
                },
            ),
            (("proxies", "*", "toxics"), {"GET": self.toxic_index, "POST": self.toxic_create}),
            (
                ("proxies", "*", "toxics", "*"),
                {
                    "GET": self.toxic_show,
                    "POST": self.toxic_update,
                    "PATCH": self.toxic_update,
                    "DELETE": self.toxic_delete,
                },
            ),
        ]

    async def handle(self, request: Request) -> Response:
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            return _text(HTTPStatus.FORBIDDEN, "User agent not allowed\n")
        path = request.path
        cleaned = clean_path(path)
        if cleaned != path:
            return Response(HTTPStatus.MOVED_PERMANENTLY, headers=(("Location", cleaned),))
        segments = [unquote(part) for part in path.split("/")[1:]]
        for pattern, methods in self._routes:
            variables = _match(pattern, segments)
            if variables is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                return Response(HTTPStatus.METHOD_NOT_ALLOWED)
            async with self._lock:
                try:
                    return await handler(request, variables)
                except ApiError as err:
                    return error_response(err)
        return _text(HTTPStatus.NOT_FOUND, "404 page not found\n")

    # -- proxies ------------------------------------------------------------------------

    async def proxy_index(self, request: Request, _: list[str]) -> Response:
        return json_response(
            {proxy.name: proxy.to_json() for proxy in self.collection.sorted_proxies()}
        )

    async def proxy_create(self, request: Request, _: list[str]) -> Response:
        obj = gojson.expect_object(gojson.decode_body(request.body), "toxiproxy.Proxy")
        values = _proxy_values(obj, defaults={"name": "", "listen": "", "upstream": ""})
        fields = _required_proxy_fields(values, where="")
        proxy = self.collection.create(fields)
        return json_response(proxy.to_json(), HTTPStatus.CREATED)

    async def populate(self, request: Request, _: list[str]) -> Response:
        try:
            items = self._populate_items(gojson.decode_body(request.body))
            proxies = self.collection.populate(items)
        except ApiError as err:
            body = {**err.to_json(), "proxies": []}
            return json_response(body, err.status)
        return json_response({"proxies": [p.to_json() for p in proxies]}, HTTPStatus.CREATED)

    def _populate_items(self, body: object) -> list[ProxyFields]:
        if not isinstance(body, list):
            raise _bad_type(body, "[]toxiproxy.Proxy")
        items: list[ProxyFields] = []
        for index, element in enumerate(body):
            obj = {} if element is None else gojson.expect_object(element, "toxiproxy.Proxy")
            values = _proxy_values(obj, defaults={"name": "", "listen": "", "upstream": ""})
            items.append(_required_proxy_fields(values, where=f" at proxy {index + 1}"))
        return items

    async def proxy_show(self, request: Request, names: list[str]) -> Response:
        return json_response(self.collection.get(names[0]).to_json())

    async def proxy_update(self, request: Request, names: list[str]) -> Response:
        proxy = self.collection.get(names[0])
        obj = gojson.expect_object(gojson.decode_body(request.body), "toxiproxy.Proxy")
        values = _proxy_values(
            obj,
            defaults={"listen": proxy.listen, "upstream": proxy.upstream, "enabled": proxy.enabled},
        )
        proxy.update(str(values["listen"]), str(values["upstream"]), bool(values["enabled"]))
        return json_response(proxy.to_json())

    async def proxy_delete(self, request: Request, names: list[str]) -> Response:
        self.collection.remove(names[0])
        return Response(HTTPStatus.NO_CONTENT)

    async def reset(self, request: Request, _: list[str]) -> Response:
        self.collection.reset()
        return Response(HTTPStatus.NO_CONTENT)

    async def version(self, request: Request, _: list[str]) -> Response:
        body = f'{{"version": "{SERVER_VERSION}"}}\n'.encode()
        return Response(HTTPStatus.OK, body, "application/json;charset=utf-8")

    # -- toxics -------------------------------------------------------------------------

    async def toxic_index(self, request: Request, names: list[str]) -> Response:
        proxy = self.collection.get(names[0])
        return json_response([toxic.to_json() for toxic in proxy.all_toxics()])

    async def toxic_create(self, request: Request, names: list[str]) -> Response:
        proxy = self.collection.get(names[0])
        toxic = _new_toxic(proxy, gojson.decode_body(request.body))
        proxy.add_toxic(toxic)
        return json_response(toxic.to_json())

    async def toxic_show(self, request: Request, names: list[str]) -> Response:
        return json_response(_existing_toxic(self.collection.get(names[0]), names[1]).to_json())

    async def toxic_update(self, request: Request, names: list[str]) -> Response:
        proxy = self.collection.get(names[0])
        toxic = _existing_toxic(proxy, names[1])
        obj = gojson.expect_object(gojson.decode_body(request.body), "toxics.ToxicWrapper")
        values = gojson.fields(obj, ("attributes", "toxicity"))
        attributes = toxic.attributes
        if "attributes" in values:
            attributes = decode_attributes(toxic.kind, values["attributes"], toxic.attributes)
        toxicity = toxic.toxicity
        if "toxicity" in values:
            toxicity = gojson.as_float32(values["toxicity"], "ToxicWrapper", "toxicity")
        toxic.attributes = attributes
        toxic.toxicity = toxicity
        proxy.toxic_updated(toxic)
        return json_response(toxic.to_json())

    async def toxic_delete(self, request: Request, names: list[str]) -> Response:
        proxy = self.collection.get(names[0])
        proxy.remove_toxic(_existing_toxic(proxy, names[1]))
        return Response(HTTPStatus.NO_CONTENT)


def _match(pattern: tuple[str, ...], segments: list[str]) -> list[str] | None:
    if len(pattern) != len(segments):
        return None
    variables = []
    for expected, actual in zip(pattern, segments, strict=True):
        if expected == "*":
            if not actual:
                return None
            variables.append(actual)
        elif expected != actual:
            return None
    return variables


def _bad_type(value: object, go_type: str) -> ApiError:
    kind = gojson.go_kind(value)
    return bad_request_body(f"json: cannot unmarshal {kind} into Go value of type {go_type}")


def _proxy_values(obj: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"enabled": True, **defaults}
    for name, raw in gojson.fields(obj, PROXY_FIELDS).items():
        if name == "enabled":
            values[name] = gojson.as_bool(raw, "Proxy", name)
        else:
            values[name] = gojson.as_string(raw, "Proxy", name)
    return values


def _required_proxy_fields(values: dict[str, Any], where: str) -> ProxyFields:
    if not values["name"]:
        raise MISSING_FIELD.joined(f"name{where}")
    if not values["upstream"]:
        raise MISSING_FIELD.joined(f"upstream{where}")
    return ProxyFields(
        str(values["name"]), str(values["listen"]), str(values["upstream"]), bool(values["enabled"])
    )


def _new_toxic(proxy: Proxy, body: object) -> Toxic:
    """``ToxicCollection.AddToxicJson``: the same checks in the same order."""
    obj = gojson.expect_object(body, "toxics.ToxicWrapper")
    values = gojson.fields(obj, TOXIC_FIELDS)
    name = gojson.as_string(values.get("name", ""), "ToxicWrapper", "name")
    type_name = gojson.as_string(values.get("type", ""), "ToxicWrapper", "type")
    stream = gojson.as_string(values.get("stream", "downstream"), "ToxicWrapper", "stream")
    toxicity = gojson.as_float32(values.get("toxicity", 1), "ToxicWrapper", "toxicity")
    if "attributes" in values and not isinstance(values["attributes"], dict):
        gojson.expect_object(values["attributes"], "toxics.NoopToxic")
    direction = parse_direction(stream)
    if not name:
        name = f"{type_name}_{stream}"
    kind = kind_named(type_name)
    if proxy.find_toxic(name) is not None:
        raise TOXIC_ALREADY_EXISTS
    attributes = decode_attributes(kind, values.get("attributes", {}), {})
    return Toxic(name, kind, stream, direction, toxicity, attributes)


def _existing_toxic(proxy: Proxy, name: str) -> Toxic:
    toxic = proxy.find_toxic(name)
    if toxic is None:
        raise TOXIC_NOT_FOUND
    return toxic
