// One record per unlink(2) or unlinkat(2) into the `events` ring buffer: tests/test_matrix.py
// runs it in the guest with a trigger that removes a file (output arrives) and one that does
// not (quiet-trigger: none does).
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

static int record_unlink(void)
{
	struct event *record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);

	if (!record)
		return 0;
	record->seen = 1;
	bpf_ringbuf_submit(record, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int on_unlinkat(void *ctx)
{
	return record_unlink();
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int on_unlink(void *ctx)
{
	return record_unlink();
}
