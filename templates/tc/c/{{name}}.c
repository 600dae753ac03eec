// SPDX-License-Identifier: GPL-2.0
/* {{name}}: the user-space side, on the libbpf skeleton that `make` generates.
 * Attaches the program to the TC ingress hook of -i IFACE (a clsact qdisc, created if
 * missing) and prints one line per packet until Ctrl-C (or -d SECONDS); then it removes
 * the filter, and the qdisc if it created it. */
#include <arpa/inet.h>
#include "loader.h"
#include "../{{name}}.h"
#include "{{name}}.skel.h"

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct event *e = data;
	char saddr[INET_ADDRSTRLEN], daddr[INET_ADDRSTRLEN];

	(void)ctx;
	(void)size;
	inet_ntop(AF_INET, &e->saddr, saddr, sizeof(saddr));
	inet_ntop(AF_INET, &e->daddr, daddr, sizeof(daddr));
	printf("%-5s %15s:%-5u -> %15s:%-5u %6u\n", e->proto == 6 ? "TCP" : "UDP", saddr,
	       e->sport, daddr, e->dport, e->len);
	return 0;
}

int main(int argc, char **argv)
{
	struct loader_options opts = loader_parse(argc, argv, true);
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, filter);
	struct ring_buffer *rb = NULL;
	struct {{ident}}_bpf *skel;
	bool created = false, attached = false;
	int err = 1;

	skel = {{ident}}_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "cannot load the eBPF object: %s (are you root?)\n", strerror(errno));
		return 1;
	}
	hook.ifindex = opts.ifindex;
	err = bpf_tc_hook_create(&hook);
	created = !err;
	if (err && err != -EEXIST) {
		fprintf(stderr, "cannot create the clsact qdisc on %s: %s\n", opts.iface, strerror(-err));
		goto out;
	}
	filter.prog_fd = bpf_program__fd(skel->progs.tc_ingress);
	err = bpf_tc_attach(&hook, &filter);
	if (err) {
		fprintf(stderr, "cannot attach to %s: %s\n", opts.iface, strerror(-err));
		err = 1;
		goto out;
	}
	attached = true;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "cannot read the ring buffer: %s\n", strerror(errno));
		err = 1;
		goto out;
	}
	printf("%-5s %21s    %21s %6s\n", "PROTO", "SOURCE", "DESTINATION", "LEN");
	err = loader_poll(rb, &opts);
out:
	ring_buffer__free(rb);
	if (attached) {	/* a TC filter outlives the process unless removed */
		filter.prog_fd = filter.prog_id = filter.flags = 0;
		bpf_tc_detach(&hook, &filter);
	}
	if (created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;	/* names the qdisc itself */
		bpf_tc_hook_destroy(&hook);
	}
	{{ident}}_bpf__destroy(skel);
	return err;
}
