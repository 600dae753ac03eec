// What every cilium/ebpf loader needs besides its own code: options, Ctrl-C, loading the
// embedded object, reading the ring buffer, printing maps on an interval and histograms.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

type options struct {
	duration time.Duration  // -d SECONDS: stop after that long; 0 = until Ctrl-C
	interval time.Duration  // -t SECONDS: how often map contents are printed
	iface    *net.Interface // -i IFACE: where XDP and TC programs attach
}

func parseOptions(needsIface bool) options {
	duration := flag.Float64("d", 0, "stop after this many seconds (default: until Ctrl-C)")
	interval := flag.Float64("t", 1, "print map contents every this many seconds")
	iface := flag.String("i", "", "interface XDP and TC programs attach to")
	flag.Parse()
	log.SetFlags(0)
	opts := options{
		duration: time.Duration(*duration * float64(time.Second)),
		interval: time.Duration(*interval * float64(time.Second)),
	}
	if needsIface {
		found, err := net.InterfaceByName(*iface)
		if err != nil {
			log.Fatalf("give an existing interface with -i IFACE: %v", err)
		}
		opts.iface = found
	}
	return opts
}

// stopped is closed on Ctrl-C, on SIGTERM, or once the duration has passed.
func stopped(opts options) <-chan struct{} {
	done := make(chan struct{})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		var timeout <-chan time.Time
		if opts.duration > 0 {
			timeout = time.After(opts.duration)
		}
		select {
		case <-signals:
		case <-timeout:
		}
		close(done)
	}()
	return done
}

// load creates the maps and programs of the embedded object in the kernel, with its
// `const volatile` parameters set from params first (nil: the defaults).
func load(object []byte, params map[string]interface{}) (*ebpf.Collection, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(object))
	if err != nil {
		return nil, err
	}
	if params != nil {
		if err := spec.RewriteConstants(params); err != nil {
			return nil, err
		}
	}
	types, err := kernelTypes()
	if err != nil {
		return nil, fmt.Errorf("reading the kernel's BTF: %w", err)
	}
	options := ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: types}}
	return ebpf.NewCollectionWithOptions(spec, options)
}

// readEvents hands each record of a ring buffer to handle until stop is closed.
func readEvents(events *ebpf.Map, stop <-chan struct{}, handle func([]byte)) error {
	reader, err := ringbuf.NewReader(events)
	if err != nil {
		return err
	}
	go func() {
		<-stop
		reader.Close()
	}()
	for {
		record, err := reader.Read()
		if errors.Is(err, ringbuf.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		handle(record.RawSample)
	}
}

// every calls show each interval until stop is closed, and once more at the end.
func every(interval time.Duration, stop <-chan struct{}, show func() error) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			if err := show(); err != nil {
				return err
			}
		case <-stop:
			return show()
		}
	}
}

// printLog2Hist draws a log2 histogram as bcc's tools do: slot i counts [2^(i-1), 2^i).
func printLog2Hist(slots []uint64, unit string) {
	var max uint64
	last := -1
	for i, count := range slots {
		if count > 0 {
			last = i
		}
		if count > max {
			max = count
		}
	}
	fmt.Printf("%10s%-14s : count     distribution\n", "", unit)
	for i := 0; i <= last; i++ {
		low, high := uint64(0), uint64(1)<<i-1
		if i > 0 {
			low = 1 << (i - 1)
		}
		width := int(slots[i] * 40 / max)
		fmt.Printf("%10d -> %-10d : %-9d |%-40s|\n", low, high, slots[i], strings.Repeat("*", width))
	}
}

// cString is a NUL-terminated C char array as a Go string.
func cString(chars []byte) string {
	if end := bytes.IndexByte(chars, 0); end >= 0 {
		chars = chars[:end]
	}
	return string(chars)
}

// ensureDebugfs mounts debugfs if it is not: cilium/ebpf 0.9.1 looks tracepoints up under
// /sys/kernel/debug/tracing.
func ensureDebugfs() error {
	if _, err := os.Stat("/sys/kernel/debug/tracing/events"); err == nil {
		return nil
	}
	if err := syscall.Mount("none", "/sys/kernel/debug", "debugfs", 0, ""); err != nil {
		return fmt.Errorf("mounting debugfs at /sys/kernel/debug (tracepoints need it): %w", err)
	}
	return nil
}
