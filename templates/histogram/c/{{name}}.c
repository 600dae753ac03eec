// SPDX-License-Identifier: GPL-2.0
/* {{name}}: the user-space side, on the libbpf skeleton that `make` generates.
 * Loads and attaches the embedded object and draws the histogram every -t seconds until
 * Ctrl-C (or -d SECONDS). */
#include "loader.h"
#include "../{{name}}.h"
#include "{{name}}.skel.h"

static int show_hist(void *ctx)
{
	struct {{ident}}_bpf *skel = ctx;
	__u32 key = HIST_KEY, slots = bpf_map__value_size(skel->maps.hist) / sizeof(__u64);
	__u64 value[slots];

	if (bpf_map__lookup_elem(skel->maps.hist, &key, sizeof(key), value, sizeof(value), 0)) {
		fprintf(stderr, "cannot read the histogram: %s\n", strerror(errno));
		return 1;
	}
	loader_print_log2_hist(value, slots, "usecs");
	return 0;
}

int main(int argc, char **argv)
{
	struct loader_options opts = loader_parse(argc, argv, false);
	struct {{ident}}_bpf *skel;
	int err = 1;

	skel = {{ident}}_bpf__open();
	if (!skel) {
		fprintf(stderr, "cannot open the eBPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_pid = 0;	/* parameters are set between open and load */
	if ({{ident}}_bpf__load(skel) || {{ident}}_bpf__attach(skel)) {
		fprintf(stderr, "cannot load and attach: %s (are you root?)\n", strerror(errno));
		goto out;
	}
	err = loader_every(&opts, show_hist, skel);
out:
	{{ident}}_bpf__destroy(skel);
	return err;
}
