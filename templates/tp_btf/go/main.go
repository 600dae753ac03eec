// {{name}}: the user-space side, on cilium/ebpf. Loads the embedded object, attaches it to
// its BTF-enabled tracepoint and prints one line per process exit until Ctrl-C (or -d SECONDS).
package main

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"fmt"
	"log"

	"github.com/cilium/ebpf/link"
)

//go:embed {{name}}.bpf.o
var object []byte

// event mirrors struct event of ../{{name}}.h, field for field.
type event struct {
	Pid      uint32
	Ppid     uint32
	ExitCode int32
	Comm     [16]byte
}

func main() {
	opts := parseOptions(false)
	objects, err := load(object, nil)
	if err != nil {
		log.Fatalf("cannot load the eBPF object: %v (are you root?)", err)
	}
	defer objects.Close()
	attached, err := link.AttachTracing(link.TracingOptions{Program: objects.Programs["handle_exit"]})
	if err != nil {
		log.Fatalf("cannot attach: %v", err)
	}
	defer attached.Close()

	fmt.Printf("%-8s %-8s %-5s %s\n", "PID", "PPID", "EXIT", "COMM")
	err = readEvents(objects.Maps["events"], stopped(opts), func(raw []byte) {
		var e event
		if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, &e); err != nil {
			log.Printf("bad record: %v", err)
			return
		}
		fmt.Printf("%-8d %-8d %-5d %s\n", e.Pid, e.Ppid, e.ExitCode, cString(e.Comm[:]))
	})
	if err != nil {
		log.Fatal(err)
	}
}
