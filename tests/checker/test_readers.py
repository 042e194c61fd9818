"""Reading histories: EDN syntax, the formats' conventions, and errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checker.api import ANY, HistoryError, check_linearizable, read_history
from checker.edn import iter_top_level, parse
from checker.readers import detect_format, parse_history


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_edn_values_map_to_python() -> None:
    text = '[{:a 1, :b [1 2] :c #{3} :d "x\\ny" :e nil :f true :g -2.5 :h 7N} ; note\n #_ 9 :k]'
    forms = [form for form, _ in iter_top_level(text)]
    assert forms == [
        {
            ":a": 1,
            ":b": (1, 2),
            ":c": frozenset({3}),
            ":d": "x\ny",
            ":e": None,
            ":f": True,
            ":g": -2.5,
            ":h": 7,
        },
        ":k",
    ]
    assert parse("[1 [2 3]]") == (1, (2, 3))
    assert parse('#inst "2020-01-01"') == "2020-01-01"


def test_edn_vector_and_stream_read_the_same(tmp_path: Path) -> None:
    ops = [
        "{:process 0, :type :invoke, :f :write, :value 1}",
        "{:process 0, :type :ok, :f :write, :value 1}",
        "{:process 1, :type :invoke, :f :read, :value nil}",
        "{:process 1, :type :ok, :f :read, :value 1}",
    ]
    stream = read_history(write(tmp_path, "s.edn", "\n".join(ops)))
    vector = read_history(write(tmp_path, "v.edn", "[" + "\n ".join(ops) + "]"))
    compact = read_history(write(tmp_path, "c.edn", "[" + " ".join(ops) + "]"))
    assert [(o.f, o.value, o.output, o.type) for o in stream] == [
        ("write", 1, None, "ok"),
        ("read", None, 1, "ok"),
    ]
    for other in (vector, compact):
        assert [(o.f, o.value, o.output, o.type, o.call, o.ret) for o in other] == [
            (o.f, o.value, o.output, o.type, o.call, o.ret) for o in stream
        ]


def test_knossos_conventions(tmp_path: Path) -> None:
    # A failed write had no effect; a crashed write may or may not have happened; a read of
    # nil matches anything; a nemesis op is not a client op.
    text = """[{:process 0 :type :invoke :f :write :value 1}
 {:process 0 :type :fail :f :write :value 1}
 {:process :nemesis :type :info :f :start :value nil}
 {:process 1 :type :invoke :f :write :value 2}
 {:process 1 :type :info :f :write :value 2}
 {:process 2 :type :invoke :f :read :value nil}
 {:process 2 :type :ok :f :read :value nil}
 {:process 3 :type :invoke :f :read :value nil}
 {:process 3 :type :ok :f :read :value 2}]"""
    ops = read_history(write(tmp_path, "h.edn", text))
    assert [(o.process, o.type, o.ret is None) for o in ops] == [
        (0, "fail", False),
        (1, "info", True),
        (2, "ok", False),
        (3, "ok", False),
    ]
    assert ops[2].output is ANY
    assert check_linearizable(ops, "register")["valid"] is True
    # Had the failed write of 1 taken effect, a read of 1 would be legal; it is not.
    bad = text.replace(":value 2}]", ":value 1}]")
    assert check_linearizable(read_history(write(tmp_path, "b.edn", bad)))["valid"] is False


def test_jepsen_independent_histories_are_split_by_key(tmp_path: Path) -> None:
    text = """[{:process 0, :type :invoke, :f :write, :value [1 3]}
 {:process 0, :type :ok, :f :write, :value [1 3]}
 {:process 1, :type :invoke, :f :read, :value [2 nil]}
 {:process 1, :type :ok, :f :read, :value [2 nil]}
 {:process 1, :type :invoke, :f :cas, :value [2 [0 4]]}
 {:process 1, :type :fail, :f :cas, :value [2 [0 4]]}
 {:process 2, :type :invoke, :f :read, :value [1 nil]}
 {:process 2, :type :ok, :f :read, :value [1 3]}]"""
    ops = read_history(write(tmp_path, "independent.edn", text))
    assert [(o.key, o.f, o.value, o.output) for o in ops] == [
        (1, "write", 3, None),
        (2, "read", None, ANY),
        (2, "cas", (0, 4), ANY),
        (1, "read", None, 3),
    ]
    result = check_linearizable(ops, "cas-register")
    assert result["valid"] is True and result["keys"] == 2
    wrong = text.replace(":ok, :f :read, :value [1 3]", ":ok, :f :read, :value [1 4]")
    result = check_linearizable(read_history(write(tmp_path, "wrong.edn", wrong)))
    assert result["valid"] is False and result["key"] == 1


def test_plain_cas_register_is_not_mistaken_for_independent(tmp_path: Path) -> None:
    text = """{:process 0, :type :invoke, :f :cas, :value [1 2]}
{:process 0, :type :fail, :f :cas, :value [1 2]}
{:process 0, :type :invoke, :f :write, :value 5}
{:process 0, :type :ok, :f :write, :value 5}"""
    ops = read_history(write(tmp_path, "plain.edn", text))
    assert [(o.key, o.value) for o in ops] == [(None, (1, 2)), (None, 5)]


def test_porcupine_log_conventions(tmp_path: Path) -> None:
    prefix = "INFO  jepsen.util - "
    lines = [
        "0\t:invoke\t:write\t1",
        "0\t:ok\t:write\t1",
        "1\t:invoke\t:cas\t[1 2]",
        "1\t:fail\t:cas\t[1 2]",  # ran: the value was not 1
        "2\t:invoke\t:read\tnil",
        "2\t:fail\t:read\t:timed-out",  # constrains nothing
        "3  :invoke :read   nil",
        "3  :ok     :read   1",  # spaces work as well as tabs
    ]
    path = write(tmp_path, "etcd.log", "\n".join(prefix + line for line in lines) + "\n")
    ops = read_history(path)
    assert detect_format(path, Path(path).read_text()) == "jepsen-log"
    assert [(o.f, o.type, o.output) for o in ops] == [
        ("write", "ok", None),
        ("cas", "ok", False),
        ("read", "info", ANY),
        ("read", "ok", 1),
    ]
    # The refused cas is an observation: the value was 1, so it must be concurrent with a
    # write that is not there -> not linearizable.
    assert check_linearizable(ops, "cas-register")["valid"] is False
    # A read of nil in this format means "empty", not "anything".
    empty = write(
        tmp_path,
        "e.log",
        prefix
        + "0\t:invoke\t:write\t1\n"
        + prefix
        + "0\t:ok\t:write\t1\n"
        + prefix
        + "1\t:invoke\t:read\tnil\n"
        + prefix
        + "1\t:ok\t:read\tnil\n",
    )
    assert check_linearizable(read_history(empty))["valid"] is False


def test_jsonl_read_of_null_means_no_value(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [
        {"process": 0, "type": "invoke", "f": "write", "key": "k", "value": 3},
        {"process": 0, "type": "ok", "f": "write", "key": "k", "value": 3},
        {"process": "nemesis", "type": "info", "f": "start-partition"},
        {"process": 1, "type": "invoke", "f": "read", "key": "k"},
        {"process": 1, "type": "ok", "f": "read", "key": "k", "value": None},
    ]
    lines = [json.dumps({"index": i, "time": i, **r}) for i, r in enumerate(records)]
    ops = read_history(write(tmp_path, "history.jsonl", "\n".join(lines)))
    assert [(o.f, o.key, o.output) for o in ops] == [("write", "k", None), ("read", "k", None)]
    assert check_linearizable(ops)["valid"] is False


@pytest.mark.parametrize(
    ("name", "text", "line", "words"),
    [
        ("h.jsonl", '{"type": "invoke", "process": 0, "f": "read"}\n{oops\n', 2, "not valid JSON"),
        (
            "h.edn",
            "{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read",
            2,
            "unclosed",
        ),
        ("h.edn", "{:process 0 :type :ok :f :read :value 1}\n", 1, "no invocation"),
        (
            "h.edn",
            "{:process 0 :type :invoke :f :cas :value 1}\n{:process 0 :type :ok :f :cas :value 1}",
            2,
            "[from to]",
        ),
        ("h.log", "INFO  jepsen.util - 0\t:invoke\n", 1, "PROCESS TYPE F"),
        ("h.edn", "{:process 0 :type :begin :f :read}\n", 1, ":type must be"),
    ],
)
def test_malformed_input_names_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(HistoryError) as caught:
        read_history(path)
    assert caught.value.line == line
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}:")


def test_missing_file_is_a_history_error(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no such file"):
        read_history(str(tmp_path / "absent.edn"))


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="jepsen-log"):
        parse_history("", "x", "csv")


def test_multiline_op_maps_with_escaped_error_strings(tmp_path: Path) -> None:
    # The layout of Knossos's rethink-fail histories: pretty-printed maps, comments between
    # ops, error strings holding quotes and braces.
    text = r"""({:type :invoke, :f :write, :value 0, :process 0, :time 1}
 {:type :ok, :f :write, :value 0, :process 0, :time 2}
 ; pending writes here
 {:type :invoke, :f :cas, :value [0 4], :process 62, :time 3}
 {:type :info,
  :f :cas,
  :value [0 4],
  :process 62,
  :time 4,
  :error
  "ExceptionInfo: lost contact {:t 18, :r [\"Cannot perform write\"], :n []}"}
 {:type :invoke, :f :read, :value nil, :process 12, :time 5}
 {:type :ok, :f :read, :value 4, :process 12, :time 6})
"""
    ops = read_history(write(tmp_path, "rethink.edn", text))
    assert [(o.process, o.f, o.type, o.line) for o in ops] == [
        (0, "write", "ok", 1),
        (62, "cas", "info", 4),
        (12, "read", "ok", 12),
    ]
    assert check_linearizable(ops)["valid"] is True  # the crashed cas took effect
    bad = text.replace(":value 4, :process 12", ":value 3, :process 12")
    result = check_linearizable(read_history(write(tmp_path, "bad.edn", bad)))
    assert result["valid"] is False
    assert result["op"]["line"] == 12


def test_knossos_immediate_failure(tmp_path: Path) -> None:
    # From Knossos's test data: a failed write cannot be read.
    text = """[{:type :invoke, :process 1, :f :read, :value nil}
{:type :invoke, :process 101, :f :write, :value 3}
{:type :fail, :process 101, :f :write, :value 3, :error [:temporarily-unavailable nil]}
{:type :ok, :process 1, :f :read, :value 3}]
"""
    assert check_linearizable(read_history(write(tmp_path, "f.edn", text)))["valid"] is False


def test_jepsen_log_annotations_after_the_value_are_ignored(tmp_path: Path) -> None:
    # Porcupine's larger etcd logs annotate each line, e.g. "38 \t:hint 0".
    prefix = "INFO  jepsen.util - "
    lines = [
        "6 \t:invoke :write \t38 \t:hint 0",
        "6 \t:ok :write \t38 \t:hint 2",
        "4 \t:invoke :cas \t[38 5] \t:hint 0",
        "4 \t:ok :cas \t[38 5] \t:hint 3",
        "0 \t:invoke :read \tnil \t:hint 0",
        "0 \t:ok :read \t5 \t:hint 3",
    ]
    ops = read_history(write(tmp_path, "hint.log", "\n".join(prefix + line for line in lines)))
    assert [(o.f, o.value, o.output) for o in ops] == [
        ("write", 38, None),
        ("cas", (38, 5), True),
        ("read", None, 5),
    ]
    assert check_linearizable(ops)["valid"] is True


def test_jepsen_log_found_after_pages_of_other_logging(tmp_path: Path) -> None:
    noise = "INFO  jepsen.core - setting up the cluster, please wait\n" * 2000
    ops = "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\n"
    path = write(tmp_path, "jepsen.txt", noise + ops)
    assert detect_format(path, noise + ops) == "jepsen-log"
    assert [(o.f, o.value) for o in read_history(path)] == [("write", 1)]
