"""TCP addresses the way Toxiproxy (that is, Go's ``net`` package) reads and prints them.

``split_host_port`` mirrors ``net.SplitHostPort``; ``bind_listener`` mirrors
``net.Listen("tcp", addr)`` (``localhost:0`` listens on 127.0.0.1 and an ephemeral port, an empty
or wildcard host listens on every interface and prints as ``[::]:port``) and words failures as Go
does (``listen tcp 127.0.0.1:3310: bind: address already in use``). Does I/O: resolves names, binds
sockets.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from dataclasses import dataclass

LISTEN_BACKLOG = 512
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class AddressError(Exception):
    """An address that cannot be parsed or resolved; the message is worded like Go's."""


@dataclass(frozen=True)
class ResolvedAddress:
    """An IP literal and a port, plus whether it stands for every interface."""

    ip: str
    port: int
    wildcard: bool = False

    def __str__(self) -> str:
        return join_host_port(self.ip, self.port)


def join_host_port(host: str, port: int | str) -> str:
    """``net.JoinHostPort``: brackets around IPv6 hosts."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def split_host_port(address: str) -> tuple[str, str]:
    """``net.SplitHostPort``: ``"h:p"``, ``"[v6]:p"`` or ``":p"`` into host and port strings."""
    colon = address.rfind(":")
    if colon < 0:
        raise AddressError(f"address {address}: missing port in address")
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise AddressError(f"address {address}: missing ']' in address")
        if end + 1 == len(address):
            raise AddressError(f"address {address}: missing port in address")
        if end + 1 != colon:
            reason = "too many colons" if address[end + 1] == ":" else "missing port"
            raise AddressError(f"address {address}: {reason} in address")
        host = address[1:end]
    else:
        host = address[:colon]
        if ":" in host:
            raise AddressError(f"address {address}: too many colons in address")
    rest = address[colon + 1 :]
    if "[" in host or "]" in host or "[" in rest or "]" in rest:
        raise AddressError(f"address {address}: unexpected '[' or ']' in address")
    return host, rest


def parse_port(port: str) -> int:
    """A decimal port (empty means 0, as in Go) or a service name such as ``http``."""
    if port == "":
        return 0
    if port.isdigit():
        value = int(port)
        if value > 65535:
            raise AddressError(f"address {port}: invalid port")
        return value
    try:
        return socket.getservbyname(port, "tcp")
    except OSError:
        raise AddressError(f"lookup tcp/{port}: unknown port") from None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(address: str) -> ResolvedAddress:
    """Resolve ``host:port`` to one IP, preferring IPv4 for names (as Go's Listen does). An empty
    address, as in Go, means every interface and a free port."""
    host, port_text = split_host_port(address) if address else ("", "")
    port = parse_port(port_text)
    if host in _WILDCARD_HOSTS:
        return ResolvedAddress("::" if socket.has_ipv6 else "0.0.0.0", port, wildcard=True)
    if _is_ip_literal(host):
        return ResolvedAddress(str(ipaddress.ip_address(host)), port)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise AddressError(f"lookup {host}: no such host") from None
    ips = [str(info[4][0]) for info in infos]
    ipv4 = [ip for ip in ips if ":" not in ip]
    chosen = ipv4[0] if ipv4 else ips[0]
    return ResolvedAddress(chosen, port)


def normalized(address: str) -> str:
    """The address as a started proxy would show it, or the text itself if it does not resolve."""
    try:
        return str(resolve(address))
    except AddressError:
        return address


def _go_os_error(err: OSError) -> str:
    """``bind: address already in use``: Go prints the C library's message in lower case."""
    text = os.strerror(err.errno) if err.errno is not None else str(err)
    return text[:1].lower() + text[1:]


def bind_listener(listen: str) -> tuple[socket.socket, str]:
    """Bind and listen on ``listen``; returns the non-blocking socket and its real address.

    Raises ``AddressError`` with Go's wording, e.g.
    ``listen tcp 127.0.0.1:3310: bind: address already in use``.
    """
    try:
        target = resolve(listen)
    except AddressError as err:
        raise AddressError(f"listen tcp: {err}") from None
    try:
        return _bind(target)
    except OSError as err:
        if target.wildcard and target.ip == "::" and err.errno == errno.EAFNOSUPPORT:
            try:
                return _bind(ResolvedAddress("0.0.0.0", target.port, wildcard=True))
            except OSError as err4:
                err = err4
        raise AddressError(f"listen tcp {target}: bind: {_go_os_error(err)}") from None


def _bind(target: ResolvedAddress) -> tuple[socket.socket, str]:
    family = socket.AF_INET6 if ":" in target.ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if target.wildcard and family == socket.AF_INET6:
            # Go's wildcard listeners are dual-stack: one socket for IPv4 and IPv6.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((target.ip, target.port))
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    port = int(sock.getsockname()[1])
    return sock, str(ResolvedAddress(target.ip, port, target.wildcard))


def dial_target(upstream: str) -> tuple[str, int]:
    """Host and port to connect to for ``upstream``; an empty host means this machine, as in Go."""
    host, port_text = split_host_port(upstream)
    return (host or "localhost"), parse_port(port_text)
