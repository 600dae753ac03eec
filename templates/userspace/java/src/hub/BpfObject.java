package hub;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * One CO-RE object, opened with libbpf (which applies its relocations at load), loaded and
 * attached; {@link #close()} detaches everything and frees it, so nothing stays in the kernel.
 */
public final class BpfObject implements AutoCloseable {
    private static final Libbpf LIB = Libbpf.LIB;
    private static final Set<Integer> PERCPU_MAP_TYPES = Set.of(5, 6, 10, 21);

    private final Pointer obj;
    private final String path;
    private final Btf btf;
    private final List<Pointer> links = new ArrayList<>();
    private final List<Integer> linkFds = new ArrayList<>();
    private final List<Pointer> rings = new ArrayList<>();
    private final List<Libbpf.SampleFn> callbacks = new ArrayList<>(); // kept from the GC

    private BpfObject(Pointer obj, String path) {
        this.obj = obj;
        this.path = path;
        Pointer handle = LIB.bpf_object__btf(obj);
        if (handle == null) {
            throw new LoaderError(path + " has no BTF: build it with ebpf-hub build");
        }
        IntByReference size = new IntByReference();
        Pointer raw = LIB.btf__raw_data(handle, size);
        this.btf = new Btf(raw.getByteArray(0, size.getValue()));
    }

    public static BpfObject open(String path) {
        Pointer obj = LIB.bpf_object__open_file(path, null);
        if (obj == null) {
            throw new LoaderError("cannot open " + path + ": " + Libbpf.lastError()
                    + " (run make again)");
        }
        try {
            return new BpfObject(obj, path);
        } catch (RuntimeException e) {
            LIB.bpf_object__close(obj);
            throw e;
        }
    }

    private List<Pointer> all(BiFunction<Pointer, Pointer, Pointer> next) {
        List<Pointer> found = new ArrayList<>();
        for (Pointer item = next.apply(obj, null); item != null; item = next.apply(obj, item)) {
            found.add(item);
        }
        return found;
    }

    private Pointer map(String name) {
        for (Pointer map : all(LIB::bpf_object__next_map)) {
            if (LIB.bpf_map__name(map).equals(name)) {
                return map;
            }
        }
        throw new LoaderError(path + " has no map named " + name);
    }

    /** Set a `const volatile` global of the object (its .rodata) before load. */
    public void setParameter(String name, String text) {
        List<Btf.Member> variables = btf.variables(".rodata");
        Btf.Member variable = variables.stream().filter(v -> v.name().equals(name)).findFirst()
                .orElseThrow(() -> new LoaderError("-p " + name + ": no such parameter ("
                        + variables.stream().map(Btf.Member::name)
                                .collect(Collectors.joining(", ")) + ")"));
        int signedSize = btf.integerSize(variable.type());
        if (signedSize == 0) {
            throw new LoaderError("-p " + name + ": not an integer parameter");
        }
        int size = Math.abs(signedSize);
        BigInteger value;
        try {
            value = new BigInteger(text.equals("true") ? "1" : text.equals("false") ? "0" : text);
        } catch (NumberFormatException e) {
            throw new LoaderError("-p " + name + "=" + text + ": give an integer, true or false");
        }
        BigInteger span = BigInteger.ONE.shiftLeft(8 * size);
        BigInteger low = signedSize < 0 ? span.shiftRight(1).negate() : BigInteger.ZERO;
        if (value.compareTo(low) < 0 || value.compareTo(low.add(span)) >= 0) {
            throw new LoaderError("-p " + name + "=" + text + ": out of range for " + size
                    + " bytes");
        }
        Pointer rodata = all(LIB::bpf_object__next_map).stream()
                .filter(m -> LIB.bpf_map__name(m).endsWith(".rodata")).findFirst().orElse(null);
        LongByReference length = new LongByReference();
        Pointer data = rodata == null ? null : LIB.bpf_map__initial_value(rodata, length);
        if (data == null || variable.value() + size > length.getValue()) {
            throw new LoaderError("cannot write the parameters of " + path);
        }
        long bits = value.mod(span).longValue();
        for (int i = 0; i < size; i++) {
            data.setByte(variable.value() + i, (byte) (bits >>> (8 * i)));
        }
    }

    /** Create the maps and programs in the kernel: the verifier runs here. */
    public void load() {
        if (LIB.bpf_object__load(obj) < 0) {
            throw new LoaderError("cannot load " + path + ": " + Libbpf.lastError()
                    + " (libbpf says why above; are you root?)");
        }
    }

    /** Attach every program: XDP and TC ones to interface `ifindex`, the others where their
     * section names (tracepoint, tp_btf, uprobe...). */
    public void attachAll(int ifindex) {
        for (Pointer prog : all(LIB::bpf_object__next_program)) {
            String what = LIB.bpf_program__name(prog) + " (" + LIB.bpf_program__section_name(prog)
                    + ")";
            int type = LIB.bpf_program__type(prog);
            boolean tc = type == Libbpf.BPF_PROG_TYPE_SCHED_CLS;
            if ((tc || type == Libbpf.BPF_PROG_TYPE_XDP) && ifindex == 0) {
                throw new LoaderError(what + ": give -i IFACE");
            }
            if (tc) {
                int fd = LIB.bpf_link_create(LIB.bpf_program__fd(prog), ifindex,
                        Libbpf.BPF_TCX_INGRESS, null);
                if (fd < 0) {
                    throw new LoaderError("cannot attach " + what + ": " + Libbpf.lastError()
                            + " (tcx links need kernel 6.6+)");
                }
                linkFds.add(fd);
                continue;
            }
            Pointer link = type == Libbpf.BPF_PROG_TYPE_XDP
                    ? LIB.bpf_program__attach_xdp(prog, ifindex)
                    : LIB.bpf_program__attach(prog);
            if (link == null) {
                throw new LoaderError("cannot attach " + what + ": " + Libbpf.lastError());
            }
            links.add(link);
        }
    }

    /** Something to poll: each call waits up to `ms` milliseconds for records. */
    public interface Poller {
        void poll(int ms);
    }

    /** Read the ring buffer `name`: each poll hands every record, decoded, to `onEvent`. */
    public Poller events(String name, Consumer<Object> onEvent) {
        int typeId = btf.eventType();
        if (typeId == 0) {
            throw new LoaderError(path + " names no event type: add EBPF_HUB_EVENT(struct event)");
        }
        Btf.Decoder decode = btf.decoder(typeId);
        Libbpf.SampleFn callback = (ctx, data, size) -> {
            ByteBuffer record = ByteBuffer.wrap(data.getByteArray(0, (int) size));
            onEvent.accept(decode.decode(record.order(ByteOrder.LITTLE_ENDIAN), 0));
            return 0;
        };
        Pointer ring = LIB.ring_buffer__new(LIB.bpf_map__fd(map(name)), callback, null, null);
        if (ring == null) {
            throw new LoaderError("cannot read the ring buffer " + name + ": "
                    + Libbpf.lastError());
        }
        callbacks.add(callback);
        rings.add(ring);
        return ms -> {
            int got = LIB.ring_buffer__poll(ring, ms);
            if (got < 0 && got != -4) { // -EINTR: a signal, which Stop handles
                throw new LoaderError("reading " + name + ": " + Libbpf.lastError());
            }
        };
    }

    /** Every entry of map `name` as (key, value), decoded from its BTF key and value types;
     * a per-CPU map's value is a list, one per CPU. */
    public List<Map.Entry<Object, Object>> entries(String name) {
        Pointer map = map(name);
        int fd = LIB.bpf_map__fd(map);
        Btf.Decoder key = decoderOf(LIB.bpf_map__btf_key_type_id(map), name, "key");
        Btf.Decoder value = decoderOf(LIB.bpf_map__btf_value_type_id(map), name, "value");
        int valueSize = LIB.bpf_map__value_size(map);
        int cpus = PERCPU_MAP_TYPES.contains(LIB.bpf_map__type(map))
                ? LIB.libbpf_num_possible_cpus() : 0;
        int stride = (valueSize + 7) / 8 * 8;
        List<Map.Entry<Object, Object>> found = new ArrayList<>();
        byte[] previous = null;
        for (;;) {
            byte[] next = new byte[LIB.bpf_map__key_size(map)];
            if (LIB.bpf_map_get_next_key(fd, previous, next) < 0) {
                return found; // ENOENT: that was the last one
            }
            byte[] raw = new byte[cpus > 0 ? stride * cpus : valueSize];
            if (LIB.bpf_map_lookup_elem(fd, next, raw) == 0) {
                ByteBuffer values = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
                Object shown;
                if (cpus > 0) {
                    List<Object> perCpu = new ArrayList<>(cpus);
                    for (int cpu = 0; cpu < cpus; cpu++) {
                        perCpu.add(value.decode(values, cpu * stride));
                    }
                    shown = perCpu;
                } else {
                    shown = value.decode(values, 0);
                }
                ByteBuffer keys = ByteBuffer.wrap(next).order(ByteOrder.LITTLE_ENDIAN);
                found.add(Map.entry(key.decode(keys, 0), shown));
            }
            previous = next;
        }
    }

    private Btf.Decoder decoderOf(int typeId, String map, String what) {
        if (typeId == 0) {
            throw new LoaderError("map " + map + " has no BTF " + what + " type: use __type()");
        }
        return btf.decoder(typeId);
    }

    @Override
    public void close() {
        rings.forEach(LIB::ring_buffer__free);
        rings.clear();
        callbacks.clear();
        links.forEach(LIB::bpf_link__destroy);
        links.clear();
        linkFds.forEach(Libbpf.LibC.LIB::close);
        linkFds.clear();
        LIB.bpf_object__close(obj);
    }
}
