// SPDX-License-Identifier: GPL-2.0
/* {{name}}: the user-space side, on the libbpf skeleton that `make` generates.
 * Loads the embedded object; libbpf finds libc.so.6 and getaddrinfo() from the program's
 * section when it attaches. Prints one line per lookup until Ctrl-C (or -d SECONDS). */
#include "loader.h"
#include "../{{name}}.h"
#include "{{name}}.skel.h"

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct event *e = data;

	(void)ctx;
	(void)size;
	printf("%-8u %-16s %s\n", e->pid, e->comm, e->host);
	return 0;
}

int main(int argc, char **argv)
{
	struct loader_options opts = loader_parse(argc, argv, false);
	struct ring_buffer *rb = NULL;
	struct {{ident}}_bpf *skel;
	int err = 1;

	skel = {{ident}}_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "cannot load the eBPF object: %s (are you root?)\n", strerror(errno));
		return 1;
	}
	if ({{ident}}_bpf__attach(skel)) {
		fprintf(stderr, "cannot attach: %s\n", strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "cannot read the ring buffer: %s\n", strerror(errno));
		goto out;
	}
	printf("%-8s %-16s %s\n", "PID", "COMM", "HOST");
	err = loader_poll(rb, &opts);
out:
	ring_buffer__free(rb);
	{{ident}}_bpf__destroy(skel);
	return err;
}
