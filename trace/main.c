// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace: where each block I/O spends its time on this host, per origin.
 *
 * Lifecycle: parse arguments, resolve the disk and cgroup filters, calibrate
 * kernel features, open the skeleton, set rodata and map sizes, load, attach,
 * optionally start the traced command, poll, then report. Every path out goes
 * through one cleanup, which detaches everything (links are fds).
 *
 * This file holds main and the event loop; trace.h says where the rest is.
 */
#include <errno.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "core/cmd.h"
#include "core/log.h"
#include "core/signals.h"
#include "guest/guest.h"
#include "host/devices.h"
#include "metrics.h"
#include "record_run.h"
#include "report_file.h"
#include "trace.h"

/* Each drain reads for at most this long: stops and intervals wait no more. */
#define DRAIN_NS (10 * 1000000ULL)

/*
 * The second Ctrl-C: the command is killed rather than waited for, and what
 * is left unread is counted at once, but the outputs are still closed, so
 * the JSON stays valid. A third one kills hcitrace (hci_on_stop_signal).
 */
static void on_stop_signal(int sig)
{
	if (hci_exiting && !trace_hurry) {
		trace_hurry = sig;
		return;
	}
	hci_on_stop_signal(sig);
}

/* Pass the stop on to the command and wait for it, unless told to hurry. */
static void stop_child(struct trace_run *tr, int sig)
{
	struct timespec ts = { 0, 5000000 };

	if (tr->child.pid <= 0 || tr->child.done)
		return;
	kill(tr->child.pid, sig);
	for (;;) {
		hci_child_reap(&tr->child, WNOHANG);
		if (tr->child.done)
			return;
		if (trace_hurry) {
			hci_child_stop(&tr->child, SIGKILL);
			return;
		}
		nanosleep(&ts, NULL);
	}
}

/* epoll timeout: wake for the next interval or the deadline, at most 100 ms */
static int wait_ms(__u64 now, __u64 next, __u64 deadline)
{
	__u64 due = min_due(min_due(now + 100000000ULL, next), deadline);

	return due > now ? (int)((due - now + 999999) / 1000000) : 0;
}

/* When the loop next closes an interval and when it ends (0: never). */
struct loop_clock {
	__u64 next, deadline;
	long intervals;
};

/*
 * Drained every 10 ms rather than woken by the ring buffer: with a guest
 * stream, and with --record alone, every request makes an event, and
 * waking for each costs more than handling it (at 250K events/s, most of
 * a core in epoll_wait alone). --record's ring holds far more than 10 ms.
 */
static bool batch_drain(const struct trace_run *tr)
{
	return tr->nchans || (tr->env.record_path && !tr->env.per_request);
}

/*
 * One wait for the ring buffer and the guest channels: a guest's bytes
 * are read as they arrive, so their receipt time bounds the clock well.
 */
static int open_wait(struct trace_run *tr)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		hci_errorf("epoll: %s", strerror(errno));
		return -errno;
	}
	if (!batch_drain(tr)) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };

		epoll_ctl(ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(tr->t.rb), &ev);
	}
	return ep;
}

/* One turn of the loop: 0 to go on, 1 when done, -errno on errors. */
static int loop_turn(struct trace_run *tr, int ep, struct loop_clock *clk)
{
	struct epoll_event evs[8];
	__u64 t = hci_now_ns();
	int err;

	guests_watch(tr, ep);
	/*
	 * With a guest stream (or --record alone, batch_drain), every request
	 * makes ring buffer events; waking for each would cost more than the
	 * join. Wait on the channels only and drain the ring buffer every 10 ms.
	 */
	err = epoll_wait(ep, evs, 8, batch_drain(tr) ? 10 : wait_ms(t, clk->next, clk->deadline));
	if (err < 0 && errno != EINTR) {
		hci_errorf("epoll_wait: %s", strerror(errno));
		return -errno;
	}
	t = hci_now_ns();
	check_losses(tr, t, false);
	if (!drain(tr, min_due(min_due(t + DRAIN_NS, clk->next), clk->deadline)))
		return -EIO;
	service_channels(tr, false);
	hci_child_reap(&tr->child, WNOHANG);
	if (tr->child.done)
		return 1;
	t = hci_now_ns();
	metrics_tick(tr, t, clk->next && t >= clk->next);
	if (clk->next && t >= clk->next) {
		print_interval(tr);
		clk->next += (__u64)tr->env.interval * 1000000000ULL;
		if (tr->env.count && ++clk->intervals >= tr->env.count)
			return 1;
	}
	return clk->deadline && t >= clk->deadline;
}

static int run(struct trace_run *tr)
{
	__u64 start = hci_now_ns();
	struct loop_clock clk = {};
	int ep, ret = 0;
	bool in_time;

	if (tr->env.interval)
		clk.next = start + (__u64)tr->env.interval * 1000000000ULL;
	if (tr->env.duration > 0)
		clk.deadline = start + (__u64)(tr->env.duration * 1e9);
	ep = open_wait(tr);
	if (ep < 0)
		return ep;
	/* after attach: scripts wait for this line */
	if (!tr->env.cmd)
		fprintf(stderr, "Tracing block I/O%s... Hit Ctrl-C to end.\n",
			clk.deadline ? " for the given duration" : "");
	if (tr->env.per_request)
		hci_req_print_header(stdout);
	while (!hci_exiting && !ret)
		ret = loop_turn(tr, ep, &clk);
	if (ret > 0)
		ret = 0;
	close(ep);
	/* we were told to stop: pass it on, then wait for the command */
	in_time = !tr->child.done || hci_exiting;	/* a stop, not the command's end */
	stop_child(tr, hci_exiting ? hci_exiting : SIGTERM);
	stop_tracing(tr, in_time);
	/* what the guest already sent is still joined */
	service_channels(tr, true);
	return ret;
}

/* The disk and cgroup filters, as the BPF side takes them; errors said. */
static int resolve_filters(struct trace_run *tr, __u32 *dev, __u64 *cgid)
{
	char err[512];

	if (hci_cgroups_init(&tr->cg, err, sizeof(err)) ||
	    (tr->env.disk && hci_dev_from_name(tr->env.disk, dev, err, sizeof(err))) ||
	    (tr->env.cgroup && hci_cgroup_id(&tr->cg, tr->env.cgroup, cgid, err, sizeof(err)))) {
		hci_errorf("%s", err);
		return -EINVAL;
	}
	if (tr->env.vm && tr->env.nchannels > 1) {
		hci_errorf("with several --guest-channel, leave --vm out: each channel's VM "
			   "is found from its socket");
		return -EINVAL;
	}
	return 0;
}

/* Name the VMs that run now, while they run (@vm_tgid: only that one). */
static void name_running_vms(struct trace_run *tr, __u32 vm_tgid)
{
	struct hci_vmm_info *found = calloc(64, sizeof(*found));
	int n = found ? hci_vmm_discover(found, 64, (pid_t)vm_tgid) : 0;

	for (int i = 0; i < n; i++)
		hci_resolver_vmm(&tr->res, (__u32)found[i].pid);
	free(found);
}

/* Load and attach the BPF side, then name the VMs that run now. */
static int start_tracing(struct trace_run *tr, __u32 dev, __u64 cgid, __u32 vm_tgid)
{
	struct hci_tracer_opts o = {
		.dev = dev, .cgid = cgid, .vm_tgid = vm_tgid,
		/* the join needs every VMM request: events without -p too */
		.per_request = tr->env.per_request || tr->nchans || tr->env.record_path,
		/* a record file keeps no submitter: -p shows it live only */
		.req_who = tr->env.per_request && !tr->env.record_path,
		.vmm = tr->env.vmm,
		.raw_tp = tr->env.raw_tp, .verbose = tr->env.verbose,
		.slots = tr->env.slots, .max_keys = tr->env.max_keys,
		.rb_kib = tr->env.rb_kib,
	};

	/* syscall tracepoints are attached through tracefs */
	if (tr->env.vmm && access("/sys/kernel/tracing/events/syscalls", F_OK) &&
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	if (hci_tracer_start(&tr->t, &o, on_event, tr))
		return -1;
	tr->dr.percpu = calloc((size_t)tr->t.ncpus, sizeof(*tr->dr.percpu));
	if (tr->env.vmm)
		name_running_vms(tr, vm_tgid);
	guests_name_origins(tr);
	return 0;
}

/* Filters, outputs, guests, tracing, the command, the loop, the report. */
static int trace(struct trace_run *tr)
{
	__u32 dev = 0, vm_tgid = 0;
	__u64 cgid = 0;
	int rec;

	if (geteuid() != 0)
		fprintf(stderr, "Warning: not root; loading BPF programs will likely fail\n");
	if (resolve_filters(tr, &dev, &cgid) || open_outputs(tr) || metrics_open(tr))
		return 1;
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	if (guests_alloc(tr) || wait_for_guests(tr, &vm_tgid) ||
	    record_open(tr, dev, cgid, vm_tgid) || start_tracing(tr, dev, cgid, vm_tgid))
		return 1;
	tr->t0_ns = hci_now_ns();
	record_started(tr);
	/* (unless it was started already, to boot the VM we waited for) */
	if (tr->env.cmd && !tr->child.pid && hci_child_spawn(&tr->child, tr->env.cmd))
		return 1;
	if (run(tr))
		return 1;
	/* the record first: its histograms are read while nothing else moves */
	rec = record_finish(tr);
	if (metrics_final(tr))
		rec = -EIO;
	if (final_report(tr) || rec)
		return 1;
	return tr->env.cmd ? tr->child.status : 0;
}

static void trace_run_free(struct trace_run *tr)
{
	free(tr->dr.percpu);
	guests_free(tr);
	hci_cgroups_free(&tr->cg);
	hci_resolver_free(&tr->res);
	hci_snap_free(&tr->prev[0]);
	hci_snap_free(&tr->prev[1]);
	hci_env_free(&tr->env);
}

static int cmd_guest(int argc, char **argv, void *ctx)
{
	(void)ctx;
	argv[0] = (char *)"hcitrace guest";	/* for --help and errors */
	return hci_guest_main(argc, argv);
}

/* hcitrace's subcommands; without one, hcitrace traces this host */
static const struct hci_cmd trace_cmds[] = {
	{ "guest", cmd_guest, "inside a VM: stream the guest block layer to the host" },
	{ "report", cmd_report, "read a record file (--record) back into text, CSV, JSON" },
	{ NULL },
};

int main(int argc, char **argv)
{
	struct trace_run tr = {};
	char err[512];
	int ret;

	if (argc > 1 && hci_cmd_find(trace_cmds, argv[1]))
		return hci_cmd_select(trace_cmds, argc - 1, argv + 1, NULL, err, sizeof(err));
	ret = hci_env_parse(&tr.env, argc, argv, err, sizeof(err));
	if (ret) {
		hci_env_free(&tr.env);
		return hci_parse_exit(ret, err);
	}
	hci_set_verbosity(tr.env.verbose);
	hci_resolver_init(&tr.res, &tr.cg, &tr.env.rules, true);
	ret = trace(&tr);
	/* one cleanup for every path out: links are fds, the command is stopped */
	hci_child_stop(&tr.child, SIGTERM);
	hci_tracer_stop(&tr.t);
	record_abort(&tr);
	if (close_outputs(&tr) && !ret)
		ret = 1;
	metrics_close(&tr);
	trace_run_free(&tr);
	return ret;
}
