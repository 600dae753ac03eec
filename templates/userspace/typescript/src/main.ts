// {{name}}: the user-space side, in TypeScript over libbpf (koffi). Loads
// build/{{name}}.bpf.o (`ebpf-hub build ..` makes it), sets its parameters, attaches every
// program, and prints each event and, every interval, the output maps ebpf-hub.yaml lists,
// as JSON lines, until Ctrl-C, SIGTERM or -d SECONDS. This file is yours to change.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { toJson, type Value } from "./btf.js";
import { BpfObject, LoaderError, breathe, parseOptions, sleep, stopWhen } from "./hub.js";

const PACKAGE = join(__dirname, "..", ".."); // this file runs from typescript/dist/
const OBJECT = join(PACKAGE, "build", "{{name}}.bpf.o");

interface Output {
  events?: boolean;
  maps?: { map: string }[];
}

function emit(record: Value): void {
  process.stdout.write(toJson(record) + "\n");
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const manifest = parse(readFileSync(join(PACKAGE, "ebpf-hub.yaml"), "utf8")) as {
    output?: Output;
  };
  const output = manifest.output ?? {};
  const obj = BpfObject.open(OBJECT);
  try {
    for (const [name, value] of options.params) obj.setParameter(name, value);
    obj.load();
    obj.attachAll(options.ifindex);
    const events = output.events ? obj.events("events", emit) : undefined;
    const showMaps = (): void => {
      for (const { map } of output.maps ?? []) {
        for (const [key, value] of obj.entries(map)) emit({ map, key, value });
      }
    };
    const stop = stopWhen(options.duration);
    let next = Date.now() + options.interval * 1000;
    while (!stop.stopped) {
      if (events) events.poll(100);
      else await sleep(100);
      await breathe(); // Ctrl-C and SIGTERM are delivered here
      if (Date.now() >= next) {
        showMaps();
        next += options.interval * 1000;
      }
    }
    showMaps();
  } finally {
    obj.close();
  }
}

main().catch((error: unknown) => {
  const message = error instanceof LoaderError ? error.message : String(error);
  process.stderr.write(`{{name}}: ${message}\n`);
  process.exitCode = 1;
});
