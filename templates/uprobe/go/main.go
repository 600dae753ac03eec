// {{name}}: the user-space side, on cilium/ebpf. Loads the embedded object, attaches it to
// getaddrinfo() in libc and prints one line per lookup until Ctrl-C (or -d SECONDS).
package main

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/cilium/ebpf/link"
)

//go:embed {{name}}.bpf.o
var object []byte

// Where distributions keep libc; -libc overrides it.
var libcPaths = []string{
	"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/lib64/libc.so.6", "/usr/lib64/libc.so.6", "/usr/lib/libc.so.6",
}

// event mirrors struct event of ../{{name}}.h, field for field.
type event struct {
	Pid  uint32
	Comm [16]byte
	Host [80]byte
}

func findLibc(given string) string {
	if given != "" {
		return given
	}
	for _, path := range libcPaths {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	log.Fatal("libc.so.6 not found; give its path with -libc PATH")
	return ""
}

func main() {
	libc := flag.String("libc", "", "path of libc.so.6 (default: found in the usual places)")
	opts := parseOptions(false)
	objects, err := load(object, nil)
	if err != nil {
		log.Fatalf("cannot load the eBPF object: %v (are you root?)", err)
	}
	defer objects.Close()
	executable, err := link.OpenExecutable(findLibc(*libc))
	if err != nil {
		log.Fatal(err)
	}
	attached, err := executable.Uprobe("getaddrinfo", objects.Programs["handle_getaddrinfo"], nil)
	if err != nil {
		log.Fatalf("cannot attach: %v", err)
	}
	defer attached.Close()

	fmt.Printf("%-8s %-16s %s\n", "PID", "COMM", "HOST")
	err = readEvents(objects.Maps["events"], stopped(opts), func(raw []byte) {
		var e event
		if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, &e); err != nil {
			log.Printf("bad record: %v", err)
			return
		}
		fmt.Printf("%-8d %-16s %s\n", e.Pid, cString(e.Comm[:]), cString(e.Host[:]))
	})
	if err != nil {
		log.Fatal(err)
	}
}
