"""The embedded Toxiproxy's HTTP API, mirroring Toxiproxy's own ``api_test.go``: driven through
the real ``toxiproxy-python`` client wherever it has the call, and plain HTTP (``requests``) for
the rest (``/populate``, PATCH, exact status codes and bodies)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
import toxiproxy.exceptions as toxiproxy_errors
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer

from nemesis.toxiproxy import EmbeddedToxiproxy
from nemesis.toxiproxy.testing import free_port, is_listening, read_until_closed

UPSTREAM = "localhost:20001"  # nothing needs to listen there for API tests


@pytest.fixture
def server() -> Iterator[EmbeddedToxiproxy]:
    with EmbeddedToxiproxy() as embedded:
        yield embedded


@pytest.fixture
def client(server: EmbeddedToxiproxy) -> Iterator[Toxiproxy]:
    """The real Python client, pointed at this test's server (it keeps its address globally)."""
    saved = (APIConsumer.host, APIConsumer.port)
    APIConsumer.host, APIConsumer.port = server.host, server.port
    try:
        yield Toxiproxy()
    finally:
        APIConsumer.host, APIConsumer.port = saved


def api(server: EmbeddedToxiproxy, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, server.url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def error_of(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    assert body["status"] == response.status_code
    return response.status_code, body["error"]


# -- proxies ----------------------------------------------------------------------------------


def test_index_with_no_proxies(client: Toxiproxy) -> None:
    assert client.proxies() == {}


def test_create_proxy_blank_name_is_rejected(server: EmbeddedToxiproxy) -> None:
    response = api(server, "POST", "/proxies", json={"name": "", "upstream": ""})
    assert error_of(response) == (400, "missing required field: name")


def test_create_proxy_blank_upstream_is_rejected(client: Toxiproxy) -> None:
    with pytest.raises(toxiproxy_errors.InvalidToxic) as raised:  # the client's name for any 400
        client.create(upstream="", name="test")
    assert b"missing required field: upstream" in raised.value.args[0]


def test_listing_proxies_shows_the_resolved_listen_address(client: Toxiproxy) -> None:
    port = free_port()
    client.create(upstream=UPSTREAM, name="mysql_master", listen=f"localhost:{port}")
    proxies = client.proxies()
    assert list(proxies) == ["mysql_master"]
    proxy = proxies["mysql_master"]
    assert (proxy.name, proxy.listen, proxy.upstream, proxy.enabled) == (
        "mysql_master",
        f"127.0.0.1:{port}",
        UPSTREAM,
        True,
    )
    assert proxy.toxics() == {}


def test_create_and_get_proxy(client: Toxiproxy) -> None:
    created = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy = client.get_proxy("mysql_master")
    assert proxy is not None
    assert proxy.listen == created.listen
    assert proxy.listen.startswith("127.0.0.1:") and not proxy.listen.endswith(":0")
    assert is_listening(proxy.listen)


def test_proxy_json_has_toxiproxys_shape(server: EmbeddedToxiproxy) -> None:
    response = api(
        server,
        "POST",
        "/proxies",
        json={"name": "p", "listen": "127.0.0.1:0", "upstream": UPSTREAM},
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    proxy = response.json()
    assert list(proxy) == ["name", "listen", "upstream", "enabled", "toxics"]
    assert proxy["toxics"] == [] and proxy["enabled"] is True
    shown = api(server, "GET", "/proxies/p")
    assert shown.status_code == 200 and shown.json() == proxy


def test_create_disabled_proxy_keeps_its_address_unresolved_and_does_not_listen(
    client: Toxiproxy,
) -> None:
    port = free_port()
    client.create(upstream=UPSTREAM, name="mysql_master", listen=f"localhost:{port}", enabled=False)
    proxy = client.get_proxy("mysql_master")
    assert proxy is not None
    assert (proxy.listen, proxy.enabled) == (f"localhost:{port}", False)
    assert not is_listening(f"127.0.0.1:{port}")


def test_create_disabled_proxy_then_enable_and_disable(client: Toxiproxy) -> None:
    port = free_port()
    proxy = client.create(
        upstream=UPSTREAM, name="mysql_master", listen=f"localhost:{port}", enabled=False
    )
    proxy.enable()
    assert is_listening(f"127.0.0.1:{port}")
    assert client.get_proxy("mysql_master").enabled is True
    proxy.disable()
    assert not is_listening(f"127.0.0.1:{port}")
    assert client.get_proxy("mysql_master").enabled is False


def test_delete_proxy(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    assert is_listening(proxy.listen)
    assert client.destroy(proxy) is True
    assert not is_listening(proxy.listen)
    assert client.proxies() == {}
    with pytest.raises(toxiproxy_errors.NotFound) as raised:
        proxy.destroy()
    assert b"proxy not found" in raised.value.args[0]


def test_create_proxy_port_conflict(server: EmbeddedToxiproxy) -> None:
    port = free_port()
    first = {"name": "mysql_master", "listen": f"localhost:{port}", "upstream": UPSTREAM}
    assert api(server, "POST", "/proxies", json=first).status_code == 201
    second = {**first, "name": "test"}
    response = api(server, "POST", "/proxies", json=second)
    assert error_of(response) == (
        500,
        f"listen tcp 127.0.0.1:{port}: bind: address already in use",
    )
    assert "test" not in api(server, "GET", "/proxies").json()
    assert api(server, "DELETE", "/proxies/mysql_master").status_code == 204
    assert api(server, "POST", "/proxies", json=second).status_code == 201


def test_create_proxy_name_conflict(server: EmbeddedToxiproxy, client: Toxiproxy) -> None:
    body = {"name": "mysql_master", "listen": "127.0.0.1:0", "upstream": UPSTREAM}
    assert api(server, "POST", "/proxies", json=body).status_code == 201
    assert error_of(api(server, "POST", "/proxies", json=body)) == (409, "proxy already exists")
    with pytest.raises(toxiproxy_errors.ProxyExists):
        client.create(upstream=UPSTREAM, name="mysql_master")


def test_unknown_proxy_is_404_everywhere(server: EmbeddedToxiproxy) -> None:
    for method, path in [
        ("GET", "/proxies/nope"),
        ("POST", "/proxies/nope"),
        ("PATCH", "/proxies/nope"),
        ("DELETE", "/proxies/nope"),
        ("GET", "/proxies/nope/toxics"),
        ("POST", "/proxies/nope/toxics"),
        ("GET", "/proxies/nope/toxics/t"),
        ("DELETE", "/proxies/nope/toxics/t"),
    ]:
        response = api(server, method, path, json={})
        assert error_of(response) == (404, "proxy not found"), (method, path)
        assert response.text.endswith("\n")


def test_update_proxy_with_patch_moves_the_listener(server: EmbeddedToxiproxy) -> None:
    body = {"name": "p", "listen": "127.0.0.1:0", "upstream": UPSTREAM}
    old = api(server, "POST", "/proxies", json=body).json()["listen"]
    new_port = free_port()
    response = api(server, "PATCH", "/proxies/p", json={"listen": f"127.0.0.1:{new_port}"})
    assert response.status_code == 200
    assert response.json()["listen"] == f"127.0.0.1:{new_port}"
    assert is_listening(f"127.0.0.1:{new_port}") and not is_listening(old)
    response = api(server, "POST", "/proxies/p", json={"upstream": "localhost:20002"})
    assert response.json()["upstream"] == "localhost:20002"
    assert response.json()["listen"] == f"127.0.0.1:{new_port}"


def test_listen_port_zero_is_replaced_by_the_real_port(server: EmbeddedToxiproxy) -> None:
    body = {"name": "p", "listen": "127.0.0.1:0", "upstream": UPSTREAM}
    listen = api(server, "POST", "/proxies", json=body).json()["listen"]
    host, port = listen.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert api(server, "GET", "/proxies").json()["p"]["listen"] == listen


# -- populate ---------------------------------------------------------------------------------


def populate(server: EmbeddedToxiproxy, proxies: object) -> requests.Response:
    return api(server, "POST", "/populate", json=proxies)


def test_populate_creates_proxies(server: EmbeddedToxiproxy) -> None:
    ports = [free_port(), free_port()]
    response = populate(
        server,
        [
            {"name": "one", "listen": f"localhost:{ports[0]}", "upstream": "localhost:7171"},
            {"name": "two", "listen": f"localhost:{ports[1]}", "upstream": "localhost:7474"},
        ],
    )
    assert response.status_code == 201
    proxies = response.json()["proxies"]
    assert [p["name"] for p in proxies] == ["one", "two"]
    assert [p["listen"] for p in proxies] == [f"127.0.0.1:{port}" for port in ports]
    assert all(is_listening(p["listen"]) for p in proxies)


def test_populate_defaults_to_enabled_and_respects_disabled(server: EmbeddedToxiproxy) -> None:
    ports = [free_port(), free_port()]
    response = populate(
        server,
        [
            {"name": "one", "listen": f"127.0.0.1:{ports[0]}", "upstream": "x:1", "enabled": False},
            {"name": "two", "listen": f"127.0.0.1:{ports[1]}", "upstream": "x:2"},
        ],
    )
    assert response.status_code == 201
    assert [p["enabled"] for p in response.json()["proxies"]] == [False, True]
    assert not is_listening(f"127.0.0.1:{ports[0]}")
    assert is_listening(f"127.0.0.1:{ports[1]}")


def test_populate_keeps_an_unchanged_proxy_and_replaces_a_changed_one(
    server: EmbeddedToxiproxy,
) -> None:
    one, two, three = free_port(), free_port(), free_port()
    api(
        server,
        "POST",
        "/proxies",
        json={"name": "one", "listen": f"localhost:{one}", "upstream": "u:1"},
    )
    api(
        server,
        "POST",
        "/proxies",
        json={"name": "two", "listen": f"localhost:{two}", "upstream": "u:2"},
    )
    toxic = api(server, "POST", "/proxies/one/toxics", json={"type": "latency"})
    assert toxic.status_code == 200
    response = populate(
        server,
        [
            {"name": "one", "listen": f"127.0.0.1:{one}", "upstream": "u:1"},
            {"name": "two", "listen": f"127.0.0.1:{three}", "upstream": "u:3"},
        ],
    )
    assert response.status_code == 201
    proxies = response.json()["proxies"]
    assert [p["listen"] for p in proxies] == [f"127.0.0.1:{one}", f"127.0.0.1:{three}"]
    assert [t["name"] for t in proxies[0]["toxics"]] == ["latency_downstream"]  # not replaced
    assert is_listening(f"127.0.0.1:{three}") and not is_listening(f"127.0.0.1:{two}")


def test_populate_with_a_missing_name_creates_nothing(server: EmbeddedToxiproxy) -> None:
    response = populate(
        server,
        [
            {"name": "one", "listen": "127.0.0.1:0", "upstream": "localhost:7171"},
            {"name": "", "listen": ""},
        ],
    )
    assert error_of(response) == (400, "missing required field: name at proxy 2")
    assert response.json()["proxies"] == []
    assert api(server, "GET", "/proxies").json() == {}


def test_populate_with_a_bad_address_creates_nothing(server: EmbeddedToxiproxy) -> None:
    response = populate(
        server,
        [
            {"name": "one", "listen": "127.0.0.1:0", "upstream": "localhost:7171"},
            {"name": "two", "listen": "local373", "upstream": "localhost:7474"},
        ],
    )
    assert response.status_code >= 400
    assert "missing port in address" in response.json()["error"]
    assert api(server, "GET", "/proxies").json() == {}


def test_populate_that_fails_to_bind_leaves_existing_proxies_alone(
    server: EmbeddedToxiproxy,
) -> None:
    taken = api(
        server, "POST", "/proxies", json={"name": "a", "listen": "127.0.0.1:0", "upstream": "u:1"}
    ).json()["listen"]
    response = populate(
        server,
        [
            {"name": "a", "listen": "127.0.0.1:0", "upstream": "u:9"},
            {"name": "b", "listen": taken, "upstream": "u:2"},
        ],
    )
    assert error_of(response)[0] == 500
    assert list(api(server, "GET", "/proxies").json()) == ["a"]
    assert api(server, "GET", "/proxies/a").json()["upstream"] == "u:1"
    assert is_listening(taken)


def test_python_clients_populate_and_destroy_all(client: Toxiproxy) -> None:
    """toxiproxy-python's own populate (create what is missing or changed) and destroy_all."""
    wanted = [
        {"name": "one", "listen": "127.0.0.1:0", "upstream": "localhost:7171"},
        {"name": "two", "listen": "127.0.0.1:0", "upstream": "localhost:7474"},
    ]
    created = client.populate(wanted)
    assert sorted(p.name for p in created) == ["one", "two"]
    assert all(is_listening(p.listen) for p in created)
    existing = client.proxies()
    again = [
        {**wanted[0], "listen": existing["one"].listen},  # unchanged: left alone
        {**wanted[1], "listen": existing["two"].listen, "upstream": "localhost:7575"},
    ]
    recreated = client.populate(again)
    assert [p.name for p in recreated] == ["two"]
    assert client.get_proxy("two").upstream == "localhost:7575"
    client.destroy_all()
    assert client.proxies() == {}


def test_populate_rejects_a_body_that_is_not_a_list(server: EmbeddedToxiproxy) -> None:
    status, message = error_of(populate(server, {"name": "x"}))
    assert status == 400 and message.startswith("bad request body:")


# -- reset ------------------------------------------------------------------------------------


def test_reset_enables_proxies_and_removes_toxics(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy.add_toxic(type="latency", stream="downstream", attributes={"latency": 100, "jitter": 10})
    proxy.disable()
    assert not is_listening(proxy.listen)
    assert client.reset() is True
    reset = client.get_proxy("mysql_master")
    assert reset is not None and reset.enabled is True
    assert reset.toxics() == {}
    assert is_listening(reset.listen)


# -- toxics -----------------------------------------------------------------------------------


def test_listing_toxics_of_a_new_proxy(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    assert proxy.toxics() == {}


def test_add_toxic_and_read_it_back(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy.add_toxic(
        name="foobar",
        type="latency",
        stream="downstream",
        attributes={"latency": 100, "jitter": 10},
    )
    toxic = proxy.get_toxic("foobar")
    assert toxic is not None
    assert (toxic.type, toxic.stream, toxic.toxicity) == ("latency", "downstream", 1)
    assert toxic.attributes == {"latency": 100, "jitter": 10}


def test_toxic_json_has_toxiproxys_shape(server: EmbeddedToxiproxy) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    response = api(
        server, "POST", "/proxies/p/toxics", json={"type": "latency", "attributes": {"latency": 5}}
    )
    assert response.status_code == 200
    assert response.json() == {
        "attributes": {"latency": 5, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }
    assert list(response.json()) == ["attributes", "name", "type", "stream", "toxicity"]
    shown = api(server, "GET", "/proxies/p/toxics/latency_downstream")
    assert shown.status_code == 200 and shown.json() == response.json()
    assert api(server, "GET", "/proxies/p").json()["toxics"] == [response.json()]


@pytest.mark.parametrize(
    ("type_name", "attributes"),
    [
        ("latency", {"latency": 0, "jitter": 0}),
        ("bandwidth", {"rate": 0}),
        ("slow_close", {"delay": 0}),
        ("timeout", {"timeout": 0}),
        ("reset_peer", {"timeout": 0}),
        ("slicer", {"average_size": 0, "size_variation": 0, "delay": 0}),
        ("limit_data", {"bytes": 0}),
        ("noop", {}),
    ],
)
def test_every_toxic_type_shows_all_its_attributes(
    server: EmbeddedToxiproxy, type_name: str, attributes: dict[str, int]
) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    response = api(server, "POST", "/proxies/p/toxics", json={"type": type_name})
    assert response.status_code == 200
    assert response.json()["attributes"] == attributes


def test_add_multiple_toxics(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy.add_toxic(name="latency1", type="latency", stream="downstream")
    proxy.add_toxic(name="latency2", type="latency", stream="downstream")
    toxics = proxy.toxics()
    assert sorted(toxics) == ["latency1", "latency2"]
    assert all(t.stream == "downstream" and t.type == "latency" for t in toxics.values())


def test_add_conflicting_toxic(server: EmbeddedToxiproxy, client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy.add_toxic(name="foobar", type="latency", stream="downstream")
    with pytest.raises(toxiproxy_errors.ProxyExists) as raised:
        proxy.add_toxic(name="foobar", type="slow_close", stream="downstream")
    assert b"toxic already exists" in raised.value.args[0]
    # Names are unique across both streams of a proxy.
    response = api(
        server,
        "POST",
        "/proxies/mysql_master/toxics",
        json={"name": "foobar", "type": "latency", "stream": "upstream"},
    )
    assert error_of(response) == (409, "toxic already exists")
    toxic = proxy.get_toxic("foobar")
    assert toxic is not None and (toxic.type, toxic.stream) == ("latency", "downstream")


def test_default_toxic_names_are_type_and_stream(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy.add_toxic(type="latency", stream="upstream")
    proxy.add_toxic(type="latency", stream="downstream")
    toxics = proxy.toxics()
    assert toxics["latency_upstream"].stream == "upstream"
    assert toxics["latency_downstream"].stream == "downstream"


def test_toxics_are_listed_upstream_first(server: EmbeddedToxiproxy) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    for name, stream in [("d1", "downstream"), ("u1", "upstream"), ("d2", "downstream")]:
        body = {"name": name, "type": "noop", "stream": stream}
        api(server, "POST", "/proxies/p/toxics", json=body)
    listed = api(server, "GET", "/proxies/p/toxics").json()
    assert [t["name"] for t in listed] == ["u1", "d1", "d2"]


def test_add_toxic_with_toxicity(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy.add_toxic(type="latency", toxicity=0.2, attributes={"latency": 100, "jitter": 10})
    toxic = proxy.toxics()["latency_downstream"]
    assert toxic.toxicity == pytest.approx(0.2)
    assert toxic.attributes == {"latency": 100, "jitter": 10}


def test_add_noop_defaults_to_downstream(server: EmbeddedToxiproxy) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    response = api(server, "POST", "/proxies/p/toxics", json={"name": "foobar", "type": "noop"})
    body = response.json()
    assert (body["name"], body["type"], body["stream"], body["toxicity"]) == (
        "foobar",
        "noop",
        "downstream",
        1,
    )


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_toxic_merges_attributes(server: EmbeddedToxiproxy, method: str) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    body = {"type": "latency", "attributes": {"latency": 100, "jitter": 10}}
    api(server, "POST", "/proxies/p/toxics", json=body)
    path = "/proxies/p/toxics/latency_downstream"
    updated = api(server, method, path, json={"toxicity": 0.5, "attributes": {"latency": 1000}})
    assert updated.status_code == 200
    assert updated.json()["toxicity"] == 0.5
    assert updated.json()["attributes"] == {"latency": 1000, "jitter": 10}
    again = api(server, method, path, json={"attributes": {"latency": 500}})
    assert again.json()["toxicity"] == 0.5
    assert again.json()["attributes"] == {"latency": 500, "jitter": 10}
    assert api(server, "GET", path).json() == again.json()


def test_update_unknown_toxic_is_404(server: EmbeddedToxiproxy) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    response = api(server, "PATCH", "/proxies/p/toxics/nope", json={"toxicity": 0.5})
    assert error_of(response) == (404, "toxic not found")
    assert error_of(api(server, "GET", "/proxies/p/toxics/nope")) == (404, "toxic not found")


def test_remove_toxic(client: Toxiproxy, server: EmbeddedToxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    proxy.add_toxic(type="latency")
    assert "latency_downstream" in proxy.toxics()
    assert proxy.destroy_toxic("latency_downstream") is True
    assert proxy.toxics() == {}
    response = api(server, "DELETE", "/proxies/mysql_master/toxics/latency_downstream")
    assert error_of(response) == (404, "toxic not found")


def test_invalid_stream(client: Toxiproxy) -> None:
    proxy = client.create(upstream=UPSTREAM, name="mysql_master")
    with pytest.raises(toxiproxy_errors.InvalidToxic) as raised:
        proxy.add_toxic(type="latency", stream="walrustream")
    assert b"stream was invalid, can be either upstream or downstream" in raised.value.args[0]
    assert proxy.toxics() == {}


def test_invalid_toxic_type(server: EmbeddedToxiproxy) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    response = api(server, "POST", "/proxies/p/toxics", json={"type": "walrus"})
    assert error_of(response) == (400, "invalid toxic type")
    assert error_of(api(server, "POST", "/proxies/p/toxics", json={})) == (
        400,
        "invalid toxic type",
    )


def test_stream_is_case_insensitive(server: EmbeddedToxiproxy) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    response = api(server, "POST", "/proxies/p/toxics", json={"type": "noop", "stream": "UpStream"})
    assert response.status_code == 200
    assert response.json()["name"] == "noop_UpStream"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b'{"type": "latency", "attributes": {"latency": "slow"}}',
        b'{"type": "latency", "attributes": {"latency": 1.5}}',
        b'{"type": "latency", "toxicity": "high"}',
        b'{"type": 7}',
        b'{"type": "latency", "attributes": [1]}',
        b"[1, 2]",
    ],
)
def test_malformed_toxic_bodies_are_bad_requests(server: EmbeddedToxiproxy, body: bytes) -> None:
    api(server, "POST", "/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"})
    status, message = error_of(api(server, "POST", "/proxies/p/toxics", data=body))
    assert status == 400 and message.startswith("bad request body")
    assert api(server, "GET", "/proxies/p/toxics").json() == []


@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"name": 1, "upstream": "u:1"}', b'{"name": "p", "enabled": "yes"}']
)
def test_malformed_proxy_bodies_are_bad_requests(server: EmbeddedToxiproxy, body: bytes) -> None:
    status, message = error_of(api(server, "POST", "/proxies", data=body))
    assert status == 400 and message.startswith("bad request body")
    assert api(server, "GET", "/proxies").json() == {}


# -- the server as a whole --------------------------------------------------------------------


def test_version(client: Toxiproxy, server: EmbeddedToxiproxy) -> None:
    response = api(server, "GET", "/version")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert response.text.endswith("}\n")
    version = response.json()["version"]
    assert version.startswith("2.")
    assert client.version() == response.content


def test_browsers_are_refused(server: EmbeddedToxiproxy) -> None:
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}
    response = api(server, "GET", "/proxies", headers=headers)
    assert response.status_code == 403
    assert api(server, "GET", "/proxies", headers={"User-Agent": "Wget/2.1"}).status_code == 200


def test_every_response_carries_a_request_id(server: EmbeddedToxiproxy) -> None:
    first = api(server, "GET", "/version").headers["X-Toxiproxy-Request-Id"]
    second = api(server, "GET", "/version").headers["X-Toxiproxy-Request-Id"]
    assert first and second and first != second


def test_unknown_routes_and_methods(server: EmbeddedToxiproxy) -> None:
    missing = api(server, "GET", "/nothing")
    assert (missing.status_code, missing.text) == (404, "404 page not found\n")
    assert api(server, "PUT", "/proxies").status_code == 405
    assert api(server, "GET", "/reset").status_code == 405
    moved = api(server, "GET", "//proxies", allow_redirects=False)
    assert (moved.status_code, moved.headers["Location"]) == (301, "/proxies")


def raw_http(server: EmbeddedToxiproxy, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as conn:
        conn.sendall(request)
        return read_until_closed(conn)[0]


def test_chunked_body_and_expect_continue(server: EmbeddedToxiproxy) -> None:
    body = b'{"name": "p", "listen": "127.0.0.1:0", "upstream": "u:1"}'
    head = (
        b"POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
    request = head + chunks + b"0\r\n\r\n"
    answer = raw_http(server, request)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n")
    assert answer.endswith(b'"toxics":[]}')


def test_http_1_0_request_is_answered_and_closed(server: EmbeddedToxiproxy) -> None:
    answer = raw_http(server, b"GET /version HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'"}\n')


def test_garbage_request_line_is_a_400(server: EmbeddedToxiproxy) -> None:
    assert raw_http(server, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 Bad Request")


def test_keep_alive_connection_serves_many_requests(server: EmbeddedToxiproxy) -> None:
    with requests.Session() as session:
        for index in range(20):
            body = {"name": f"p{index}", "listen": "127.0.0.1:0", "upstream": "u:1"}
            assert session.post(server.url + "/proxies", json=body, timeout=10).status_code == 201
        assert len(session.get(server.url + "/proxies", timeout=10).json()) == 20
