package hub;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The object's BTF, read from the bytes libbpf keeps (btf__raw_data), and decoders that turn a
 * record of one of its types into a JSON-able value, as `ebpf-hub run` shows it: char arrays
 * are strings, ipv4_addr_t and ipv6_addr_t addresses, enums their names. Types are decoded
 * from the object itself, so a changed struct needs no change here.
 */
public final class Btf {
    static final int INT = 1, PTR = 2, ARRAY = 3, STRUCT = 4, UNION = 5, ENUM = 6;
    static final int TYPEDEF = 8, VOLATILE = 9, CONST = 10, RESTRICT = 11, FUNC_PROTO = 13;
    static final int VAR = 14, DATASEC = 15, FLOAT = 16, DECL_TAG = 17, TYPE_TAG = 18;
    static final int ENUM64 = 19;
    private static final Set<Integer> QUALIFIERS = Set.of(TYPEDEF, VOLATILE, CONST, RESTRICT,
            TYPE_TAG);
    private static final Set<String> ADDRESSES = Set.of("ipv4_addr_t", "ipv6_addr_t");

    /** One entry of a struct, union, enum or datasec: `value` is a member's bit offset, an
     * enum value, or a datasec variable's byte offset. */
    public record Member(String name, int type, long value, int bits, int size) {}

    /** `ref` is the size in bytes of sized kinds, else the type this one refers to. */
    record Type(int kind, String name, int ref, int encoding, int nelems, List<Member> members) {}

    /** Turns the bytes at an offset of a record into a value. */
    public interface Decoder {
        Object decode(ByteBuffer raw, int at);
    }

    private final List<Type> types = new ArrayList<>();

    public Btf(byte[] bytes) {
        ByteBuffer raw = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if ((raw.getShort(0) & 0xffff) != 0xeb9f) {
            throw new LoaderError("the object's BTF is not little-endian BTF");
        }
        int header = raw.getInt(4);
        int typeStart = header + raw.getInt(8);
        int typeEnd = typeStart + raw.getInt(12);
        int strStart = header + raw.getInt(16);
        types.add(new Type(0, "void", 0, 0, 0, List.of()));
        for (int pos = typeStart; pos < typeEnd; ) {
            int info = raw.getInt(pos + 4);
            int kind = (info >>> 24) & 0x1f;
            int vlen = info & 0xffff;
            boolean bitfields = info < 0;
            String name = string(bytes, strStart + raw.getInt(pos));
            int ref = raw.getInt(pos + 8);
            int encoding = 0;
            int nelems = 0;
            List<Member> members = new ArrayList<>();
            pos += 12;
            switch (kind) {
                case INT, VAR, DECL_TAG -> {
                    encoding = raw.getInt(pos) >>> 24;
                    pos += 4;
                }
                case ARRAY -> {
                    ref = raw.getInt(pos);
                    nelems = raw.getInt(pos + 8);
                    pos += 12;
                }
                case STRUCT, UNION -> {
                    for (int i = 0; i < vlen; i++, pos += 12) {
                        int offset = raw.getInt(pos + 8);
                        members.add(new Member(string(bytes, strStart + raw.getInt(pos)),
                                raw.getInt(pos + 4), bitfields ? offset & 0xffffff : offset,
                                bitfields ? offset >>> 24 : 0, 0));
                    }
                }
                case ENUM -> {
                    for (int i = 0; i < vlen; i++, pos += 8) {
                        members.add(new Member(string(bytes, strStart + raw.getInt(pos)), 0,
                                raw.getInt(pos + 4), 0, 0));
                    }
                }
                case ENUM64 -> {
                    for (int i = 0; i < vlen; i++, pos += 12) {
                        long value = ((long) raw.getInt(pos + 8) << 32)
                                | (raw.getInt(pos + 4) & 0xffffffffL);
                        members.add(new Member(string(bytes, strStart + raw.getInt(pos)), 0,
                                value, 0, 0));
                    }
                }
                case FUNC_PROTO -> pos += 8 * vlen;
                case DATASEC -> {
                    for (int i = 0; i < vlen; i++, pos += 12) {
                        members.add(new Member("", raw.getInt(pos), raw.getInt(pos + 4), 0,
                                raw.getInt(pos + 8)));
                    }
                }
                default -> { } // the other kinds have nothing after their header
            }
            types.add(new Type(kind, name, ref, encoding, nelems, members));
        }
    }

    private static String string(byte[] bytes, int at) {
        int end = at;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, at, end - at, StandardCharsets.UTF_8);
    }

    Type type(int id) {
        if (id < 0 || id >= types.size()) {
            throw new LoaderError("BTF type " + id + " does not exist");
        }
        return types.get(id);
    }

    /** Past typedefs and qualifiers, except the address typedefs of ebpf_hub.h. */
    private int resolve(int id) {
        for (Type type = type(id); QUALIFIERS.contains(type.kind())
                && !ADDRESSES.contains(type.name()); type = type(id)) {
            id = type.ref();
        }
        return id;
    }

    /** The variables of a datasec (`.rodata`: the parameters): name, type, offset, size. */
    public List<Member> variables(String section) {
        List<Member> found = new ArrayList<>();
        for (Type type : types) {
            if (type.kind() == DATASEC && type.name().equals(section)) {
                for (Member m : type.members()) {
                    Type variable = type(m.type());
                    found.add(new Member(variable.name(), variable.ref(), m.value(), 0, m.size()));
                }
            }
        }
        return found;
    }

    /** The type an EBPF_HUB_EVENT(type) declaration names (what the events are), or 0. */
    public int eventType() {
        for (Member variable : variables(".ebpf_hub")) {
            if (variable.name().equals("__ebpf_hub_event")) {
                return type(resolve(variable.type())).ref();
            }
        }
        return 0;
    }

    /** The size of a plain integer (what -p NAME=VALUE can set), or 0 for another type; its
     * sign by the sign of the result. */
    public int integerSize(int id) {
        Type type = type(resolve(id));
        return switch (type.kind()) {
            case INT -> (type.encoding() & 1) == 1 ? -type.ref() : type.ref();
            case ENUM, ENUM64 -> -type.ref();
            default -> 0;
        };
    }

    /** The size in bytes of a value of type `id`. */
    public int sizeOf(int id) {
        Type type = type(resolve(id));
        return switch (type.kind()) {
            case ARRAY -> type.nelems() * sizeOf(type.ref());
            case PTR -> 8;
            case TYPEDEF -> sizeOf(type.ref());
            default -> type.ref();
        };
    }

    /** How to decode a value of type `id` found at an offset of a record. */
    public Decoder decoder(int id) {
        Type type = type(resolve(id));
        return switch (type.kind()) {
            case INT -> integer(type.ref(), (type.encoding() & 1) == 1, (type.encoding() & 4) != 0);
            case PTR -> integer(8, false, false);
            case FLOAT -> type.ref() == 4 ? (raw, at) -> raw.getFloat(at) : ByteBuffer::getDouble;
            case ENUM, ENUM64 -> enumeration(type);
            case TYPEDEF -> type.name().equals("ipv4_addr_t") ? Btf::ipv4 : Btf::ipv6;
            case ARRAY -> array(type);
            case STRUCT, UNION -> struct(type);
            default -> throw new LoaderError("cannot decode BTF kind " + type.kind() + " ("
                    + (type.name().isEmpty() ? "anonymous" : type.name()) + ")");
        };
    }

    private static Decoder integer(int size, boolean signed, boolean bool) {
        if (bool) {
            return (raw, at) -> raw.get(at) != 0;
        }
        return switch (size) {
            case 1 -> signed ? ByteBuffer::get : (raw, at) -> raw.get(at) & 0xff;
            case 2 -> signed ? ByteBuffer::getShort : (raw, at) -> raw.getShort(at) & 0xffff;
            case 4 -> signed ? ByteBuffer::getInt : (raw, at) -> raw.getInt(at) & 0xffffffffL;
            case 8 -> signed ? ByteBuffer::getLong : (raw, at) -> unsigned(raw.getLong(at));
            default -> (raw, at) -> {
                byte[] big = new byte[size];
                for (int i = 0; i < size; i++) {
                    big[size - 1 - i] = raw.get(at + i);
                }
                return signed ? new BigInteger(big) : new BigInteger(1, big);
            };
        };
    }

    private static Object unsigned(long value) {
        return value >= 0 ? (Object) value : new BigInteger(Long.toUnsignedString(value));
    }

    private Decoder enumeration(Type type) {
        Map<Long, String> names = new LinkedHashMap<>();
        for (Member m : type.members()) {
            names.putIfAbsent(m.value(), m.name());
        }
        Decoder read = integer(type.ref(), true, false);
        return (raw, at) -> {
            long value = ((Number) read.decode(raw, at)).longValue();
            return names.containsKey(value) ? names.get(value) : (Object) value;
        };
    }

    private static Object ipv4(ByteBuffer raw, int at) {
        return (raw.get(at) & 0xff) + "." + (raw.get(at + 1) & 0xff) + "."
                + (raw.get(at + 2) & 0xff) + "." + (raw.get(at + 3) & 0xff);
    }

    /** An IPv6 address as inet_ntop writes it: the longest run of zero groups becomes "::". */
    private static Object ipv6(ByteBuffer raw, int at) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((raw.get(at + 2 * i) & 0xff) << 8) | (raw.get(at + 2 * i + 1) & 0xff);
        }
        int bestStart = 0, bestEnd = 0;
        for (int start = 0; start < 8; start++) {
            int end = start;
            while (end < 8 && groups[end] == 0) {
                end++;
            }
            if (end - start > Math.max(1, bestEnd - bestStart)) {
                bestStart = start;
                bestEnd = end;
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (bestEnd > bestStart && i == bestStart) {
                text.append("::");
                i = bestEnd - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    private Decoder array(Type array) {
        int elementId = resolve(array.ref());
        Type element = type(elementId);
        int count = array.nelems();
        if (element.kind() == INT && element.ref() == 1
                && (element.name().equals("char") || (element.encoding() & 2) != 0)) {
            return (raw, at) -> {
                int end = 0;
                while (end < count && raw.get(at + end) != 0) {
                    end++;
                }
                byte[] chars = new byte[end];
                raw.get(at, chars);
                return new String(chars, StandardCharsets.UTF_8);
            };
        }
        Decoder decode = decoder(elementId);
        int size = sizeOf(elementId);
        return (raw, at) -> {
            List<Object> values = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                values.add(decode.decode(raw, at + i * size));
            }
            return values;
        };
    }

    private record Field(String name, int byteOffset, Decoder decode) {}

    private Decoder struct(Type struct) {
        List<Field> fields = new ArrayList<>();
        for (Member m : struct.members()) {
            int byteOffset = (int) (m.value() / 8);
            if (m.bits() == 0) {
                fields.add(new Field(m.name(), byteOffset, decoder(m.type())));
                continue;
            }
            int shift = (int) (m.value() % 8);
            long mask = m.bits() == 64 ? -1L : (1L << m.bits()) - 1;
            int span = (shift + m.bits() + 7) / 8;
            fields.add(new Field(m.name(), byteOffset, (raw, at) -> {
                long value = 0;
                for (int i = span - 1; i >= 0; i--) {
                    value = (value << 8) | (raw.get(at + i) & 0xff);
                }
                return (value >>> shift) & mask;
            }));
        }
        return (raw, at) -> {
            Map<String, Object> value = new LinkedHashMap<>();
            for (Field field : fields) {
                Object decoded = field.decode().decode(raw, at + field.byteOffset());
                if (!field.name().isEmpty()) {
                    value.put(field.name(), decoded);
                } else if (decoded instanceof Map<?, ?> inner) { // an anonymous struct or union
                    inner.forEach((k, v) -> value.put((String) k, v));
                }
            }
            return value;
        };
    }
}
