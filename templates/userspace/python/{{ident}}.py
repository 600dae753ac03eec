#!/usr/bin/env python3
"""{{name}}: the user-space side, on eBPF Hub's own library (ebpf_hub.run, ebpf_hub.bpfobj).

Loads build/{{name}}.bpf.o (`ebpf-hub build .` makes it), attaches every program, and prints
each event and, every interval, the output maps that ebpf-hub.yaml lists, as JSON lines,
until Ctrl-C, SIGTERM or -d SECONDS. Run it as root with the Python ebpf-hub is installed in.
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path
from typing import Any

import yaml

from ebpf_hub.bpfobj import compile_decoder, inspect_object
from ebpf_hub.run.loader import AttachTargets, LoadedObject

PACKAGE = Path(__file__).resolve().parent.parent
OBJECT = PACKAGE / "build" / "{{name}}.bpf.o"


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Load {{name}} and print what it produces.")
    parser.add_argument("-d", "--duration", type=float, default=0, help="stop after S seconds")
    parser.add_argument("-t", "--interval", type=float, default=1.0, help="print maps every S s")
    parser.add_argument("-i", "--iface", help="interface XDP and TC programs attach to")
    args = parser.parse_args()
    output = yaml.safe_load((PACKAGE / "ebpf-hub.yaml").read_text())["output"]
    info = inspect_object(OBJECT)  # the object's BTF: how to decode events and map entries
    maps = {m.name: m for m in info.maps}
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # detach cleanly on SIGTERM too

    with LoadedObject.open(OBJECT, targets=AttachTargets(iface=args.iface)) as obj:
        obj.load()
        obj.attach_all()
        events = None
        if output.get("events") and info.event_type_id is not None:
            decode = compile_decoder(info.btf, info.event_type_id)
            events = obj.events("events", lambda raw: emit(decode(raw)))

        def show_maps() -> None:
            for entry in output.get("maps", []):
                found = maps[entry["map"]]
                key = compile_decoder(info.btf, found.key_type_id)
                value = compile_decoder(info.btf, found.value_type_id)
                for raw_key, raw_value in obj.map(found.name).items():
                    if isinstance(raw_value, list):  # a per-CPU map: one value per CPU
                        shown: Any = [value(v) for v in raw_value]
                    else:
                        shown = value(raw_value)
                    emit({"map": found.name, "key": key(raw_key), "value": shown})

        end = time.monotonic() + args.duration if args.duration else float("inf")
        next_show = time.monotonic() + args.interval
        try:
            while time.monotonic() < end:
                if events is not None:
                    events.poll(100)
                else:
                    time.sleep(0.1)
                if time.monotonic() >= next_show:
                    show_maps()
                    next_show += args.interval
        except KeyboardInterrupt:
            pass
        show_maps()


if __name__ == "__main__":
    main()
