// A package with an optional program whose hook no kernel has, beside one that records each
// unlink(2) (busybox's rm calls it; x86_64 has it) into the `events` ring buffer:
// tests/test_matrix.py runs it on x86_64 with the `triggered` trigger, once with `on_missing`
// declared optional (left out of the trigger run, which then sees output) and once without
// (the trigger run cannot attach everything: no result).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 seen;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_unlink")
int on_unlink(void *ctx)
{
	struct event *record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);

	if (!record)
		return 0;
	record->seen = 1;
	bpf_ringbuf_submit(record, 0);
	return 0;
}

SEC("tracepoint/nosuch/hook_here")
int on_missing(void *ctx)
{
	return 0;
}
