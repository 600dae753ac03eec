package hub;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;

/**
 * libbpf's C API (the system's libbpf.so.1, 1.1 or later), declared for JNA: only the calls
 * BpfObject makes. Pointers to libbpf's objects stay opaque; NULL comes back as null, and the
 * reason of a failed call is errno, {@link #lastError()}.
 */
public interface Libbpf extends Library {
    Libbpf LIB = Native.load(System.getenv().getOrDefault("EBPF_HUB_LIBBPF", "libbpf.so.1"),
            Libbpf.class);

    int BPF_MAP_TYPE_RINGBUF = 27;
    int BPF_PROG_TYPE_SCHED_CLS = 3;
    int BPF_PROG_TYPE_XDP = 6;
    int BPF_TCX_INGRESS = 46;

    /** int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size) */
    interface SampleFn extends Callback {
        int invoke(Pointer ctx, Pointer data, long size);
    }

    /** What this library needs of the C library. */
    interface LibC extends Library {
        LibC LIB = Native.load("c", LibC.class);

        int if_nametoindex(String name);

        int close(int fd);

        String strerror(int errnum);
    }

    Pointer bpf_object__open_file(String path, Pointer opts);

    int bpf_object__load(Pointer obj);

    void bpf_object__close(Pointer obj);

    Pointer bpf_object__btf(Pointer obj);

    Pointer bpf_object__next_program(Pointer obj, Pointer prev);

    Pointer bpf_object__next_map(Pointer obj, Pointer prev);

    String bpf_program__name(Pointer prog);

    String bpf_program__section_name(Pointer prog);

    int bpf_program__type(Pointer prog);

    int bpf_program__fd(Pointer prog);

    Pointer bpf_program__attach(Pointer prog);

    Pointer bpf_program__attach_xdp(Pointer prog, int ifindex);

    int bpf_link__destroy(Pointer link);

    int bpf_link_create(int progFd, int targetFd, int attachType, Pointer opts);

    String bpf_map__name(Pointer map);

    int bpf_map__type(Pointer map);

    int bpf_map__fd(Pointer map);

    int bpf_map__key_size(Pointer map);

    int bpf_map__value_size(Pointer map);

    int bpf_map__btf_key_type_id(Pointer map);

    int bpf_map__btf_value_type_id(Pointer map);

    Pointer bpf_map__initial_value(Pointer map, LongByReference size);

    int bpf_map_get_next_key(int fd, byte[] key, byte[] nextKey);

    int bpf_map_lookup_elem(int fd, byte[] key, byte[] value);

    Pointer btf__raw_data(Pointer btf, IntByReference size);

    Pointer ring_buffer__new(int fd, SampleFn sample, Pointer ctx, Pointer opts);

    int ring_buffer__poll(Pointer rb, int timeoutMs);

    void ring_buffer__free(Pointer rb);

    int libbpf_num_possible_cpus();

    /** The reason the last call that failed gave, as C's strerror words it. */
    static String lastError() {
        return LibC.LIB.strerror(Native.getLastError());
    }
}
