// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's command line (argp), in lib/core/cmd.h's convention. The
 * command word is found before argp runs (argp answers --help as soon as it
 * sees it, wherever it is): each command then parses with its own options
 * and help, under the name "hcithrottle COMMAND". Errors are said as argp
 * says them and returned: nothing here exits.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "throttle.h"

const char *argp_program_version = "hcithrottle 0.1.0 (config v1, decision log csv v1)";

static const char doc[] =
"Keep containers fast when VMs contend for the same SSD: cap the VMs' I/O\n"
"in the cgroup io controller while a container misses its target.\n"
"\n"
"USAGE: hcithrottle run|status|reset [OPTION...]\n"
"\n"
"  run      the service, in the foreground (SIGHUP reloads the config;\n"
"           SIGINT/SIGTERM restore the original limits and exit)\n"
"  status   the origins, their measured I/O and the limits in force\n"
"  reset    remove every limit hcithrottle set (after a crash)\n"
"\n"
"'hcithrottle COMMAND --help' describes one command.\n"
"\n"
"EXAMPLES:\n"
"    hcithrottle run -c /etc/hcikit/hcithrottle.conf\n"
"    hcithrottle run --dry-run -v        # decide and log, write nothing\n"
"    hcithrottle run --listen 127.0.0.1:9465   # Prometheus metrics on /metrics\n"
"    hcithrottle status\n"
"    hcithrottle reset\n"
"\v"
"The configuration file and the decision log are described in\n"
"docs/hcithrottle.md. Exit status: 0 on success, 1 on errors, 2 on bad\n"
"arguments or configuration.";

static const char run_doc[] =
"Run the service in the foreground: every interval, measure each origin's\n"
"I/O, decide the VMs' caps and write them, under the limits the VMs' cgroups\n"
"(or QEMU drives) already had. SIGHUP reloads the configuration;\n"
"SIGINT/SIGTERM put the original limits back and exit. One run per host\n"
"(a lock in the state directory). Limits a killed run left are restored\n"
"first.\n"
"\n"
"EXAMPLES:\n"
"    hcithrottle run -c /etc/hcikit/hcithrottle.conf\n"
"    hcithrottle run --dry-run -v --duration 30\n"
"    hcithrottle run --listen 127.0.0.1:9465 \\\n"
"        --prom-file /var/lib/prometheus/node-exporter/hcithrottle.prom\n"
"\v"
"--listen serves GET /metrics (Prometheus text format) for as long as the\n"
"service runs; --prom-file writes the same text atomically every interval\n"
"and at exit (node_exporter's textfile collector). Both override the\n"
"config file's listen and prom_file keys; docs/monitoring.md lists the\n"
"metrics.\n"
"\n"
"Exit status: 0 after a signal or --duration, 1 on errors (limits that\n"
"could not be restored stay in the state file), 2 on bad arguments or\n"
"configuration (FILE:LINE: message).";

static const char status_doc[] =
"Print whether hcithrottle runs (and which process holds its lock), its\n"
"origins with their I/O and the limits in force, as the kernel has them,\n"
"and the original limits saved in the state file.\n"
"\n"
"EXAMPLE:\n"
"    hcithrottle status -c /etc/hcikit/hcithrottle.conf";

static const char reset_doc[] =
"Put back the original limits a killed run left in the state file, then\n"
"remove it. Every valid line is restored; a line that is not one\n"
"hcithrottle writes is reported with its FILE:LINE and kept in the file.\n"
"Refused while hcithrottle runs (it says which process holds the lock).\n"
"\n"
"EXAMPLE:\n"
"    hcithrottle reset -c /etc/hcikit/hcithrottle.conf\n"
"\v"
"Exit status: 0 when every line was restored, 1 otherwise, 2 on bad\n"
"arguments or configuration.";

enum { OPT_DRY = 0x100, OPT_DURATION, OPT_MLOG, OPT_LISTEN, OPT_PROM_FILE };

#define OPT_CONFIG { "config", 'c', "FILE", 0, "Configuration file (default " DEFAULT_CONFIG ")", 0 }
/*
 * run's own options, written once: the top-level help shows them as
 * "run: compute ...", run's help as "Compute ...", so the docs are the
 * macro's arguments.
 */
#define OPT_RUN(dry, duration, mlog, listen, prom)				\
	{ "dry-run", OPT_DRY, NULL, 0, dry, 0 },				\
	{ "duration", OPT_DURATION, "SECONDS", 0, duration, 0 },		\
	{ "measure-log", OPT_MLOG, "FILE", 0, mlog, 0 },			\
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, listen, 0 },			\
	{ "prom-file", OPT_PROM_FILE, "FILE", 0, prom, 0 }
/*
 * Every option list's end: -v, the info options, and argp's own help key
 * kept as a hidden -h (scripts may use it).
 */
#define OPT_TAIL								\
	{ "verbose", 'v', NULL, 0, "More messages (-vv: libbpf debug)", 0 },	\
	HCI_ARGP_INFO_OPTIONS,							\
	{ NULL, '?', NULL, OPTION_HIDDEN, NULL, -1 },				\
	{ 0 }

static const struct argp_option options[] = {
	OPT_CONFIG,
	OPT_RUN("run: compute and log decisions, write no limit", "run: stop after this many seconds",
		"run: write every interval's measurements, per origin, as CSV",
		"run: serve Prometheus metrics on http://ADDR:PORT/metrics (PORT alone: 127.0.0.1)",
		"run: write the metrics to FILE atomically every interval and at exit"),
	OPT_TAIL,
};

static const struct argp_option run_options[] = {
	OPT_CONFIG,
	OPT_RUN("Compute and log decisions, write no limit", "Stop after this many seconds",
		"Write every interval's measurements, per origin, as CSV",
		"Serve Prometheus metrics on http://ADDR:PORT/metrics (PORT alone: 127.0.0.1)",
		"Write the metrics to FILE atomically every interval and at exit"),
	OPT_TAIL,
};

static const struct argp_option cmd_options[] = {	/* status, reset */
	OPT_CONFIG,
	OPT_TAIL,
};

/* Each command's own options and help. */
static const struct {
	const char *name;
	const struct argp_option *options;
	const char *doc;
} cmd_argp[] = {
	{ "run", run_options, run_doc },
	{ "status", cmd_options, status_doc },
	{ "reset", cmd_options, reset_doc },
};

/*
 * An error, said as argp_error() says it, and returned: argp_parse() runs
 * with ARGP_NO_EXIT, so argp_error() only prints. (hci_usage_error() prints
 * the same, for a caller that holds no argp_state.)
 */
__attribute__((format(printf, 2, 3)))
static error_t parse_error(struct argp_state *state, const char *fmt, ...)
{
	struct thr_parse *ps = state->input;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
	va_end(ap);
	argp_error(state, "%s", ps->err);
	return EINVAL;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct thr_parse *ps = state->input;
	struct opts *o = ps->o;
	char names[128], *end;

	if (hci_argp_info(key == '?' ? 'h' : key, state, &ps->status)) {
		state->next = state->argc;	/* answered: nothing more is read */
		return 0;
	}
	hci_cmd_names(ps->cmds, names, sizeof(names));
	switch (key) {
	case 'c': o->config = arg; break;
	case OPT_DRY: o->dry_run = true; break;
	case OPT_MLOG: o->measure_log = arg; break;
	case OPT_LISTEN: o->listen = arg; break;
	case OPT_PROM_FILE: o->prom_file = arg; break;
	case 'v': o->verbose++; break;
	case OPT_DURATION:
		errno = 0;
		o->duration = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(o->duration) || o->duration <= 0)
			return parse_error(state, "invalid --duration '%s': want seconds > 0", arg);
		break;
	case ARGP_KEY_ARG:
		if (o->cmd)
			return parse_error(state, "unexpected argument '%s'", arg);
		if (!hci_cmd_find(ps->cmds, arg))
			return parse_error(state, "unknown command '%s': want %s", arg, names);
		o->cmd = arg;
		break;
	case ARGP_KEY_END:
		if (!o->cmd && !ps->status)
			return parse_error(state, "a command is needed: %s", names);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* argp's own messages (an unknown option) are printed by argp_parse(). */
static int parse(const struct argp *argp, int argc, char **argv, struct thr_parse *ps)
{
	error_t e = argp_parse(argp, argc, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, ps);

	if (ps->status)
		return ps->status;
	return e ? -e : 0;
}

int thr_find_command(int argc, char **argv, const struct hci_cmd *cmds)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc && hci_cmd_find(cmds, argv[i + 1]) ? i + 1 : 0;
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config") ||
		    !strcmp(argv[i], "--duration") || !strcmp(argv[i], "--measure-log") ||
		    !strcmp(argv[i], "--listen") || !strcmp(argv[i], "--prom-file")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		return hci_cmd_find(cmds, argv[i]) ? i : 0;
	}
	return 0;
}

int thr_parse_top(int argc, char **argv, struct thr_parse *ps)
{
	struct argp argp = { .options = options, .parser = parse_opt, .doc = doc,
			     .args_doc = "run|status|reset" };

	return parse(&argp, argc, argv, ps);
}

int thr_parse_command(int argc, char **argv, struct thr_parse *ps)
{
	struct argp argp = { .parser = parse_opt };
	char name[64], *args[argc + 1];

	ps->o->cmd = argv[0];
	for (size_t i = 0; i < sizeof(cmd_argp) / sizeof(cmd_argp[0]); i++)
		if (!strcmp(cmd_argp[i].name, argv[0])) {
			argp.options = cmd_argp[i].options;
			argp.doc = cmd_argp[i].doc;
		}
	snprintf(name, sizeof(name), "hcithrottle %s", argv[0]);
	args[0] = name;
	for (int i = 1; i <= argc; i++)
		args[i] = argv[i];
	return parse(&argp, argc, args, ps);
}

int thr_parse_exit(int rc)
{
	return rc > 0 ? 0 : 2;	/* help, usage or version; or an error, said */
}
