// kernelTypes gives cilium/ebpf the running kernel's BTF in a form its version 0.9.1 (the one
// Debian 12 packages) can read: that version predates the BTF kinds kernels emit since 5.16-6.0
// (DECL_TAG, TYPE_TAG, ENUM64) and fails on them. Each such type is rewritten in place into
// one it knows, as libbpf does for old kernels, so type ids stay those of the kernel (tp_btf
// programs attach by id) and CO-RE relocations find the same structs. With cilium/ebpf 0.10
// or later, drop this file and the KernelTypes option in hub.go.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/cilium/ebpf/btf"
)

const (
	kindInt     = 1
	kindEnum    = 6
	kindConst   = 10
	kindDeclTag = 17
	kindTypeTag = 18
	kindEnum64  = 19
)

func kernelTypes() (*btf.Spec, error) {
	raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if len(raw) < 24 || le.Uint16(raw) != 0xeb9f {
		return nil, fmt.Errorf("/sys/kernel/btf/vmlinux is not little-endian BTF")
	}
	start := le.Uint32(raw[4:])
	types := raw[start+le.Uint32(raw[8:]):][:le.Uint32(raw[12:])]
	strings := raw[start+le.Uint32(raw[16:]):][:le.Uint32(raw[20:])]
	var out bytes.Buffer
	for pos := 0; pos < len(types); {
		info := le.Uint32(types[pos+4:])
		kind, vlen := info>>24&0x1f, int(info&0xffff)
		var extra int // bytes following the 12-byte header
		switch kind {
		case 2, 7, 8, 9, 10, 11, 12, 16, 18: // ptr, fwd, typedef, modifiers, func, float, type_tag
		case 1, 14, 17: // int, var, decl_tag
			extra = 4
		case 3: // array
			extra = 12
		case 4, 5, 15, 19: // struct, union, datasec, enum64
			extra = 12 * vlen
		case 6, 13: // enum, func_proto
			extra = 8 * vlen
		default:
			return nil, fmt.Errorf("unknown BTF kind %d in the kernel's BTF", kind)
		}
		header := append([]byte(nil), types[pos:pos+12]...)
		body := types[pos+12 : pos+12+extra]
		switch kind {
		case kindDeclTag: // an annotation: an anonymous one-byte int takes its id
			le.PutUint32(header[0:], 0)
			le.PutUint32(header[4:], kindInt<<24)
			le.PutUint32(header[8:], 1)
			body = []byte{8, 0, 0, 0}
		case kindTypeTag: // a qualifier of the type it points to: const is one too
			le.PutUint32(header[0:], 0)
			le.PutUint32(header[4:], kindConst<<24)
		case kindEnum64: // an enum of 64-bit values: keep the low 32 bits of each
			le.PutUint32(header[4:], info&^(0x1f<<24)|kindEnum<<24)
			values := make([]byte, 0, 8*vlen)
			for i := 0; i < vlen; i++ {
				values = append(values, body[12*i:12*i+8]...)
			}
			body = values
		}
		out.Write(header)
		out.Write(body)
		pos += 12 + extra
	}
	header := make([]byte, 24)
	copy(header, raw[:4])
	le.PutUint32(header[4:], 24)
	le.PutUint32(header[12:], uint32(out.Len()))
	le.PutUint32(header[16:], uint32(out.Len()))
	le.PutUint32(header[20:], uint32(len(strings)))
	blob := append(append(header, out.Bytes()...), strings...)
	return btf.LoadSpecFromReader(bytes.NewReader(blob))
}
