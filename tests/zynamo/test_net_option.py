"""The ``--net`` option (proxy or kernel): validated with one line naming it, recorded in
test.json, carried by the reproduce command, and refused by the preflight where it cannot run
(not root, no ``ip`` or ``nft``). No cluster is started here."""

from __future__ import annotations

import pytest

from zynamo.options import TestOptions as Options
from zynamo.preflight import kernel_net_problem
from zynamo.reproduce import reproduce_command


def test_proxy_is_the_default_and_kernel_is_recorded() -> None:
    assert Options().net == "proxy"
    options = Options(net="kernel", nemesis=("partition", "kill"))
    assert options.to_json()["net"] == "kernel"
    assert Options.from_json(options.to_json()) == options
    assert "--net kernel" in reproduce_command(options)
    assert "--net" not in reproduce_command(Options())


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"net": "iptables"}, ["--net", "'iptables'", "proxy, kernel"]),
        ({"net": "kernel", "env": "sim"}, ["--net kernel", "--env real"]),
        ({"net": "kernel", "toxiproxy": "http://127.0.0.1:8474"}, ["--toxiproxy"]),
        ({"net": "kernel", "nemesis": ("partition", "latency")}, ["latency", "--net proxy"]),
    ],
)
def test_a_net_that_cannot_work_is_refused_naming_the_option(
    values: dict[str, object], words: list[str]
) -> None:
    with pytest.raises(ValueError) as refused:
        Options(**values)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_preflight_refuses_kernel_without_root_or_tools() -> None:
    assert "root" in (kernel_net_problem(euid=1000, which=lambda _: "/usr/sbin/x") or "")
    missing_nft = kernel_net_problem(euid=0, which=lambda t: None if t == "nft" else "/x")
    assert missing_nft is not None and "nftables" in missing_nft and "\n" not in missing_nft
    assert kernel_net_problem(euid=0, which=lambda _: "/usr/sbin/x") is None


def test_a_kernel_partitioned_run_replays_in_the_simulator_and_on_its_own_net() -> None:
    from zynamo.replay import schedule_options
    from zynamo.schedule import RunSchedule

    recorded = Options(net="kernel", nemesis=("partition", "kill"), seed=7)
    schedule = RunSchedule(options=recorded.to_json())
    in_sim = schedule_options(schedule, "sim")
    assert (in_sim.env, in_sim.net, in_sim.seed) == ("sim", "proxy", 7)
    on_real = schedule_options(schedule, "real")
    assert (on_real.env, on_real.net) == ("real", "kernel")
