// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* hcitrace's argp parser. No exit() here: errors come back to main(). */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "core/cmd.h"
#include "fmt/httpd.h"
#include "options.h"

const char *argp_program_version =
	"hcitrace 0.2.0 (formats: csv v1, json v1, guest wire v1, record v1)";

static const char doc[] =
"Trace where each block I/O spends its time on this host, per origin.\n"
"Inside a VM: hcitrace guest [OPTION...] (see hcitrace guest --help).\n"
"\n"
"Stages: Q2G (bio queued to request allocated), G2I (to insert), I2D (to\n"
"dispatch), G2D (allocated to dispatch), D2C (device), Q2C (total). A stage\n"
"the kernel skipped is reported as absent, never as zero. Origins are\n"
"vm:<name>, container:<id|name> and host:<cgroup path>.\n"
"\n"
"EXAMPLES:\n"
"    hcitrace                      # trace until Ctrl-C, then summarize\n"
"    hcitrace 1 10                 # ten 1-second summaries\n"
"    hcitrace -d loop0 -H          # one disk, with histograms\n"
"    hcitrace -p -d loop0          # one line per request, like biosnoop\n"
"    hcitrace --origin vm          # only I/O issued by VMs\n"
"    hcitrace --vmm -p             # VMM requests and their host bios\n"
"    hcitrace --vm guest1 -H       # one VM's VMM layer, with histograms\n"
"    hcitrace -c /mygroup          # only one blkio/io cgroup\n"
"    hcitrace --csv out.csv -- fio job.fio   # trace a benchmark, export\n"
"    hcitrace --record run.hcr -d nvme0n1 --duration 20\n"
"    hcitrace report run.hcr --json run.json\n"
"                                  # every request kept, then read back\n"
"    hcitrace --rule '/tenants/*=container' --duration 30\n"
"    hcitrace --vm guest1 --guest-channel /run/guest1.hci --breakdown\n"
"                                  # join the guest's stream: full breakdown\n"
"    hcitrace --listen :9464       # serve Prometheus metrics until stopped\n"
"    hcitrace 10 --prom-file /var/lib/node_exporter/hcitrace.prom\n"
"                                  # the same, for node_exporter, every 10 s\n"
"\v"
"Exit status: the command's with -- COMMAND; 0 on success; 1 on errors;\n"
"2 on bad arguments. Formats: docs/formats.md. Lost events are counted and\n"
"printed at exit.";

enum {
	OPT_CSV = 0x100, OPT_JSON, OPT_ORIGIN, OPT_DURATION, OPT_RULE, OPT_RULES,
	OPT_RAW_TP, OPT_SLOTS, OPT_MAX_KEYS, OPT_RB, OPT_VMM, OPT_VM,
	OPT_CHANNEL, OPT_BREAKDOWN, OPT_MAX_PENDING, OPT_APP, OPT_PORT, OPT_BUF,
	OPT_RECORD, OPT_LISTEN, OPT_PROM_FILE, OPT_METRICS_IDLE,
};

/*
 * Each header has a group number of its own, and its options carry it:
 * argp sorts options by group, and within one group alphabetically, so
 * two headers sharing a number left the first one empty.
 */
static const struct argp_option opts[] = {
	{ NULL, 0, NULL, 0, "Filters:", 1 },
	{ "disk", 'd', "DISK", 0,
	  "Trace only this disk (e.g. loop0, /dev/vda, /dev/disk/by-id/...)", 1 },
	{ "cgroup", 'c', "CGROUP", 0,
	  "Trace only I/O owned by this cgroup (path in the blkio/io hierarchy)", 1 },
	{ "origin", OPT_ORIGIN, "CLASS[:NAME]", 0,
	  "Report only origins of this class (vm, container, host) or name", 1 },
	{ NULL, 0, NULL, 0, "VMM layer:", 2 },
	{ "vmm", OPT_VMM, NULL, 0,
	  "Also trace VMM requests (I/O syscalls on images) and link them to host bios", 2 },
	{ "vm", OPT_VM, "PID|NAME", 0,
	  "Trace the VMM layer of this VM only (its pid or -name); implies --vmm", 2 },
	{ "guest-channel", OPT_CHANNEL, "PATH", 0,
	  "Read a guest's 'hcitrace guest' stream from PATH (the VMM's chardev "
	  "socket, a FIFO or a file) and join it to that VM's requests; implies "
	  "--vmm (repeatable, one per VM)", 2 },
	{ NULL, 0, NULL, 0, "Output:", 3 },
	{ "breakdown", OPT_BREAKDOWN, NULL, 0,
	  "With --guest-channel: print the single-I/O breakdown (4 KiB reads and "
	  "writes: guest->controller, controller->SSD)", 3 },
	{ "per-request", 'p', NULL, 0, "Print one line per request: its submitter (COMM, PID) and stages", 3 },
	{ "hist", 'H', NULL, 0, "Print log2 histograms for every stage", 3 },
	{ "csv", OPT_CSV, "FILE", 0,
	  "Write histograms as CSV (with -p, requests to FILE's .requests.csv)", 3 },
	{ "json", OPT_JSON, "FILE", 0, "Write histograms (and -p requests) as JSON", 3 },
	{ "record", OPT_RECORD, "FILE", 0,
	  "Write every request (block, VMM, guest channel bytes) to a binary record "
	  "file, without printing them unless -p; read it with 'hcitrace report FILE'", 3 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve Prometheus metrics at http://ADDR:PORT/metrics while tracing; PORT or "
	  ":PORT is 127.0.0.1 (docs/monitoring.md)", 3 },
	{ "prom-file", OPT_PROM_FILE, "FILE", 0,
	  "Write the same metrics to FILE atomically at every interval (without one, "
	  "every second) and at exit, for node_exporter's textfile collector", 3 },
	{ "metrics-idle", OPT_METRICS_IDLE, "SECS", 0,
	  "Leave a series out of the metrics after this long without I/O (default 300, "
	  "0: never)", 3 },
	{ NULL, 0, NULL, 0, "Run control:", 4 },
	{ "duration", OPT_DURATION, "SECONDS", 0, "Stop after this many seconds", 4 },
	{ "verbose", 'v', NULL, 0, "Show features and probes chosen (-vv: libbpf debug log)", 4 },
	{ NULL, 0, NULL, 0, "Origins:", 5 },
	{ "rule", OPT_RULE, "PATTERN=CLASS[:NAME]", 0,
	  "Classify cgroups whose path matches the glob (repeatable)", 5 },
	{ "rules", OPT_RULES, "FILE", 0, "Read rules from FILE, one per line", 5 },
	{ NULL, 0, NULL, 0, "Tuning:", 6 },
	{ "slots", OPT_SLOTS, "N", 0,
	  "In-flight slot table size, power of two (default 16384)", 6 },
	{ "max-keys", OPT_MAX_KEYS, "N", 0,
	  "Histogram keys: origins x disks x ops (default 4096)", 6 },
	{ "ringbuf-kib", OPT_RB, "KIB", 0,
	  "Ring buffer for -p events, power of two (default 4096; with --record, "
	  "sized from the disks' rate)", 6 },
	{ "raw-tp", OPT_RAW_TP, NULL, 0, "Use raw_tp even where tp_btf works", 6 },
	{ "max-pending", OPT_MAX_PENDING, "N", 0,
	  "Guest and VMM requests held for joining, per VM (default 65536)", 6 },
	HCI_ARGP_INFO_OPTIONS,
	{ 0 },
};

/* Where both parsers leave what went wrong, for parse_args() */
struct parse_out {
	char *err;
	size_t errlen;
	int status;
};

struct pstate {
	struct hci_env *env;
	struct parse_out out;
	int npos;
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A parser's answer to a bad argument: the message, and EINVAL to argp */
__attribute__((format(printf, 2, 3)))
static error_t parse_fail(struct parse_out *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->err, out->errlen, fmt, ap);
	va_end(ap);
	out->status = -EINVAL;
	return EINVAL;
}

/*
 * Options both hcitrace and hcitrace guest take, as an argp parser's
 * answer: 0 when key was one of them (and valid, or help, usage or the
 * version, printed), ARGP_ERR_UNKNOWN when it is not, EINVAL with a
 * message in out.
 */
static error_t parse_shared(int key, const char *arg, struct argp_state *state,
			    double *duration, long *slots, long *rb_kib, struct parse_out *out)
{
	const char *want;
	char *end;
	long v;

	if (hci_argp_info(key, state, &out->status))
		return 0;
	switch (key) {
	case OPT_DURATION:
		errno = 0;
		*duration = strtod(arg, &end);
		if (!errno && end != arg && !*end && isfinite(*duration) && *duration > 0 &&
		    *duration <= 1e7)
			return 0;
		want = "invalid --duration '%s': want seconds > 0";
		break;
	case OPT_SLOTS:
		if (!parse_long(arg, 64, 1L << 24, &v) && !(v & (v - 1))) {
			*slots = v;
			return 0;
		}
		want = "invalid --slots '%s': want a power of two in [64, 16M]";
		break;
	case OPT_RB:
		if (!parse_long(arg, 4, 1L << 20, &v) && !(v & (v - 1))) {
			*rb_kib = v;
			return 0;
		}
		want = "invalid --ringbuf-kib '%s': want a power of two >= 4";
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return parse_fail(out, want, arg);
}

/*
 * Everything after "--" is the command; argp parses what comes before. A
 * shared tail for both parsers: returns 0, HCI_PARSE_INFO (help printed)
 * or -errno. argp's own errors end in "Try `... --usage'", so the info
 * options (core/cmd.h) are in both parsers.
 */
static int parse_args(const struct argp *argp, int argc, char **argv, void *input,
		      const struct parse_out *out, char ***cmd, const char *hint)
{
	char *err = out->err;
	size_t errlen = out->errlen;
	int nopt = argc;
	error_t e;

	err[0] = '\0';
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			if (i + 1 >= argc) {
				snprintf(err, errlen, "'--' must be followed by a command");
				return -EINVAL;
			}
			*cmd = &argv[i + 1];
			break;
		}
	}
	/* argp itself reports unknown options on stderr and returns EINVAL */
	e = argp_parse(argp, nopt, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, input);
	if (out->status)
		return out->status;
	if (e) {
		if (!err[0])
			snprintf(err, errlen, "%s (try %s)",
				 e == EINVAL ? "invalid arguments" : strerror(e), hint);
		return -e;
	}
	return 0;
}

/* [INTERVAL [COUNT]]: an argp answer, as parse_opt's */
static error_t parse_positional(struct pstate *ps, const char *arg)
{
	struct hci_env *env = ps->env;
	const char *want = NULL;

	if (ps->npos == 0) {
		if (parse_long(arg, 1, INT_MAX, &env->interval))
			want = "invalid interval '%s': want whole seconds > 0";
	} else if (ps->npos == 1) {
		if (parse_long(arg, 1, INT_MAX, &env->count))
			want = "invalid count '%s': want a number > 0";
	} else {
		want = "unexpected argument '%s' (a command goes after --)";
	}
	if (want)
		return parse_fail(&ps->out, want, arg);
	ps->npos++;
	return 0;
}

/* --listen, --prom-file, --metrics-idle (trace/metrics.h), as parse_shared answers */
static error_t parse_metrics_opt(int key, const char *arg, struct hci_env *env,
				 struct parse_out *out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	long v;

	switch (key) {
	case OPT_LISTEN:
		/* the address's form, and whether this build can serve at all */
		if (hci_httpd_addr(arg, &ss, &sslen, out->err, out->errlen)) {
			out->status = -EINVAL;
			return EINVAL;
		}
		env->listen = arg;
		return 0;
	case OPT_PROM_FILE:
		if (!*arg)
			return parse_fail(out, "invalid --prom-file '': want a path");
		env->prom_file = arg;
		return 0;
	case OPT_METRICS_IDLE:
		if (parse_long(arg, 0, 10000000, &v))
			return parse_fail(out, "invalid --metrics-idle '%s': want seconds, "
					  "0..10000000", arg);
		env->metrics_idle = v;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct pstate *ps = state->input;
	struct hci_env *env = ps->env;
	struct parse_out *out = &ps->out;
	struct hci_rule rule;
	long v;

	switch (key) {
	case 'd': env->disk = arg; break;
	case 'c': env->cgroup = arg; break;
	case 'p': env->per_request = true; break;
	case 'H': env->show_hist = true; break;
	case 'v': env->verbose++; break;
	case OPT_CSV: env->csv_path = arg; break;
	case OPT_JSON: env->json_path = arg; break;
	case OPT_RECORD: env->record_path = arg; break;
	case OPT_RAW_TP: env->raw_tp = true; break;
	case OPT_VMM: env->vmm = true; break;
	case OPT_VM:
		if (!*arg)
			return parse_fail(out, "invalid --vm '': want a pid or a VM name");
		env->vm = arg;
		env->vmm = true;
		break;
	case OPT_ORIGIN:
		if (!hci_origin_filter_valid(arg))
			return parse_fail(out, "invalid --origin '%s': use CLASS[:NAME], CLASS one of vm, container, host", arg);
		env->origin = arg;
		break;
	case OPT_RULE:
		if (hci_rule_parse(arg, &rule, out->err, out->errlen)) {
			out->status = -EINVAL;
			return EINVAL;
		}
		if (hci_rules_add(&env->rules, &rule))
			return parse_fail(out, "out of memory");
		break;
	case OPT_RULES:
		if (hci_rules_load(arg, &env->rules, out->err, out->errlen)) {
			out->status = -EINVAL;
			return EINVAL;
		}
		break;
	case OPT_MAX_KEYS:
		if (parse_long(arg, 1, 1L << 20, &v))
			return parse_fail(out, "invalid --max-keys '%s': want 1..1048576", arg);
		env->max_keys = v;
		break;
	case OPT_CHANNEL:
		if (!*arg)
			return parse_fail(out, "invalid --guest-channel '': want a path");
		if (env->nchannels == HCI_MAX_CHANNELS)
			return parse_fail(out, "too many --guest-channel (at most %d)", HCI_MAX_CHANNELS);
		env->channels[env->nchannels++] = arg;
		env->vmm = true;
		break;
	case OPT_BREAKDOWN: env->breakdown = true; break;
	case OPT_MAX_PENDING:
		if (parse_long(arg, 16, 1L << 24, &v))
			return parse_fail(out, "invalid --max-pending '%s': want 16..16777216", arg);
		env->max_pending = v;
		break;
	case ARGP_KEY_ARG:
		return parse_positional(ps, arg);
	case OPT_LISTEN: case OPT_PROM_FILE: case OPT_METRICS_IDLE:
		return parse_metrics_opt(key, arg, env, out);
	default:
		return parse_shared(key, arg, state, &env->duration, &env->slots, &env->rb_kib,
				    out);
	}
	return 0;
}

int hci_env_parse(struct hci_env *env, int argc, char **argv, char *err, size_t errlen)
{
	const struct argp argp = {
		.options = opts, .parser = parse_opt, .doc = doc,
		.args_doc = "[INTERVAL [COUNT]] [-- COMMAND [ARG...]]",
	};
	struct pstate ps = { .env = env, .out = { .err = err, .errlen = errlen } };
	int rc;

	memset(env, 0, sizeof(*env));
	env->slots = 16384;
	env->max_keys = 4096;
	env->rb_kib = 0;	/* not given: 4096, or --record's pick */
	env->argc = argc;
	env->argv = argv;
	env->max_pending = 65536;
	env->metrics_idle = 300;
	rc = parse_args(&argp, argc, argv, &ps, &ps.out, &env->cmd, "--help");
	env->rb_kib_given = env->rb_kib != 0;
	if (!env->rb_kib_given)
		env->rb_kib = 4096;
	if (rc)
		return rc;
	if (env->count && !env->interval) {
		snprintf(err, errlen, "COUNT needs an INTERVAL");
		return -EINVAL;
	}
	if (env->breakdown && !env->nchannels) {
		snprintf(err, errlen, "--breakdown needs --guest-channel (the guest's side)");
		return -EINVAL;
	}
	return 0;
}

void hci_env_free(struct hci_env *env)
{
	hci_rules_free(&env->rules);
}

static const char guest_doc[] =
"Inside a VM: trace the guest block layer (and, with --app, application\n"
"reads and writes) and stream the records to the host, where\n"
"'hcitrace --guest-channel' joins them to the VMM and host requests.\n"
"\n"
"By default the stream goes to the virtio-serial port named\n"
HCI_GUEST_PORT ". Give the VM one with\n"
"    -device virtio-serial\n"
"    -chardev socket,id=hci,path=/run/vm1.hci,server=on,wait=off\n"
"    -device virtserialport,chardev=hci,name=" HCI_GUEST_PORT "\n"
"\n"
"EXAMPLES:\n"
"    hcitrace guest                      # stream until Ctrl-C\n"
"    hcitrace guest --app -d vda         # one disk, with application I/O\n"
"    hcitrace guest -- fio job.fio       # trace one command\n"
"    hcitrace guest --channel /tmp/trace.hci --duration 10   # to a file\n"
"\v"
"The stream is the versioned, checksummed format of docs/formats.md. When\n"
"the channel cannot take more, records are dropped and counted; the count\n"
"goes to the host in the stream and is printed at exit.";

static const struct argp_option guest_opts[] = {
	{ "channel", 'o', "PATH", 0,
	  "Write to PATH (file, FIFO, unix socket or device) instead of the port", 1 },
	{ "port", OPT_PORT, "NAME", 0, "virtio-serial port name (default " HCI_GUEST_PORT ")", 1 },
	{ "disk", 'd', "DISK", 0, "Trace only this disk (e.g. vda)", 1 },
	{ "app", OPT_APP, NULL, 0,
	  "Also trace application reads/writes on files and block devices", 1 },
	{ "duration", OPT_DURATION, "SECONDS", 0, "Stop after this many seconds", 2 },
	{ "verbose", 'v', NULL, 0, "Show features and probes chosen", 2 },
	{ "slots", OPT_SLOTS, "N", 0, "In-flight slot table size (default 16384)", 3 },
	{ "ringbuf-kib", OPT_RB, "KIB", 0, "BPF ring buffer (default 4096)", 3 },
	{ "buffer-kib", OPT_BUF, "KIB", 0,
	  "Records held while the channel is busy (default 1024)", 3 },
	{ "raw-tp", OPT_RAW_TP, NULL, 0, "Use raw_tp even where tp_btf works", 3 },
	HCI_ARGP_INFO_OPTIONS,
	{ 0 },
};

struct gstate {
	struct hci_guest_env *env;
	struct parse_out out;
};

static error_t parse_guest_opt(int key, char *arg, struct argp_state *state)
{
	struct gstate *ps = state->input;
	struct hci_guest_env *env = ps->env;
	struct parse_out *out = &ps->out;
	long v;

	switch (key) {
	case 'o':
		if (!*arg)
			return parse_fail(out, "invalid --channel '': want a path");
		env->channel = arg;
		break;
	case OPT_PORT:
		if (!*arg || strchr(arg, '/'))
			return parse_fail(out, "invalid --port '%s': want a port name", arg);
		env->port = arg;
		break;
	case 'd': env->disk = arg; break;
	case OPT_APP: env->app = true; break;
	case 'v': env->verbose++; break;
	case OPT_RAW_TP: env->raw_tp = true; break;
	case OPT_BUF:
		if (parse_long(arg, 8, 1L << 20, &v))
			return parse_fail(out, "invalid --buffer-kib '%s': want 8..1048576", arg);
		env->buf_kib = v;
		break;
	case ARGP_KEY_ARG:
		return parse_fail(out, "unexpected argument '%s' (a command goes after --)", arg);
	default:
		return parse_shared(key, arg, state, &env->duration, &env->slots, &env->rb_kib,
				    out);
	}
	return 0;
}

int hci_guest_env_parse(struct hci_guest_env *env, int argc, char **argv, char *err,
			size_t errlen)
{
	const struct argp argp = { .options = guest_opts, .parser = parse_guest_opt,
				   .args_doc = "[-- COMMAND [ARG...]]", .doc = guest_doc };
	struct gstate ps = { .env = env, .out = { .err = err, .errlen = errlen } };

	memset(env, 0, sizeof(*env));
	env->port = HCI_GUEST_PORT;
	env->slots = 16384;
	env->rb_kib = 4096;
	env->buf_kib = 1024;
	return parse_args(&argp, argc, argv, &ps, &ps.out, &env->cmd, "hcitrace guest --help");
}
