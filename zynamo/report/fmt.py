"""Formatting for the report pages: times in seconds and milliseconds, values cut to a length
that says it was cut, counts of capped lists ("50 of 79"), HTML escaping, and the page frame
every report page shares. Pure functions, no I/O.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote

NANOS_PER_SECOND = 1_000_000_000


def e(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def seconds(ns: float | None) -> str:
    """Nanoseconds since the run started as ``4.47 s`` (``–`` when unknown)."""
    if ns is None:
        return "–"
    return f"{ns / NANOS_PER_SECOND:.2f} s"


def duration(ns: float | None) -> str:
    """A duration: ``850 ms`` under ten seconds, ``12.3 s`` above."""
    if ns is None:
        return "–"
    ms = ns / 1_000_000
    if abs(ms) < 10:
        return f"{ms:.2f} ms"
    if abs(ms) < 10_000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def value(data: object, limit: int = 60) -> str:
    """A value as compact JSON, cut at ``limit`` characters with ``…`` and the full length."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), default=str)
    if len(text) <= limit:
        return text
    if isinstance(data, list):
        return f"{text[: limit - 1]}… ({len(data)} items)"
    return text[: limit - 1] + "…"


def of(shown: int, total: int, noun: str) -> str:
    """``79 lost elements`` or ``50 of 79 lost elements`` when a list is capped."""
    return f"{total} {noun}" if shown >= total else f"{shown} of {total} {noun}"


def key_page(key: object) -> str:
    """The file name of a key's page (``keys/k3.html``), safe for any key."""
    return "keys/" + quote(str(key), safe="").replace("%", "_") + ".html"


CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#f4f5f7}
main{max-width:1320px;margin:0 auto;padding:20px 24px 60px}
h1{font-size:22px;margin:0}h2{font-size:17px;margin:0 0 10px}h3{font-size:15px;margin:14px 0 6px}
.sub{color:#656d76;margin-top:2px}
a{color:#0b62d6;text-decoration:none}a:hover{text-decoration:underline}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:16px 18px;margin-top:18px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-size:12px;color:#656d76;font-weight:600;background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font-size:12px}
pre{background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;padding:8px;font-size:12px;
overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.ok{color:#1a7f37}.fail{color:#cf222e}.info{color:#bf5b00}.note{color:#656d76}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;
color:#fff;white-space:nowrap}
.badge.valid{background:#1a7f37}.badge.invalid{background:#cf222e}.badge.unknown{background:#bf8700}
.finding{border-left:4px solid #cf222e;padding:6px 10px;margin:8px 0;background:#fff5f5}
.finding.unknown{border-color:#bf8700;background:#fffbeb}
.finding p{margin:2px 0}
.fault{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;background:#eee;
margin-right:4px;white-space:nowrap}
.story td{font-size:13px}
.story tr.op td{background:#f8fbff}
.story tr.event td{color:#3b4149}
.story tr.hl td{background:#fff1e5;font-weight:600}
.story tr.nemesis td{background:#f3f0ff}
.repro{display:flex;gap:8px;align-items:center}
.repro code{background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;padding:4px 8px;
font-size:13px;overflow-wrap:anywhere}
svg text{font:11px system-ui,sans-serif}
"""


def page(title: str, body: str, extra_css: str = "", depth: int = 0) -> str:
    """A whole report page; ``depth`` is how many folders below the run directory it lives."""
    home = "../" * depth + "index.html"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{e(title)}</title><style>{CSS}{extra_css}</style></head><body><main>"
        f"<div class=sub><a href='{home}'>← run report</a></div>{body}</main></body></html>\n"
    )
