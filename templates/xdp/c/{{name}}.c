// SPDX-License-Identifier: GPL-2.0
/* {{name}}: the user-space side, on the libbpf skeleton that `make` generates.
 * Attaches the XDP program to -i IFACE and prints the counters every -t seconds until
 * Ctrl-C (or -d SECONDS). */
#include "loader.h"
#include "../{{name}}.h"
#include "{{name}}.skel.h"

static int show_counts(void *ctx)
{
	struct {{ident}}_bpf *skel = ctx;
	int fd = bpf_map__fd(skel->maps.counts);
	__u32 key, *prev = NULL;
	struct counter value;

	printf("%-8s %12s %14s\n", "PROTO", "PACKETS", "BYTES");
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		if (bpf_map_lookup_elem(fd, &key, &value) == 0)
			printf("%-8u %12llu %14llu\n", key, (unsigned long long)value.packets,
			       (unsigned long long)value.bytes);
		prev = &key;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct loader_options opts = loader_parse(argc, argv, true);
	struct {{ident}}_bpf *skel;
	int err = 1;

	skel = {{ident}}_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "cannot load the eBPF object: %s (are you root?)\n", strerror(errno));
		return 1;
	}
	/* Kept in the skeleton, the link is detached by __destroy(). */
	skel->links.xdp_count = bpf_program__attach_xdp(skel->progs.xdp_count, opts.ifindex);
	if (!skel->links.xdp_count) {
		fprintf(stderr, "cannot attach to %s: %s\n", opts.iface, strerror(errno));
		goto out;
	}
	err = loader_every(&opts, show_counts, skel);
out:
	{{ident}}_bpf__destroy(skel);
	return err;
}
