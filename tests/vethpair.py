"""Two network namespaces joined by a veth pair, link-local addresses only: packets for XDP
and TC tests that never touch the host's own interfaces."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNET = 0x40000000
SENDER_ADDRESS = "169.254.77.1"
RECEIVER_ADDRESS = "169.254.77.2"
RECEIVER_IFACE = "ebh1"


@dataclass(frozen=True)
class VethPair:
    sender: str  # namespace holding ebh0, SENDER_ADDRESS
    receiver: str  # namespace holding ebh1 (RECEIVER_IFACE), RECEIVER_ADDRESS


@contextmanager
def veth_pair(tag: str) -> Iterator[VethPair]:
    """Namespaces ebh-TAG-a and ebh-TAG-b joined by a veth pair, addresses 169.254.77.1/30
    and .2/30; both gone afterwards, with whatever was attached in them."""
    ns_a, ns_b = f"ebh-{tag}-a-{os.getpid()}", f"ebh-{tag}-b-{os.getpid()}"
    commands = [
        f"ip netns add {ns_a}",
        f"ip netns add {ns_b}",
        f"ip link add ebh0 netns {ns_a} type veth peer name {RECEIVER_IFACE} netns {ns_b}",
        f"ip -n {ns_a} addr add {SENDER_ADDRESS}/30 dev ebh0",
        f"ip -n {ns_b} addr add {RECEIVER_ADDRESS}/30 dev {RECEIVER_IFACE}",
        f"ip -n {ns_a} link set ebh0 up",
        f"ip -n {ns_b} link set {RECEIVER_IFACE} up",
    ]
    try:
        for command in commands:
            subprocess.run(command.split(), check=True)
        yield VethPair(ns_a, ns_b)
    finally:
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "del", ns], check=False, stderr=subprocess.DEVNULL)


@contextmanager
def netns(name: str) -> Iterator[None]:
    """Run the body in network namespace `name` (this thread only), then come back."""
    libc = ctypes.CDLL(None, use_errno=True)
    with Path("/proc/self/ns/net").open() as home, Path(f"/run/netns/{name}").open() as there:
        assert libc.setns(there.fileno(), CLONE_NEWNET) == 0, os.strerror(ctypes.get_errno())
        try:
            yield
        finally:
            assert libc.setns(home.fileno(), CLONE_NEWNET) == 0


def send_udp(ns: str, count: int, port: int = 9) -> None:
    """`count` datagrams from the sender namespace to the receiver's address."""
    with netns(ns):
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sender:
        for _ in range(count):
            sender.sendto(b"ebpf-hub", (RECEIVER_ADDRESS, port))
