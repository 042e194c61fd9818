"""What each kill cost the clients (``nemesis.downtime``) and how the fault effects say it: the
requests that failed or were left unknown while the killed nodes were down, and how many were
sent to a killed node."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nemesis.downtime import cost_so_far, kill_costs
from nemesis.effects import fault_effects, kill_lines, progress_line


def nemesis(t_s: float, f: str, value: Any, type_: str = "info") -> dict[str, Any]:
    return {"time": round(t_s * 1e9), "process": "nemesis", "type": type_, "f": f, "value": value}


def client(t_s: float, process: int, type_: str, node: str, f: str = "add") -> dict[str, Any]:
    return {"time": round(t_s * 1e9), "process": process, "type": type_, "f": f, "node": node}


def kill_n3_history() -> list[dict[str, Any]]:
    """n3 down from 2 s to 5 s; around it, requests that did and did not fail."""
    return sorted(
        [
            client(1.0, 0, "invoke", "n1"),
            client(1.9, 0, "fail", "n1"),  # failed before the kill: not its doing
            client(1.5, 1, "invoke", "n3"),
            client(2.5, 1, "info", "n3"),  # in flight when n3 died
            nemesis(2.0, "start-kill", {"targets": "one"}, "invoke"),
            nemesis(2.0, "start-kill", {"nodes": ["n3"], "effect": {"summary": "kill n3"}}),
            client(3.0, 2, "invoke", "n2"),
            client(3.2, 2, "fail", "n2"),  # another coordinator, failing while n3 was down
            client(3.5, 3, "invoke", "n2"),
            client(3.6, 3, "ok", "n2"),  # fine: not a failure
            client(4.0, 4, "invoke", "n3"),  # never completed: unknown
            nemesis(5.0, "stop-kill", {}, "invoke"),
            nemesis(
                5.0,
                "stop-kill",
                {"nodes": ["n3"], "down_s": {"n3": 3.0}, "effect": {"summary": "n3: down 3.0 s"}},
            ),
            client(5.1, 5, "invoke", "n3"),
            client(5.2, 5, "fail", "n3"),  # after n3 was back
            {"time": round(6e9), "process": "final", "type": "ok", "f": "dump", "node": "n3"},
        ],
        key=lambda line: line["time"],
    )


def test_a_kill_counts_the_requests_in_flight_that_failed_while_its_node_was_down() -> None:
    (cost,) = kill_costs(kill_n3_history())
    assert cost.nodes == ("n3",) and cost.down_s == {"n3": 3.0}
    assert (cost.failed, cost.indefinite) == (1, 2)
    assert cost.sent_to == {"n3": 2}
    assert cost.summary() == (
        "kill n3: down 3.0 s, 3 requests failed (1 fail, 2 info; 2 sent to n3)"
    )


def test_results_json_and_the_stop_line_say_what_the_kill_cost() -> None:
    effects = fault_effects(kill_n3_history())
    stop = next(op for op in effects["ops"] if op["f"] == "stop-kill")
    assert stop["summary"] == "n3: down 3.0 s — 3 requests failed (1 fail, 2 info; 2 sent to n3)"
    assert stop["requests_failed"] == 3
    (kill,) = effects["kills"]
    assert kill["requests_failed"] == 3 and kill["sent_to_killed"] == {"n3": 2}
    assert kill["summary"].startswith("kill n3: down 3.0 s, 3 requests failed")


def test_the_progress_line_of_a_restart_counts_what_failed_so_far() -> None:
    history = kill_n3_history()
    before_restart = [line for line in history if line["time"] < 5e9]
    before_restart.append(nemesis(5.0, "stop-kill", {}, "invoke"))
    done = {"nodes": ["n3"], "effect": {"summary": "n3: down 3.0 s", "mattered": True}}
    line = progress_line("stop-kill", done, before_restart)
    # Known by then: the info at 2.5 s and the fail at 3.2 s (the one at 4 s is in flight).
    assert line == (
        "nemesis stop-kill: n3: down 3.0 s — 2 requests failed (1 fail, 1 info; 1 sent to n3)"
        " so far"
    )
    assert progress_line("start-kill", {"effect": {"summary": "kill n3"}}, history) == (
        "nemesis start-kill: kill n3"
    )
    assert cost_so_far(history) is None  # the kill is over


def test_a_kill_nobody_noticed_cost_nothing_and_a_kill_never_healed_lasts_to_the_end() -> None:
    history = [
        nemesis(1.0, "start-kill", {"nodes": ["n1", "n2"]}),
        client(1.5, 0, "invoke", "n4"),
        client(1.6, 0, "ok", "n4"),
        nemesis(2.0, "stop-kill", {"nodes": ["n1", "n2"], "down_s": {"n1": 1.0, "n2": 1.0}}),
        nemesis(3.0, "start-kill", {"nodes": ["n5"]}),
        client(3.5, 0, "invoke", "n5"),
        client(4.5, 0, "info", "n5"),
    ]
    first, second = kill_costs(history)
    assert first.summary() == "kill n1, n2: down 1.0 s, no request failed"
    assert second.until_ns is None and second.indefinite == 1
    assert second.summary() == (
        "kill n5: down until the end, 1 request failed (0 fail, 1 info; 1 sent to n5)"
    )


ops = st.lists(
    st.tuples(
        st.floats(0, 10),  # invoked at
        st.one_of(st.none(), st.floats(0, 3)),  # took (None: never completed)
        st.sampled_from(("ok", "fail", "info")),
        st.sampled_from(("n1", "n2", "n3")),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(ops, st.floats(0, 10), st.floats(0, 5))
def test_exactly_the_failed_requests_in_flight_while_down_are_counted(
    requests: list[tuple[float, float | None, str, str]], down_at: float, down_for: float
) -> None:
    history = [
        nemesis(down_at, "start-kill", {"nodes": ["n2"]}),
        nemesis(down_at + down_for, "stop-kill", {"nodes": ["n2"]}),
    ]
    for process, (start, took, type_, node) in enumerate(requests):
        history.append(client(start, process, "invoke", node))
        if took is not None:
            history.append(client(start + took, process, type_, node))
    history.sort(key=lambda line: (line["time"], line["type"] != "invoke"))
    a, b = round(down_at * 1e9), round((down_at + down_for) * 1e9)
    failed = [
        (type_ if took is not None else "info", node)
        for start, took, type_, node in requests
        if (took is None or type_ != "ok")
        and round(start * 1e9) <= b
        and (took is None or round((start + took) * 1e9) >= a)
    ]
    (cost,) = kill_costs(history)
    assert cost.failed == sum(1 for type_, _ in failed if type_ == "fail")
    assert cost.indefinite == sum(1 for type_, _ in failed if type_ == "info")
    assert cost.sent_to == {"n2": sum(1 for _, node in failed if node == "n2")}


def test_the_end_of_a_long_run_lists_the_first_kills_and_counts_the_rest() -> None:
    kills = [
        {"summary": f"kill n{i % 5 + 1}: down 1.0 s, ...", "requests_failed": 3} for i in range(14)
    ]
    lines = kill_lines(kills)
    assert lines[:10] == [kill["summary"] for kill in kills[:10]]
    assert lines[10] == (
        "… and 4 more kills (results.json, faults.kills): 42 requests failed while nodes were"
        " down in all"
    )
    assert kill_lines(kills[:2]) == [kills[0]["summary"], kills[1]["summary"]]
