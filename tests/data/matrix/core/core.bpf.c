// A CO-RE program: its field read is relocated against the kernel's BTF, so libbpf cannot
// load it where it finds none (tests/test_matrix.py boots a guest with BTF hidden).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_openat")
int reads_task(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, tgid) < 0;
}
