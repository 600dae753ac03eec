"""The packet seeds do what they say to real packets (root): xdpfilter drops the datagrams
sent to its port and only those, and tcproto counts what crosses its hook by direction and
protocol. Each runs from its sources in this checkout (`ebpf-hub run sources/NAME`, which
compiles them and reads their index entry) on one end of a veth pair in its own network
namespace, and nothing it attached stays behind."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from hubrepo import REPO
from kernelstate import assert_gone
from test_run import Runner
from vethpair import RECEIVER_ADDRESS, RECEIVER_IFACE, netns, send_udp, veth_pair

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root"),
]

DROPPED_PORT, OPEN_PORT = 9, 53


def _run_args(seed: str, *params: str) -> list[str]:
    args = [str(REPO / "sources" / seed), "--iface", RECEIVER_IFACE, "--interval", "0.3"]
    for param in params:
        args += ["--param", param]
    return [*args, "--json", "--yes"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "EBPF_HUB_HOME": str(tmp_path / "home")}


def _latest(run: Runner, name: str) -> list[dict[str, Any]]:
    """The entries of the last printing of output map `name` (none before the first)."""
    printed = run.maps(name)
    return printed[-1]["entries"] if printed else []


def _value(run: Runner, name: str, key: Any) -> dict[str, int]:
    entries = [e["value"] for e in _latest(run, name) if e["key"] == key]
    return entries[0] if entries else {"packets": 0, "bytes": 0}


@contextmanager
def _listening(ns: str, *ports: int) -> Iterator[dict[int, socket.socket]]:
    """Non-blocking UDP sockets bound to the receiver's address in namespace `ns`."""
    with ExitStack() as stack:
        sockets = {}
        for port in ports:
            with netns(ns):
                sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            sock.bind((RECEIVER_ADDRESS, port))
            sock.setblocking(False)
            sockets[port] = sock
        yield sockets


def _received(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.recv(64)
        except BlockingIOError:
            return count
        count += 1


def test_xdpfilter_drops_the_datagrams_to_its_port_and_passes_the_rest(tmp_path: Path) -> None:
    with veth_pair("xf") as veth, _listening(veth.receiver, DROPPED_PORT, OPEN_PORT) as inbox:
        args = _run_args("xdpfilter", f"targ_port={DROPPED_PORT}", "targ_proto=udp")
        with Runner(args, _env(tmp_path), netns=veth.receiver) as run:
            send_udp(veth.sender, 20, port=DROPPED_PORT)
            send_udp(veth.sender, 10, port=OPEN_PORT)
            run.wait_until(
                lambda: (
                    _value(run, "verdicts", "XDP_PASS")["packets"] >= 10
                    and _value(run, "verdicts", "XDP_DROP")["packets"] >= 20
                ),
                15,
                "20 drops and 10 passes counted",
            )
            run.stop()
            assert_gone(run.progs, run.links)
        dropped = _value(run, "verdicts", "XDP_DROP")
        assert (_received(inbox[DROPPED_PORT]), _received(inbox[OPEN_PORT])) == (0, 10)
        shown = subprocess.run(
            ["ip", "-n", veth.receiver, "link", "show", RECEIVER_IFACE],
            capture_output=True,
            text=True,
            check=True,
        )
    # Exactly the 20 datagrams, each an Ethernet, IPv4 and UDP header and 8 bytes of payload.
    assert dropped == {"packets": 20, "bytes": 20 * (14 + 20 + 8 + len(b"ebpf-hub"))}
    assert "xdp" not in shown.stdout, "the XDP program is detached from the interface"


def test_tcproto_counts_by_direction_and_protocol_and_filters_a_direction(
    tmp_path: Path,
) -> None:
    udp_in = {"direction": "INGRESS", "protocol": "UDP"}
    with veth_pair("tp") as veth:
        with Runner(_run_args("tcproto"), _env(tmp_path), netns=veth.receiver) as run:
            send_udp(veth.sender, 5, port=OPEN_PORT)
            run.wait_until(
                lambda: _value(run, "counts", udp_in)["packets"] >= 5, 15, "5 UDP packets in"
            )
            run.stop()
            assert_gone(run.progs, run.links)
        # `run` attaches at ingress: every packet counted there came in.
        assert {e["key"]["direction"] for e in _latest(run, "counts")} == {"INGRESS"}
        egress_only = _run_args("tcproto", "targ_direction=egress")
        with Runner(egress_only, _env(tmp_path), netns=veth.receiver) as run:
            send_udp(veth.sender, 5, port=OPEN_PORT)
            run.wait_until(lambda: len(run.maps("counts")) >= 3, 15, "three printings")
            run.stop()
    assert _latest(run, "counts") == [], "an ingress hook counts nothing with egress only"
