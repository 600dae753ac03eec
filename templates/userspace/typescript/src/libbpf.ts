// libbpf's C API (the system's libbpf.so.1, 1.1 or later), declared for koffi: only the calls
// hub.ts makes. Pointers to libbpf's objects stay opaque; NULL comes back as null.
import * as koffi from "koffi";

const libbpf = koffi.load(process.env.EBPF_HUB_LIBBPF ?? "libbpf.so.1");
const libc = koffi.load("libc.so.6");

koffi.opaque("bpf_object");
koffi.opaque("bpf_program");
koffi.opaque("bpf_map");
koffi.opaque("bpf_link");
koffi.opaque("btf");
koffi.opaque("ring_buffer");
export const sampleCallback = koffi.pointer(
  koffi.proto("int ring_buffer_sample_fn(void *ctx, void *data, size_t size)"),
);

/** A pointer libbpf handed out; only ever passed back to it. */
export type Pointer = object;

export const BPF_MAP_TYPE_RINGBUF = 27;
export const BPF_PROG_TYPE_SCHED_CLS = 3;
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_TCX_INGRESS = 46;

type Fn<A extends unknown[], R> = (...args: A) => R;
const fn = <A extends unknown[], R>(definition: string): Fn<A, R> =>
  libbpf.func(definition) as Fn<A, R>;

export const objectOpenFile = fn<[string, null], Pointer | null>(
  "bpf_object *bpf_object__open_file(const char *path, void *opts)",
);
export const objectLoad = fn<[Pointer], number>("int bpf_object__load(bpf_object *obj)");
export const objectClose = fn<[Pointer], void>("void bpf_object__close(bpf_object *obj)");
export const objectBtf = fn<[Pointer], Pointer | null>(
  "btf *bpf_object__btf(const bpf_object *obj)",
);
export const nextProgram = fn<[Pointer, Pointer | null], Pointer | null>(
  "bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)",
);
export const nextMap = fn<[Pointer, Pointer | null], Pointer | null>(
  "bpf_map *bpf_object__next_map(const bpf_object *obj, const bpf_map *prev)",
);
export const programName = fn<[Pointer], string>(
  "const char *bpf_program__name(const bpf_program *prog)",
);
export const programSection = fn<[Pointer], string>(
  "const char *bpf_program__section_name(const bpf_program *prog)",
);
export const programType = fn<[Pointer], number>("int bpf_program__type(const bpf_program *prog)");
export const programFd = fn<[Pointer], number>("int bpf_program__fd(const bpf_program *prog)");
export const programAttach = fn<[Pointer], Pointer | null>(
  "bpf_link *bpf_program__attach(const bpf_program *prog)",
);
export const programAttachXdp = fn<[Pointer, number], Pointer | null>(
  "bpf_link *bpf_program__attach_xdp(const bpf_program *prog, int ifindex)",
);
export const linkDestroy = fn<[Pointer], number>("int bpf_link__destroy(bpf_link *link)");
export const linkCreate = fn<[number, number, number, null], number>(
  "int bpf_link_create(int prog_fd, int target_fd, int attach_type, void *opts)",
);
export const mapName = fn<[Pointer], string>("const char *bpf_map__name(const bpf_map *map)");
export const mapType = fn<[Pointer], number>("int bpf_map__type(const bpf_map *map)");
export const mapFd = fn<[Pointer], number>("int bpf_map__fd(const bpf_map *map)");
export const mapKeySize = fn<[Pointer], number>("uint32_t bpf_map__key_size(const bpf_map *map)");
export const mapValueSize = fn<[Pointer], number>(
  "uint32_t bpf_map__value_size(const bpf_map *map)",
);
export const mapKeyTypeId = fn<[Pointer], number>(
  "uint32_t bpf_map__btf_key_type_id(const bpf_map *map)",
);
export const mapValueTypeId = fn<[Pointer], number>(
  "uint32_t bpf_map__btf_value_type_id(const bpf_map *map)",
);
export const mapInitialValue = fn<[Pointer, [number]], Pointer | null>(
  "void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *size)",
);
export const mapGetNextKey = fn<[number, Buffer | null, Buffer], number>(
  "int bpf_map_get_next_key(int fd, const void *key, void *next_key)",
);
export const mapLookupElem = fn<[number, Buffer, Buffer], number>(
  "int bpf_map_lookup_elem(int fd, const void *key, void *value)",
);
export const btfRawData = fn<[Pointer, [number]], Pointer>(
  "const void *btf__raw_data(const btf *btf, _Out_ uint32_t *size)",
);
export const ringBufferNew = fn<[number, unknown, null, null], Pointer | null>(
  "ring_buffer *ring_buffer__new(int fd, ring_buffer_sample_fn *cb, void *ctx, void *opts)",
);
export const ringBufferPoll = fn<[Pointer, number], number>(
  "int ring_buffer__poll(ring_buffer *rb, int timeout_ms)",
);
export const ringBufferFree = fn<[Pointer], void>("void ring_buffer__free(ring_buffer *rb)");
export const numPossibleCpus = fn<[], number>("int libbpf_num_possible_cpus()");
export const ifNameToIndex = libc.func("unsigned int if_nametoindex(const char *name)") as Fn<
  [string],
  number
>;
export const strerror = libc.func("const char *strerror(int errnum)") as Fn<[number], string>;

/** The reason the last libbpf call that failed gave, as C's strerror words it. */
export function lastError(): string {
  return strerror(koffi.errno());
}

/** A copy of `size` bytes at `pointer`. */
export function copyBytes(pointer: Pointer, size: number): Buffer {
  return Buffer.from(new Uint8Array(koffi.view(pointer, size)));
}

/** The `size` bytes at `pointer`, writable in place. */
export function viewBytes(pointer: Pointer, size: number): Buffer {
  return Buffer.from(koffi.view(pointer, size));
}

export function register(callback: (ctx: unknown, data: Pointer, size: number) => number): bigint {
  return koffi.register(callback, sampleCallback);
}

export function unregister(callback: bigint): void {
  koffi.unregister(callback);
}
