// SPDX-License-Identifier: GPL-2.0
/* {{name}}: the user-space side, on the libbpf skeleton that `make` generates.
 * Opens the embedded object, sets its parameter, loads and attaches it, and prints one
 * line per event until Ctrl-C (or -d SECONDS). */
#include "loader.h"
#include "../{{name}}.h"
#include "{{name}}.skel.h"

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct event *e = data;

	(void)ctx;
	(void)size;
	printf("%-8u %-6u %-16s %s\n", e->pid, e->uid, e->comm, e->filename);
	return 0;
}

int main(int argc, char **argv)
{
	struct loader_options opts = loader_parse(argc, argv, false);
	struct ring_buffer *rb = NULL;
	struct {{ident}}_bpf *skel;
	int err = 1;

	skel = {{ident}}_bpf__open();
	if (!skel) {
		fprintf(stderr, "cannot open the eBPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_ppid = 0;	/* parameters are set between open and load */
	if ({{ident}}_bpf__load(skel) || {{ident}}_bpf__attach(skel)) {
		fprintf(stderr, "cannot load and attach: %s (are you root?)\n", strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "cannot read the ring buffer: %s\n", strerror(errno));
		goto out;
	}
	printf("%-8s %-6s %-16s %s\n", "PID", "UID", "COMM", "FILENAME");
	err = loader_poll(rb, &opts);
out:
	ring_buffer__free(rb);
	{{ident}}_bpf__destroy(skel);
	return err;
}
