// {{name}}: the user-space side, on cilium/ebpf. Loads the embedded object, attaches its
// two tracepoint programs and draws the histogram every -t seconds until Ctrl-C (or -d).
package main

import (
	_ "embed"
	"log"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

//go:embed {{name}}.bpf.o
var object []byte

// The key of the histogram in the hist map: HIST_KEY of ../{{name}}.h.
const histKey = uint32(0)

func showHist(hist *ebpf.Map) error {
	slots := make([]uint64, hist.ValueSize()/8)
	if err := hist.Lookup(histKey, slots); err != nil {
		return err
	}
	printLog2Hist(slots, "usecs")
	return nil
}

func main() {
	opts := parseOptions(false)
	objects, err := load(object, map[string]interface{}{"target_pid": int32(0)})
	if err != nil {
		log.Fatalf("cannot load the eBPF object: %v (are you root?)", err)
	}
	defer objects.Close()
	if err := ensureDebugfs(); err != nil {
		log.Fatal(err)
	}
	for program, event := range map[string]string{"read_enter": "sys_enter_read", "read_exit": "sys_exit_read"} {
		attached, err := link.Tracepoint("syscalls", event, objects.Programs[program], nil)
		if err != nil {
			log.Fatalf("cannot attach %s: %v", program, err)
		}
		defer attached.Close()
	}

	err = every(opts.interval, stopped(opts), func() error { return showHist(objects.Maps["hist"]) })
	if err != nil {
		log.Fatal(err)
	}
}
