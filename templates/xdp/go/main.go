// {{name}}: the user-space side, on cilium/ebpf. Attaches the XDP program to -i IFACE and
// prints the counters every -t seconds until Ctrl-C (or -d SECONDS).
package main

import (
	_ "embed"
	"fmt"
	"log"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

//go:embed {{name}}.bpf.o
var object []byte

// counter mirrors struct counter of ../{{name}}.h.
type counter struct {
	Packets uint64
	Bytes   uint64
}

func showCounts(counts *ebpf.Map) error {
	var proto uint32
	var value counter
	fmt.Printf("%-8s %12s %14s\n", "PROTO", "PACKETS", "BYTES")
	entries := counts.Iterate()
	for entries.Next(&proto, &value) {
		fmt.Printf("%-8d %12d %14d\n", proto, value.Packets, value.Bytes)
	}
	return entries.Err()
}

func main() {
	opts := parseOptions(true)
	objects, err := load(object, nil)
	if err != nil {
		log.Fatalf("cannot load the eBPF object: %v (are you root?)", err)
	}
	defer objects.Close()
	attached, err := link.AttachXDP(link.XDPOptions{
		Program:   objects.Programs["xdp_count"],
		Interface: opts.iface.Index,
	})
	if err != nil {
		log.Fatalf("cannot attach to %s: %v", opts.iface.Name, err)
	}
	defer attached.Close()

	err = every(opts.interval, stopped(opts), func() error { return showCounts(objects.Maps["counts"]) })
	if err != nil {
		log.Fatal(err)
	}
}
