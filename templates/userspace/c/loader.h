/* SPDX-License-Identifier: GPL-2.0 */
/* What every libbpf loader needs besides its skeleton: options, Ctrl-C, the wait loop,
 * libbpf's log, and printing a log2 histogram. */
#pragma once

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct loader_options {
	double duration;	/* -d SECONDS: stop after that long; 0 = until Ctrl-C */
	double interval;	/* -t SECONDS: how often map contents are printed */
	const char *iface;	/* -i IFACE: where XDP and TC programs attach */
	unsigned int ifindex;
};

static volatile sig_atomic_t loader_stopping;

static void loader_stop(int signo)
{
	(void)signo;
	loader_stopping = 1;
}

/* libbpf's warnings go to stderr; its informational chatter does not. */
static int loader_log(enum libbpf_print_level level, const char *format, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, format, args) : 0;
}

static inline struct loader_options loader_parse(int argc, char **argv, bool needs_iface)
{
	struct loader_options opts = { .interval = 1.0 };
	int c;

	while ((c = getopt(argc, argv, "d:t:i:h")) != -1) {
		switch (c) {
		case 'd': opts.duration = atof(optarg); break;
		case 't': opts.interval = atof(optarg); break;
		case 'i': opts.iface = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-d SECONDS] [-t INTERVAL]%s\n", argv[0],
				needs_iface ? " -i IFACE" : "");
			exit(c == 'h' ? 0 : 2);
		}
	}
	if (needs_iface) {
		opts.ifindex = opts.iface ? if_nametoindex(opts.iface) : 0;
		if (!opts.ifindex) {
			fprintf(stderr, "%s: give an existing interface with -i IFACE\n", argv[0]);
			exit(2);
		}
	}
	libbpf_set_print(loader_log);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* one line at a time, even into a pipe */
	signal(SIGINT, loader_stop);
	signal(SIGTERM, loader_stop);
	return opts;
}

static inline double loader_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Deliver ring buffer records to their callback until Ctrl-C, SIGTERM or the duration. */
static inline int loader_poll(struct ring_buffer *rb, const struct loader_options *opts)
{
	double end = loader_now() + opts->duration;

	while (!loader_stopping && (!opts->duration || loader_now() < end)) {
		int err = ring_buffer__poll(rb, 100);

		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "reading events: %s\n", strerror(-err));
			return 1;
		}
	}
	return 0;
}

/* Call show(ctx) every interval until Ctrl-C, SIGTERM or the duration, and once at the end. */
static inline int loader_every(const struct loader_options *opts, int (*show)(void *), void *ctx)
{
	double end = loader_now() + opts->duration, next = loader_now() + opts->interval;

	while (!loader_stopping && (!opts->duration || loader_now() < end)) {
		struct timespec tick = { 0, 50 * 1000 * 1000 };

		nanosleep(&tick, NULL);
		if (loader_now() >= next) {
			if (show(ctx))
				return 1;
			next += opts->interval;
		}
	}
	return show(ctx);
}

/* A log2 histogram as bcc's tools draw it: slot i counts values in [2^(i-1), 2^i). */
static inline void loader_print_log2_hist(const __u64 *slots, int n, const char *unit)
{
	__u64 max = 0;
	int last = -1;

	for (int i = 0; i < n; i++) {
		if (slots[i])
			last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	printf("%*s%-*s : count     distribution\n", 10, "", 14, unit);
	for (int i = 0; i <= last; i++) {
		unsigned long long low = i ? 1ULL << (i - 1) : 0, high = (1ULL << i) - 1;
		int width = max ? (int)(slots[i] * 40 / max) : 0;

		printf("%10llu -> %-10llu : %-9llu |%-40.*s|\n", low, high,
		       (unsigned long long)slots[i], width,
		       "****************************************");
	}
}
