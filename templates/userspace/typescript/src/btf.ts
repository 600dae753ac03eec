// The object's BTF, read from the bytes libbpf keeps (btf__raw_data), and decoders that turn a
// record of one of its types into a JSON-able value, as `ebpf-hub run` shows it: char arrays
// are strings, ipv4_addr_t and ipv6_addr_t addresses, enums their names, 64-bit integers
// bigints. Types are decoded from the object itself, so a changed struct needs no change here.
const KIND = {
  int: 1,
  ptr: 2,
  array: 3,
  struct: 4,
  union: 5,
  enum: 6,
  typedef: 8,
  volatile: 9,
  const: 10,
  restrict: 11,
  funcProto: 13,
  var: 14,
  datasec: 15,
  float: 16,
  declTag: 17,
  typeTag: 18,
  enum64: 19,
} as const;
const QUALIFIERS: number[] = [KIND.typedef, KIND.volatile, KIND.const, KIND.restrict, KIND.typeTag];
const ADDRESSES = ["ipv4_addr_t", "ipv6_addr_t"];

/** One entry of a struct, union, enum or datasec: `value` is a member's bit offset, an enum
 * value, or a datasec variable's byte offset. */
export interface Member {
  name: string;
  type: number;
  value: bigint;
  bits: number;
  size: number;
}

export interface BtfType {
  kind: number;
  name: string;
  size: number; // bytes, for sized kinds; else the type this one refers to
  encoding: number; // INT: signed 1, char 2, bool 4
  members: Member[];
  nelems: number; // ARRAY
}

export type Value = null | boolean | number | bigint | string | Value[] | { [k: string]: Value };
export type Decoder = (raw: Buffer, offset: number) => Value;

export class Btf {
  private readonly types: BtfType[] = [];

  constructor(raw: Buffer) {
    if (raw.readUInt16LE(0) !== 0xeb9f) throw new Error("not little-endian BTF");
    const header = raw.readUInt32LE(4);
    const typeStart = header + raw.readUInt32LE(8);
    const typeEnd = typeStart + raw.readUInt32LE(12);
    const strStart = header + raw.readUInt32LE(16);
    const str = (offset: number): string =>
      raw.toString("utf8", strStart + offset, raw.indexOf(0, strStart + offset));
    this.types.push({ kind: 0, name: "void", size: 0, encoding: 0, members: [], nelems: 0 });
    for (let pos = typeStart; pos < typeEnd;) {
      const info = raw.readUInt32LE(pos + 4);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const bitfields = info >>> 31 === 1;
      const type: BtfType = {
        kind,
        name: str(raw.readUInt32LE(pos)),
        size: raw.readUInt32LE(pos + 8),
        encoding: 0,
        members: [],
        nelems: 0,
      };
      pos += 12;
      const u32 = (at: number): number => raw.readUInt32LE(pos + at);
      switch (kind) {
        case KIND.int:
        case KIND.var:
        case KIND.declTag:
          type.encoding = u32(0) >>> 24;
          pos += 4;
          break;
        case KIND.array:
          type.size = u32(0);
          type.nelems = u32(8);
          pos += 12;
          break;
        case KIND.struct:
        case KIND.union:
          for (let i = 0; i < vlen; i++, pos += 12) {
            const offset = u32(8);
            type.members.push({
              name: str(u32(0)),
              type: u32(4),
              size: 0,
              value: BigInt(bitfields ? offset & 0xffffff : offset),
              bits: bitfields ? offset >>> 24 : 0,
            });
          }
          break;
        case KIND.enum:
          for (let i = 0; i < vlen; i++, pos += 8) {
            const value = raw.readInt32LE(pos + 4);
            type.members.push({
              name: str(u32(0)),
              type: 0,
              value: BigInt(value),
              bits: 0,
              size: 0,
            });
          }
          break;
        case KIND.enum64:
          for (let i = 0; i < vlen; i++, pos += 12) {
            const value = (BigInt(u32(8)) << 32n) | BigInt(u32(4));
            type.members.push({ name: str(u32(0)), type: 0, value, bits: 0, size: 0 });
          }
          break;
        case KIND.funcProto:
          pos += 8 * vlen;
          break;
        case KIND.datasec:
          for (let i = 0; i < vlen; i++, pos += 12) {
            const variable = u32(0);
            type.members.push({
              name: "",
              type: variable,
              value: BigInt(u32(4)),
              bits: 0,
              size: u32(8),
            });
          }
          break;
      }
      this.types.push(type);
    }
  }

  type(id: number): BtfType {
    const found = this.types[id];
    if (found === undefined) throw new Error(`BTF type ${id} does not exist`);
    return found;
  }

  /** Past typedefs and qualifiers, except the address typedefs of ebpf_hub.h. */
  private resolve(id: number): [number, BtfType] {
    for (;;) {
      const type = this.type(id);
      if (!QUALIFIERS.includes(type.kind) || ADDRESSES.includes(type.name)) return [id, type];
      id = type.size;
    }
  }

  /** The variables of a datasec (`.rodata`: the parameters): name, offset, size, type. */
  variables(section: string): Member[] {
    const datasec = this.types.find((t) => t.kind === KIND.datasec && t.name === section);
    return (datasec?.members ?? []).map((m) => {
      const variable = this.type(m.type);
      return { ...m, name: variable.name, type: variable.size };
    });
  }

  /** The struct an EBPF_HUB_EVENT(type) declaration names: what the events are. */
  eventType(): number | undefined {
    const variable = this.variables(".ebpf_hub").find((v) => v.name === "__ebpf_hub_event");
    return variable === undefined ? undefined : this.type(this.resolve(variable.type)[0]).size;
  }

  /** Whether a type is a plain integer (a parameter `-p NAME=VALUE` can set), and its sign. */
  integer(id: number): { size: number; signed: boolean } | undefined {
    const [, type] = this.resolve(id);
    if (type.kind === KIND.int) return { size: type.size, signed: (type.encoding & 1) === 1 };
    if (type.kind === KIND.enum || type.kind === KIND.enum64)
      return { size: type.size, signed: true };
    return undefined;
  }

  /** How to decode a value of type `id` found at an offset of a record. */
  decoder(id: number): Decoder {
    const [, type] = this.resolve(id);
    switch (type.kind) {
      case KIND.int:
        return integerDecoder(type.size, (type.encoding & 1) === 1, (type.encoding & 4) !== 0);
      case KIND.ptr:
        return integerDecoder(8, false, false);
      case KIND.float:
        return (raw, at) => (type.size === 4 ? raw.readFloatLE(at) : raw.readDoubleLE(at));
      case KIND.enum:
      case KIND.enum64: {
        const names = new Map(type.members.map((m) => [m.value, m.name]));
        const read = integerDecoder(type.size, type.kind === KIND.enum, false);
        return (raw, at) => {
          const value = read(raw, at) as number | bigint;
          return names.get(BigInt(value)) ?? value;
        };
      }
      case KIND.typedef:
        return type.name === "ipv4_addr_t"
          ? (raw, at) => [...raw.subarray(at, at + 4)].join(".")
          : (raw, at) => ipv6(raw.subarray(at, at + 16));
      case KIND.array:
        return this.arrayDecoder(type);
      case KIND.struct:
      case KIND.union:
        return this.structDecoder(type);
    }
    throw new Error(`cannot decode BTF kind ${type.kind} (${type.name || "anonymous"})`);
  }

  private arrayDecoder(array: BtfType): Decoder {
    const [elementId, element] = this.resolve(array.size);
    if (
      element.kind === KIND.int &&
      element.size === 1 &&
      (element.name === "char" || element.encoding & 2)
    ) {
      return (raw, at) => {
        const bytes = raw.subarray(at, at + array.nelems);
        const end = bytes.indexOf(0);
        return bytes.toString("utf8", 0, end < 0 ? bytes.length : end);
      };
    }
    const decode = this.decoder(elementId);
    const size = this.sizeOf(elementId);
    return (raw, at) => Array.from({ length: array.nelems }, (_, i) => decode(raw, at + i * size));
  }

  private structDecoder(struct: BtfType): Decoder {
    const fields = struct.members.map((member) => {
      const byte = Number(member.value / 8n);
      if (member.bits === 0) return { member, decode: this.decoder(member.type), byte };
      const shift = BigInt(Number(member.value % 8n));
      const mask = (1n << BigInt(member.bits)) - 1n;
      const span = Math.ceil((Number(shift) + member.bits) / 8);
      const decode: Decoder = (raw, at) => {
        const bytes = raw.subarray(at, at + span);
        const value =
          (BigInt("0x" + (Buffer.from(bytes).reverse().toString("hex") || "0")) >> shift) & mask;
        return Number(value);
      };
      return { member, decode, byte };
    });
    return (raw, at) => {
      const value: { [k: string]: Value } = {};
      for (const { member, decode, byte } of fields) {
        const field = decode(raw, at + byte);
        if (member.name) value[member.name] = field;
        else if (field !== null && typeof field === "object" && !Array.isArray(field))
          Object.assign(value, field);
      }
      return value;
    };
  }

  /** The size in bytes of a value of type `id`. */
  sizeOf(id: number): number {
    const [, type] = this.resolve(id);
    if (type.kind === KIND.array) return type.nelems * this.sizeOf(type.size);
    if (type.kind === KIND.ptr) return 8;
    if (type.kind === KIND.typedef) return this.sizeOf(type.size);
    return type.size;
  }
}

function integerDecoder(size: number, signed: boolean, bool: boolean): Decoder {
  if (bool) return (raw, at) => raw[at] !== 0;
  switch (size) {
    case 1:
      return (raw, at) => (signed ? raw.readInt8(at) : raw.readUInt8(at));
    case 2:
      return (raw, at) => (signed ? raw.readInt16LE(at) : raw.readUInt16LE(at));
    case 4:
      return (raw, at) => (signed ? raw.readInt32LE(at) : raw.readUInt32LE(at));
    case 8:
      return (raw, at) => (signed ? raw.readBigInt64LE(at) : raw.readBigUInt64LE(at));
  }
  return (raw, at) =>
    BigInt(
      "0x" +
        Buffer.from(raw.subarray(at, at + size))
          .reverse()
          .toString("hex"),
    );
}

/** An IPv6 address as inet_ntop writes it: the longest run of zero groups becomes "::". */
function ipv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i).toString(16));
  let best = [0, 0];
  for (let start = 0; start < 8; start++) {
    let end = start;
    while (end < 8 && groups[end] === "0") end++;
    if (end - start > Math.max(1, best[1] - best[0])) best = [start, end];
  }
  if (best[1] === best[0]) return groups.join(":");
  return `${groups.slice(0, best[0]).join(":")}::${groups.slice(best[1]).join(":")}`;
}

/** JSON text of a decoded value, as Python's json writes it: bigints as plain numbers, and
 * strings (command names, paths: the kernel's, anyone's) in printable ASCII, anything else
 * \u-escaped so that none of their bytes reaches the terminal as it is. */
export function toJson(value: Value): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `\u0000${v}` : v))
    .replace(/"\\u0000(-?\d+)"/g, "$1")
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
