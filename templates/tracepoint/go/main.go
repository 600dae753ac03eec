// {{name}}: the user-space side, on cilium/ebpf. Loads the embedded object, attaches it to
// its tracepoint and prints one line per event until Ctrl-C (or -d SECONDS).
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
	Uid      uint32
	Comm     [16]byte
	Filename [128]byte
}

func main() {
	opts := parseOptions(false)
	objects, err := load(object, map[string]interface{}{"target_ppid": int32(0)})
	if err != nil {
		log.Fatalf("cannot load the eBPF object: %v (are you root?)", err)
	}
	defer objects.Close()
	if err := ensureDebugfs(); err != nil {
		log.Fatal(err)
	}
	attached, err := link.Tracepoint("syscalls", "sys_enter_execve", objects.Programs["handle_execve"], nil)
	if err != nil {
		log.Fatalf("cannot attach: %v", err)
	}
	defer attached.Close()

	fmt.Printf("%-8s %-6s %-16s %s\n", "PID", "UID", "COMM", "FILENAME")
	err = readEvents(objects.Maps["events"], stopped(opts), func(raw []byte) {
		var e event
		if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, &e); err != nil {
			log.Printf("bad record: %v", err)
			return
		}
		fmt.Printf("%-8d %-6d %-16s %s\n", e.Pid, e.Uid, cString(e.Comm[:]), cString(e.Filename[:]))
	})
	if err != nil {
		log.Fatal(err)
	}
}
