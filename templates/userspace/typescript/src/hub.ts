// What every loader needs besides its own code: options, Ctrl-C, opening the CO-RE object
// with libbpf, setting its parameters, attaching its programs, reading its ring buffer and
// maps, and detaching it all on the way out.
import { closeSync } from "node:fs";
import { parseArgs } from "node:util";
import * as libbpf from "./libbpf.js";
import { Btf, type Decoder, type Value } from "./btf.js";

export interface Options {
  duration: number; // -d SECONDS: stop after that long; 0 = until Ctrl-C
  interval: number; // -t SECONDS: how often map contents are printed
  ifindex: number; // -i IFACE: where XDP and TC programs attach; 0 = not given
  params: Map<string, string>; // -p NAME=VALUE: the package's parameters
}

/** A problem to report in one line on stderr, with exit status 1. */
export class LoaderError extends Error {}

export function parseOptions(argv: string[]): Options {
  const usage = "usage: [-d SECONDS] [-t INTERVAL] [-i IFACE] [-p NAME=VALUE]...";
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        d: { type: "string", default: "0" },
        t: { type: "string", default: "1" },
        i: { type: "string" },
        p: { type: "string", multiple: true, default: [] },
        h: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    throw new LoaderError(`${(error as Error).message}; ${usage}`);
  }
  if (parsed.h) {
    console.log(usage);
    process.exit(0);
  }
  const seconds = (flag: string, text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) {
      throw new LoaderError(`-${flag} ${text}: give a number of seconds`);
    }
    return value;
  };
  const params = new Map<string, string>();
  for (const assignment of parsed.p) {
    const at = assignment.indexOf("=");
    if (at < 1) throw new LoaderError(`-p ${assignment}: write -p NAME=VALUE`);
    params.set(assignment.slice(0, at), assignment.slice(at + 1));
  }
  let ifindex = 0;
  if (parsed.i !== undefined) {
    ifindex = libbpf.ifNameToIndex(parsed.i);
    if (ifindex === 0) throw new LoaderError(`-i ${parsed.i}: no such network interface`);
  }
  const interval = seconds("t", parsed.t);
  if (interval === 0) throw new LoaderError("-t 0: give an interval above zero");
  return { duration: seconds("d", parsed.d), interval, ifindex, params };
}

/** Becomes true on Ctrl-C, on SIGTERM, or once `duration` seconds have passed (0: never). */
export function stopWhen(duration: number): { readonly stopped: boolean } {
  const state = { stopped: false };
  const stop = (): void => {
    state.stopped = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (duration > 0) setTimeout(stop, duration * 1000).unref();
  return state;
}

/** Let pending signals and timers run between two blocking libbpf calls. */
export const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const PERCPU_MAP_TYPES = new Set([5, 6, 10, 21]); // per-CPU hash, array, LRU hash, storage

/** One CO-RE object: opened (libbpf applies its relocations at load), loaded, attached. */
export class BpfObject {
  private readonly links: libbpf.Pointer[] = [];
  private readonly linkFds: number[] = [];
  private readonly rings: { ring: libbpf.Pointer; callback: bigint }[] = [];
  readonly btf: Btf;

  private constructor(
    private readonly obj: libbpf.Pointer,
    readonly path: string,
  ) {
    const btf = libbpf.objectBtf(obj);
    if (btf === null) throw new LoaderError(`${path} has no BTF: build it with ebpf-hub build`);
    const size: [number] = [0];
    this.btf = new Btf(libbpf.copyBytes(libbpf.btfRawData(btf, size), size[0]));
  }

  static open(path: string): BpfObject {
    const obj = libbpf.objectOpenFile(path, null);
    if (obj === null) {
      throw new LoaderError(`cannot open ${path}: ${libbpf.lastError()} (run make again)`);
    }
    try {
      return new BpfObject(obj, path);
    } catch (error) {
      libbpf.objectClose(obj);
      throw error;
    }
  }

  private *all<T>(next: (obj: libbpf.Pointer, prev: T | null) => T | null): Generator<T> {
    for (let item = next(this.obj, null); item !== null; item = next(this.obj, item)) yield item;
  }

  private map(name: string): libbpf.Pointer {
    for (const map of this.all(libbpf.nextMap)) if (libbpf.mapName(map) === name) return map;
    throw new LoaderError(`${this.path} has no map named ${name}`);
  }

  /** Set a `const volatile` global of the object (its .rodata) before load. */
  setParameter(name: string, text: string): void {
    const variables = this.btf.variables(".rodata");
    const variable = variables.find((v) => v.name === name);
    const known = variables.map((v) => v.name).join(", ") || "none";
    if (variable === undefined) throw new LoaderError(`-p ${name}: no such parameter (${known})`);
    const integer = this.btf.integer(variable.type);
    if (integer === undefined) throw new LoaderError(`-p ${name}: not an integer parameter`);
    let value: bigint;
    try {
      value = BigInt(text === "true" ? 1 : text === "false" ? 0 : text);
    } catch {
      throw new LoaderError(`-p ${name}=${text}: give an integer, true or false`);
    }
    const bits = BigInt(8 * integer.size);
    const [low, high] = integer.signed
      ? [-(1n << (bits - 1n)), 1n << (bits - 1n)]
      : [0n, 1n << bits];
    if (value < low || value >= high) {
      throw new LoaderError(`-p ${name}=${text}: out of range for ${integer.size} bytes`);
    }
    const rodata = [...this.all(libbpf.nextMap)].find((m) => libbpf.mapName(m).endsWith(".rodata"));
    const size: [number] = [0];
    const data = rodata && libbpf.mapInitialValue(rodata, size);
    if (!data) throw new LoaderError(`cannot write the parameters of ${this.path}`);
    const bytes = libbpf.viewBytes(data, Number(size[0]));
    const unsigned = BigInt.asUintN(Number(bits), value);
    for (let i = 0; i < integer.size; i++) {
      bytes[Number(variable.value) + i] = Number((unsigned >> BigInt(8 * i)) & 0xffn);
    }
  }

  /** Create the maps and programs in the kernel: the verifier runs here. */
  load(): void {
    if (libbpf.objectLoad(this.obj) < 0) {
      throw new LoaderError(
        `cannot load ${this.path}: ${libbpf.lastError()} (libbpf says why above; are you root?)`,
      );
    }
  }

  /** Attach every program: XDP and TC ones to interface `ifindex`, the others where their
   * section names (tracepoint, tp_btf, uprobe...). */
  attachAll(ifindex: number): void {
    for (const prog of this.all(libbpf.nextProgram)) {
      const what = `${libbpf.programName(prog)} (${libbpf.programSection(prog)})`;
      const type = libbpf.programType(prog);
      const network = type === libbpf.BPF_PROG_TYPE_XDP || type === libbpf.BPF_PROG_TYPE_SCHED_CLS;
      if (network && ifindex === 0) throw new LoaderError(`${what}: give -i IFACE`);
      if (type === libbpf.BPF_PROG_TYPE_SCHED_CLS) {
        const fd = libbpf.linkCreate(libbpf.programFd(prog), ifindex, libbpf.BPF_TCX_INGRESS, null);
        if (fd < 0)
          throw new LoaderError(
            `cannot attach ${what}: ${libbpf.lastError()} (tcx links need kernel 6.6+)`,
          );
        this.linkFds.push(fd);
        continue;
      }
      const link =
        type === libbpf.BPF_PROG_TYPE_XDP
          ? libbpf.programAttachXdp(prog, ifindex)
          : libbpf.programAttach(prog);
      if (link === null) throw new LoaderError(`cannot attach ${what}: ${libbpf.lastError()}`);
      this.links.push(link);
    }
  }

  /** Read the ring buffer `name`: `poll()` hands each record, decoded, to `onEvent`. */
  events(name: string, onEvent: (event: Value) => void): { poll(ms: number): void } {
    const typeId = this.btf.eventType();
    if (typeId === undefined) {
      throw new LoaderError(`${this.path} names no event type: add EBPF_HUB_EVENT(struct event)`);
    }
    const decode = this.btf.decoder(typeId);
    const callback = libbpf.register((_ctx, data, size) => {
      onEvent(decode(libbpf.copyBytes(data, Number(size)), 0));
      return 0;
    });
    const ring = libbpf.ringBufferNew(libbpf.mapFd(this.map(name)), callback, null, null);
    if (ring === null) {
      libbpf.unregister(callback);
      throw new LoaderError(`cannot read the ring buffer ${name}: ${libbpf.lastError()}`);
    }
    this.rings.push({ ring, callback });
    return {
      poll: (ms: number): void => {
        const got = libbpf.ringBufferPoll(ring, ms);
        if (got < 0 && got !== -4) throw new LoaderError(`reading ${name}: ${libbpf.lastError()}`);
      },
    };
  }

  /** Every entry of map `name`, decoded from its BTF key and value types; a per-CPU map's
   * value is a list, one per CPU. */
  entries(name: string): [Value, Value][] {
    const map = this.map(name);
    const fd = libbpf.mapFd(map);
    const decodeKey = this.decoderOf(libbpf.mapKeyTypeId(map), name, "key");
    const decodeValue = this.decoderOf(libbpf.mapValueTypeId(map), name, "value");
    const valueSize = libbpf.mapValueSize(map);
    const cpus = PERCPU_MAP_TYPES.has(libbpf.mapType(map)) ? libbpf.numPossibleCpus() : 0;
    const stride = Math.ceil(valueSize / 8) * 8;
    const found: [Value, Value][] = [];
    let key: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(libbpf.mapKeySize(map));
      if (libbpf.mapGetNextKey(fd, key, next) < 0) break; // ENOENT: that was the last one
      const value = Buffer.alloc(cpus ? stride * cpus : valueSize);
      if (libbpf.mapLookupElem(fd, next, value) === 0) {
        const shown = cpus
          ? Array.from({ length: cpus }, (_, cpu) => decodeValue(value, cpu * stride))
          : decodeValue(value, 0);
        found.push([decodeKey(next, 0), shown]);
      }
      key = next;
    }
    return found;
  }

  private decoderOf(typeId: number, map: string, what: string): Decoder {
    if (typeId === 0) throw new LoaderError(`map ${map} has no BTF ${what} type: use __type()`);
    return this.btf.decoder(typeId);
  }

  /** Detach everything and free the object: nothing stays in the kernel. */
  close(): void {
    for (const { ring, callback } of this.rings.splice(0)) {
      libbpf.ringBufferFree(ring);
      libbpf.unregister(callback);
    }
    for (const link of this.links.splice(0)) libbpf.linkDestroy(link);
    for (const fd of this.linkFds.splice(0)) closeSync(fd);
    libbpf.objectClose(this.obj);
  }
}
