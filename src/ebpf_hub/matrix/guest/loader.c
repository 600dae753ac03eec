/* The matrix guest's loader: for each object, each program alone is loaded (the kernel's
 * verifier runs), attached, reported, then everything is closed again.
 *
 * Loading one program at a time (libbpf's autoload switched off for the others) gives a result
 * per program: libbpf stops an object's load at its first failing program, which would hide
 * every program after it. Each result is one line on stdout (the serial console), framed as
 * "@@ebpf-hub@@ {JSON}" and written with one write(2) so that the host can find it among the
 * kernel's messages. The host, not this program, decides pass, fail or skip: this side only
 * says what happened (the phase that failed, errno and libbpf's log with the verifier's).
 *
 * An object with a `trigger` beside it (its package's trigger script) is then loaded whole,
 * every program attached, and the trigger run: the "(trigger)" result says whether output
 * arrived (records in the `events` ring buffer or perf buffer, else an entry in a map). The
 * programs named in an `optional` file beside it (one a line) whose hook this kernel lacks
 * are left out of that run, as `ebpf-hub run` leaves them out; the result names them.
 *
 *   loader OBJECT...   (files not ending in .o, such as a trigger, are passed over)
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define FRAME "@@ebpf-hub@@ "
#define LOG_CAP (256 * 1024)
#define LOOPBACK 1 /* ifindex of lo, the interface XDP and TC programs attach to */

static char log_text[LOG_CAP];
static size_t log_len;

static int keep_log(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG || log_len >= LOG_CAP - 1)
		return 0;
	int n = vsnprintf(log_text + log_len, LOG_CAP - log_len, format, args);
	if (n > 0)
		log_len += (size_t)n < LOG_CAP - log_len ? (size_t)n : LOG_CAP - 1 - log_len;
	return 0;
}

struct out {
	char *text;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->text = realloc(o->text, o->cap);
		if (!o->text)
			exit(3);
	}
	memcpy(o->text + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A JSON string: quotes, backslashes and every byte outside printable ASCII escaped. */
static void put_json(struct out *o, const char *s)
{
	char esc[8];
	put_str(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, 6);
		} else {
			put(o, (const char *)s, 1);
		}
	}
	put_str(o, "\"");
}

static void emit(struct out *o)
{
	put_str(o, "}\n");
	size_t done = 0;
	while (done < o->len) {
		ssize_t n = write(STDOUT_FILENO, o->text + done, o->len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	free(o->text);
}

static long long started_usec;

static long long now_usec(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000000LL + now.tv_nsec / 1000;
}

/* A list of program names: the ones an object has, its optional ones, or those whose hook
 * this kernel lacks. */
struct names {
	char **name;
	size_t count;
};

static void add_name(struct names *names, const char *name)
{
	names->name = realloc(names->name, (names->count + 1) * sizeof(*names->name));
	if (!names->name || !(names->name[names->count++] = strdup(name)))
		exit(3);
}

static int has_name(const struct names *names, const char *name)
{
	for (size_t i = 0; i < names->count; i++)
		if (strcmp(names->name[i], name) == 0)
			return 1;
	return 0;
}

static void put_names(struct out *o, const struct names *names)
{
	put_str(o, "[");
	for (size_t i = 0; i < names->count; i++) {
		if (i)
			put_str(o, ", ");
		put_json(o, names->name[i]);
	}
	put_str(o, "]");
}

static void free_names(struct names *names)
{
	while (names->count)
		free(names->name[--names->count]);
	free(names->name);
	names->name = NULL;
}

/* One result; `left_out` (a trigger run's) names the optional programs it did without. */
static void report(const char *object, const char *program, const char *section,
		   const char *phase, int err, const struct names *left_out)
{
	struct out o = {0};
	char number[64];
	put_str(&o, FRAME "{\"object\": ");
	put_json(&o, object);
	put_str(&o, ", \"program\": ");
	put_json(&o, program);
	put_str(&o, ", \"section\": ");
	put_json(&o, section);
	put_str(&o, ", \"phase\": ");
	put_json(&o, phase);
	snprintf(number, sizeof(number), ", \"errno\": %d, \"usec\": %lld", err < 0 ? -err : err,
		 now_usec() - started_usec);
	put_str(&o, number);
	if (left_out) {
		put_str(&o, ", \"left_out\": ");
		put_names(&o, left_out);
	}
	put_str(&o, ", \"log\": ");
	log_text[log_len] = '\0';
	put_json(&o, log_text);
	emit(&o);
}

#define TCX_INGRESS 46 /* BPF_TCX_INGRESS (6.6), newer than this libbpf's headers */

/* TC on lo's ingress: a tcx link where the kernel has them (6.6+, nothing else needed), else
 * the clsact qdisc over netlink (a module in some kernels: its absence is reported). */
static int attach_tc(struct bpf_program *prog)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = LOOPBACK, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog));
	int link = bpf_link_create(bpf_program__fd(prog), LOOPBACK, TCX_INGRESS, NULL);
	if (link >= 0) {
		close(link);
		return 0;
	}
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	bpf_tc_hook_destroy(&hook);
	return err;
}

/* Attach the way `ebpf-hub run` would without a target: XDP and TC on lo, the rest by
 * their section name. A section that names no target makes libbpf answer EOPNOTSUPP. */
static int attach(struct bpf_program *prog)
{
	struct bpf_link *link;
	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_SCHED_CLS:
		return attach_tc(prog);
	case BPF_PROG_TYPE_XDP:
		link = bpf_program__attach_xdp(prog, LOOPBACK);
		break;
	default:
		link = bpf_program__attach(prog);
	}
	if (!link)
		return -errno;
	bpf_link__destroy(link);
	return 0;
}

/* Whether a failure says that the program's hook is not in this kernel (the host's judge
 * reads the same signs): a tracepoint or function missing at attach, or a BTF type or
 * symbol missing at load. */
static int hook_missing(const char *phase, int err)
{
	if (strcmp(phase, "attach") == 0)
		return err == -ENOENT;
	log_text[log_len] = '\0';
	return strcmp(phase, "load") == 0 && (strstr(log_text, "failed to find kernel BTF type ID") ||
					      strstr(log_text, "failed to find BTF for extern"));
}

/* Load and attach the program `name` of `path` alone and report it; returns whether it
 * failed because its hook is missing here. */
static int try_program(const char *path, const char *name)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog, *chosen = NULL;
	const char *phase = "load";
	int err;

	if (!obj) {
		report(path, name, "", "open", -errno, NULL);
		return 0;
	}
	bpf_object__for_each_program(prog, obj) {
		int mine = strcmp(bpf_program__name(prog), name) == 0;
		bpf_program__set_autoload(prog, mine);
		if (mine)
			chosen = prog;
	}
	err = bpf_object__load(obj);
	if (!err) {
		phase = "attach";
		err = attach(chosen);
	}
	int missing = err && hook_missing(phase, err);
	report(path, name, bpf_program__section_name(chosen), err ? phase : "done", err, NULL);
	bpf_object__close(obj);
	return missing;
}

/* Each program of `path` alone; the names of those whose hook is missing go to `missing`. */
static void try_object(const char *path, struct names *missing)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct names all = {0};

	log_len = 0;
	started_usec = now_usec();
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		report(path, "", "", "open", -errno, NULL);
		return;
	}
	bpf_object__for_each_program(prog, obj)
		add_name(&all, bpf_program__name(prog));
	bpf_object__close(obj);
	for (size_t i = 0; i < all.count; i++) {
		log_len = 0;
		started_usec = now_usec();
		if (try_program(path, all.name[i]))
			add_name(missing, all.name[i]);
	}
	free_names(&all);
}

#define TRIGGER_PROGRAM "(trigger)"
#define TRIGGER_FILE "trigger"   /* beside the objects: the package's trigger script */
#define OPTIONAL_FILE "optional" /* beside the objects: its optional programs, one a line */
#define MAX_LINKS 64

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(long *)ctx)++;
	return 0;
}

static void count_sample(void *ctx, int cpu, void *data, __u32 size)
{
	(void)cpu;
	count_record(ctx, data, size);
}

/* Whether any map the program writes (not its .rodata/.bss/.data) holds an entry. */
static int maps_hold_entries(struct bpf_object *obj)
{
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type type = bpf_map__type(map);
		if (strchr(bpf_map__name(map), '.') || type == BPF_MAP_TYPE_RINGBUF ||
		    type == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
			continue;
		size_t key_size = bpf_map__key_size(map);
		size_t value_size = bpf_map__value_size(map) * (size_t)libbpf_num_possible_cpus();
		char *key = calloc(1, key_size), *next = calloc(1, key_size);
		char *value = calloc(1, value_size);
		int found = 0, fd = bpf_map__fd(map);
		if (!key || !next || !value)
			exit(3);
		int err = bpf_map_get_next_key(fd, NULL, next);
		while (!err && !found) {
			if (bpf_map_lookup_elem(fd, next, value) == 0)
				for (size_t i = 0; i < value_size && !found; i++)
					found = value[i] != 0;
			memcpy(key, next, key_size);
			err = bpf_map_get_next_key(fd, key, next);
		}
		free(key);
		free(next);
		free(value);
		if (found)
			return 1;
	}
	return 0;
}

/* A trigger exits TRIGGER_CANNOT_RUN (77, the test-suite convention for "skipped") when what
 * it needs is not in this guest (a block device, a tool): the result is then a skip. */
#define TRIGGER_CANNOT_RUN 77

static int run_trigger(const char *trigger)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/busybox", "sh", trigger, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == TRIGGER_CANNOT_RUN)
		return TRIGGER_CANNOT_RUN;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* Load `path` whole, attach its programs, run `trigger`, and report whether output came.
 * An optional program whose hook is missing here (`skip`) is left out, as `ebpf-hub run`
 * leaves it out with a note; any other program that does not attach ends the run: its own
 * result says why. */
static void try_trigger(const char *path, const char *trigger, const struct names *skip)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *links[MAX_LINKS];
	struct ring_buffer *ring = NULL;
	struct perf_buffer *perf = NULL;
	struct names left_out = {0};
	size_t linked = 0;
	long records = 0;
	int err;

	log_len = 0;
	started_usec = now_usec();
	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return; /* the per-program results said why */
	bpf_object__for_each_program(prog, obj) {
		if (has_name(skip, bpf_program__name(prog))) {
			bpf_program__set_autoload(prog, 0);
			add_name(&left_out, bpf_program__name(prog));
		}
	}
	if (bpf_object__load(obj))
		goto out;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if (linked == MAX_LINKS || !(links[linked] = bpf_program__attach(prog)))
			goto out;
		linked++;
	}
	struct bpf_map *events = bpf_object__find_map_by_name(obj, "events");
	if (events && bpf_map__type(events) == BPF_MAP_TYPE_RINGBUF)
		ring = ring_buffer__new(bpf_map__fd(events), count_record, &records, NULL);
	else if (events && bpf_map__type(events) == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		perf = perf_buffer__new(bpf_map__fd(events), 8, count_sample, NULL, &records, NULL);
	err = run_trigger(trigger);
	for (int i = 0; i < 10 && !records; i++) {
		if (ring)
			ring_buffer__poll(ring, 100);
		else if (perf)
			perf_buffer__poll(perf, 100);
		else
			break;
	}
	const char *phase = "no-output";
	if (err == TRIGGER_CANNOT_RUN)
		phase = "cannot-trigger", err = 0;
	else if (err)
		phase = "trigger";
	else if (records || maps_hold_entries(obj))
		phase = "output";
	report(path, TRIGGER_PROGRAM, trigger, phase, err, &left_out);
out:
	ring_buffer__free(ring);
	perf_buffer__free(perf);
	while (linked)
		bpf_link__destroy(links[--linked]);
	bpf_object__close(obj);
	free_names(&left_out);
}

static int is_object(const char *path)
{
	size_t n = strlen(path);
	return n > 2 && strcmp(path + n - 2, ".o") == 0;
}

/* The names listed one per line in `path` (none when there is no such file). */
static void read_names(const char *path, struct names *names)
{
	char line[256];
	FILE *file = fopen(path, "r");
	if (!file)
		return;
	while (fgets(line, sizeof(line), file)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			add_name(names, line);
	}
	fclose(file);
}

/* Each program of the object alone; then, with a `trigger` beside it, the whole object with
 * the trigger, leaving out the programs listed in `optional` beside it whose hook is missing. */
static void try_with_trigger(const char *path)
{
	char trigger[4096], listed[4096];
	struct names missing = {0}, optional = {0}, skip = {0};
	const char *slash = strrchr(path, '/');
	int dir = slash ? (int)(slash - path) : 0;
	try_object(path, &missing);
	snprintf(trigger, sizeof(trigger), "%.*s/" TRIGGER_FILE, dir, path);
	snprintf(listed, sizeof(listed), "%.*s/" OPTIONAL_FILE, dir, path);
	read_names(listed, &optional);
	for (size_t i = 0; i < missing.count; i++)
		if (has_name(&optional, missing.name[i]))
			add_name(&skip, missing.name[i]);
	if (access(trigger, R_OK) == 0)
		try_trigger(path, trigger, &skip);
	free_names(&missing);
	free_names(&optional);
	free_names(&skip);
}

int main(int argc, char **argv)
{
	struct utsname host;
	struct out o = {0};

	setvbuf(stdout, NULL, _IONBF, 0);
	libbpf_set_print(keep_log);
	uname(&host);
	put_str(&o, FRAME "{\"kernel\": ");
	put_json(&o, host.release);
	put_str(&o, ", \"machine\": ");
	put_json(&o, host.machine);
	put_str(&o, access("/sys/kernel/btf/vmlinux", R_OK) == 0 ? ", \"btf\": true"
								: ", \"btf\": false");
	emit(&o);
	for (int i = 1; i < argc; i++)
		if (is_object(argv[i]))
			try_with_trigger(argv[i]);
	o = (struct out){0};
	put_str(&o, FRAME "{\"done\": true");
	emit(&o);
	return 0;
}
