// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle: keep containers fast when VMs contend for the same SSD.
 *
 * Every interval it reads hcitrace's in-kernel histograms (per origin
 * cgroup, disk and op) and turns the deltas into IOPS, bytes, in-flight
 * depth and p99 per origin and device (measure.c); asks the AIMD controller
 * (policy.c) what the VMs' caps should be and writes them into the cgroup io
 * controller, or into QEMU's own throttling over QMP, having saved the
 * originals first (decide.c; enforce.c, qmp.c). Every decision is logged
 * with its reason. Any exit puts the original limits back (service.c); the
 * lock, pid, status and state files are state.c's, the options options.c's.
 *
 *   hcithrottle run [-c FILE] [--dry-run]     the service (foreground)
 *   hcithrottle status [-c FILE]              origins, I/O and limits now
 *   hcithrottle reset [-c FILE]               remove every limit it set
 */
#include <signal.h>
#include <string.h>
#include "throttle.h"

static int parse_and_run(int argc, char **argv, struct svc *s, int (*cmd)(struct svc *s));

static int run_main(int argc, char **argv, void *ctx)
{
	return parse_and_run(argc, argv, ctx, thr_cmd_run);
}

static int status_main(int argc, char **argv, void *ctx)
{
	return parse_and_run(argc, argv, ctx, thr_cmd_status);
}

static int reset_main(int argc, char **argv, void *ctx)
{
	return parse_and_run(argc, argv, ctx, thr_cmd_reset);
}

/* The commands, as bpftool dispatches its own (options.c has their options
 * and help). */
static const struct hci_cmd commands[] = {
	{ "run", run_main, "the service, in the foreground" },
	{ "status", status_main, "the origins, their measured I/O and the limits in force" },
	{ "reset", reset_main, "remove every limit hcithrottle set (after a crash)" },
	{ NULL },
};

/* A command's own options (argv[0] is its word), then the command. */
static int parse_and_run(int argc, char **argv, struct svc *s, int (*cmd)(struct svc *s))
{
	struct thr_parse ps = { .o = &s->o, .cmds = commands };
	int rc = thr_parse_command(argc, argv, &ps);

	if (rc)
		return thr_parse_exit(rc);
	hci_set_verbosity(s->o.verbose);
	hci_stop_on_signals();
	signal(SIGHUP, thr_on_hup);
	signal(SIGPIPE, SIG_IGN);
	return cmd(s);
}

int main(int argc, char **argv)
{
	static struct svc s;
	struct thr_parse ps = { .o = &s.o, .cmds = commands };
	char *args[argc + 1], err[256];
	int ci = thr_find_command(argc, argv, commands), n = 0, rc;

	s.o.config = DEFAULT_CONFIG;
	s.lock_fd = -1;
	if (ci) {
		/* the command word first, then every other argument in order */
		args[n++] = argv[ci];
		for (int i = 1; i < argc; i++)
			if (i != ci)
				args[n++] = argv[i];
	} else {
		/* options before a command word only argp could find: all parsed */
		rc = thr_parse_top(argc, argv, &ps);
		if (rc)
			return thr_parse_exit(rc);
		args[n++] = (char *)s.o.cmd;
	}
	args[n] = NULL;
	rc = hci_cmd_select(commands, n, args, &s, err, sizeof(err));
	return rc < 0 ? hci_parse_exit(rc, err) : rc;
}
