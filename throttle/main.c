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
#include <argp.h>
#include <signal.h>
#include <string.h>
#include "throttle.h"

/* The commands, as bpftool dispatches its own (options.c knows their
 * options and help). */
static const struct thr_command commands[] = {
	{ "run", thr_cmd_run },
	{ "status", thr_cmd_status },
	{ "reset", thr_cmd_reset },
};

const struct thr_command *thr_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static struct svc s;

	s.o.config = DEFAULT_CONFIG;
	s.lock_fd = -1;
	argp_err_exit_status = 2;
	thr_parse_args(argc, argv, &s.o);
	hci_set_verbosity(s.o.verbose);
	hci_stop_on_signals();
	signal(SIGHUP, thr_on_hup);
	signal(SIGPIPE, SIG_IGN);
	return thr_command(s.o.cmd)->run(&s);
}
