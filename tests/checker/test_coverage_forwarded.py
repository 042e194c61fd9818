"""Coverage counts forwarded requests: a client request the contacted node handed on."""

from __future__ import annotations

from checker.dynamo import check_coverage

EVENTS = [{"node": "n1", "kind": "version-created", "key": "k", "siblings": 1, "time": 1}]


def test_requests_coordinated_elsewhere_than_the_node_asked_are_counted() -> None:
    history = [
        {"process": 1, "f": "add", "key": "k", "type": "invoke", "time": 0, "node": "n1"},
        {"process": 1, "f": "add", "key": "k", "type": "ok", "time": 5, "node": "n1",
         "coordinator": "n2"},
        {"process": 2, "f": "read", "key": "k", "type": "invoke", "time": 6, "node": "n3"},
        {"process": 2, "f": "read", "key": "k", "type": "ok", "time": 9, "node": "n3",
         "coordinator": "n3"},
    ]  # fmt: skip
    result = check_coverage(history, EVENTS)
    assert result["paths"]["forwarded_requests"] == 1
    assert "forwarded_requests" not in result["not_exercised"]
    assert "forwarded_requests" in check_coverage(history[2:], EVENTS)["not_exercised"]
