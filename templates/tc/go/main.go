// {{name}}: the user-space side, on cilium/ebpf. Attaches the program to the TC ingress
// hook of -i IFACE through a tcx link (kernel 6.6 or later; it goes away with the process)
// and prints one line per packet until Ctrl-C (or -d SECONDS).
package main

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"fmt"
	"log"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

//go:embed {{name}}.bpf.o
var object []byte

// BPF_TCX_INGRESS of the kernel's uapi, newer than cilium/ebpf 0.9.1.
const attachTCXIngress = ebpf.AttachType(46)

// event mirrors struct event of ../{{name}}.h, field for field.
type event struct {
	Saddr [4]byte // network order, as the packet has it
	Daddr [4]byte
	Sport uint16
	Dport uint16
	Proto uint32
	Len   uint32
}

func main() {
	opts := parseOptions(true)
	objects, err := load(object, nil)
	if err != nil {
		log.Fatalf("cannot load the eBPF object: %v (are you root?)", err)
	}
	defer objects.Close()
	attached, err := link.AttachRawLink(link.RawLinkOptions{
		Target:  opts.iface.Index,
		Program: objects.Programs["tc_ingress"],
		Attach:  attachTCXIngress,
	})
	if err != nil {
		log.Fatalf("cannot attach to %s (tcx needs kernel 6.6+): %v", opts.iface.Name, err)
	}
	defer attached.Close()

	fmt.Printf("%-5s %21s    %21s %6s\n", "PROTO", "SOURCE", "DESTINATION", "LEN")
	err = readEvents(objects.Maps["events"], stopped(opts), func(raw []byte) {
		var e event
		if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, &e); err != nil {
			log.Printf("bad record: %v", err)
			return
		}
		proto := "UDP"
		if e.Proto == 6 {
			proto = "TCP"
		}
		fmt.Printf("%-5s %15s:%-5d -> %15s:%-5d %6d\n", proto, net.IP(e.Saddr[:]), e.Sport,
			net.IP(e.Daddr[:]), e.Dport, e.Len)
	})
	if err != nil {
		log.Fatal(err)
	}
}
