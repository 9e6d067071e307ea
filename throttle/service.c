// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle run: the service. It sets up (lock, devices, backend,
 * recovery of a killed run's limits, logs, the tracer), runs the control
 * loop every interval (measure, decide, log, status) until a signal or
 * --duration, and on every way out puts the original limits back.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "host/devices.h"
#include "throttle.h"

static volatile sig_atomic_t reload;

void thr_on_hup(int sig)
{
	(void)sig;
	reload = 1;
}

/* Each configured device, or exit 2 with the config line that names it. */
static int open_devices(struct svc *s)
{
	char err[512], path[300];

	for (int i = 0; i < s->conf.ndevices; i++) {
		struct tdev *d = &s->devs[s->ndevs];

		if (hci_dev_from_name(s->conf.devices[i], &d->dev, err, sizeof(err))) {
			hci_errorf("%s:%d: device %s: %s", s->o.config, s->conf.device_line[i],
				   s->conf.devices[i], err);
			return -EINVAL;
		}
		hci_dev_name(d->dev, d->name, sizeof(d->name));
		/*
		 * A dm or md device is limited as itself: blk-throttle acts where a
		 * bio is submitted, bio-based devices included, so a cap on it
		 * covers everything above it and its member disks keep no rule.
		 */
		snprintf(path, sizeof(path), "/sys/block/%s/dm", d->name);
		if (!access(path, F_OK) || (snprintf(path, sizeof(path), "/sys/block/%s/md",
						     d->name), !access(path, F_OK)))
			fprintf(stderr, "hcithrottle: %s is a %s device: it is limited itself, "
				"not its member disks\n", d->name,
				strstr(path, "/dm") ? "device-mapper" : "md");
		s->ndevs++;
	}
	return 0;
}

/* The decision log appends across runs: a "start" row marks where each run
 * begins (time_s counts from it). */
static int open_logs(struct svc *s)
{
	if (s->conf.log_path[0]) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;

		s->log = fopen(s->conf.log_path, "a");
		if (!s->log) {
			hci_errorf("cannot open decision log %s: %s", s->conf.log_path,
				   strerror(errno));
			return -1;
		}
		if (ftell(s->log) == 0)
			fputs("time_s,device,action,origin,iops,bps,p99_us,cap_iops,cap_bps,reason\n",
			      s->log);
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(s->log, "0.000,,start,,0,0,0.0,0,0,\"hcithrottle pid %d started %s, "
			"interval %u ms, backend %s%s\"\n", getpid(), when, s->conf.interval_ms,
			thr_backend_names[s->conf.backend], s->o.dry_run ? " (dry run)" : "");
		fflush(s->log);
	}
	if (s->o.measure_log) {
		s->mlog = fopen(s->o.measure_log, "w");
		if (!s->mlog) {
			hci_errorf("cannot write %s: %s", s->o.measure_log, strerror(errno));
			return -1;
		}
		fputs("time_s,device,origin,role,iops,bps,p99_us,inflight,cap_iops,cap_bps,"
		      "limit_riops,limit_wiops,limit_rbps,limit_wbps\n",
		      s->mlog);
	}
	return 0;
}

/* SIGHUP: the new configuration, or the old one if the new has an error. */
static void reload_conf(struct svc *s)
{
	struct hci_tconf old = s->conf;
	char err[512];

	memset(&s->conf, 0, sizeof(s->conf));
	if (hci_tconf_load(s->o.config, &s->conf, err, sizeof(err))) {
		fprintf(stderr, "hcithrottle: reload failed, keeping the old configuration: %s\n",
			err);
		hci_tconf_free(&s->conf);
		s->conf = old;
	} else {
		hci_tconf_free(&old);
		hci_resolver_set_rules(&s->res, &s->conf.rules);
		fprintf(stderr, "hcithrottle: configuration reloaded\n");
	}
}

/* The control loop, until a signal or --duration. */
static void serve(struct svc *s)
{
	__u64 next, deadline = 0;

	s->t0 = hci_now_ns();
	next = s->t0 + (__u64)s->conf.interval_ms * 1000000ULL;
	if (s->o.duration > 0)
		deadline = s->t0 + (__u64)(s->o.duration * 1e9);
	fprintf(stderr, "hcithrottle: running: %d device(s), interval %u ms, %s%s%s\n", s->ndevs,
		s->conf.interval_ms,
		s->conf.backend == HCI_BACKEND_NONE ? "backend none (measure and decide only)" :
		s->cg.v1 ? "cgroup v1 blkio.throttle" : "cgroup v2 io.max",
		s->conf.backend == HCI_BACKEND_QMP ? ", QMP for the VMs it names" : "",
		s->o.dry_run ? " (dry run: nothing is written)" : "");
	thr_measure(s, 1);		/* the baseline snapshot */
	while (!hci_exiting) {
		__u64 now = hci_now_ns();
		struct timespec nap;

		if (deadline && now >= deadline)
			break;
		if (now < next) {
			__u64 w = next - now;

			nap.tv_sec = (time_t)(w / 1000000000ULL);
			nap.tv_nsec = (long)(w % 1000000000ULL);
			nanosleep(&nap, NULL);
			continue;
		}
		if (reload) {
			reload = 0;
			reload_conf(s);
		}
		ring_buffer__consume(s->t.rb);	/* cgroup changes first */
		if (thr_measure(s, (double)s->conf.interval_ms / 1000.0) == 0) {
			for (int k = 0; k < s->ndevs; k++)
				thr_decide(s, &s->devs[k]);
			thr_log_measures(s);
		}
		s->intervals++;
		if (!s->o.dry_run)
			thr_write_status(s);
		thr_metrics_interval(s);
		next += (__u64)s->conf.interval_ms * 1000000ULL;
		if (next < hci_now_ns())
			next = hci_now_ns() + (__u64)s->conf.interval_ms * 1000000ULL;
	}
}

/* Everything a run needs before its first interval, in the order that makes
 * each step safe: 0, or the exit status (the caller still runs stop_run). */
static int start_run(struct svc *s)
{
	char err[512];
	int ret;

	if (open_devices(s))
		return 2;
	/* backend = none: measure and decide, write nothing */
	if (hci_enf_init(&s->enf, s->cg.root, s->cg.v1, s->conf.state_path,
			 s->o.dry_run || s->conf.backend == HCI_BACKEND_NONE, err, sizeof(err))) {
		hci_errorf("%s", err);
		return 1;
	}
	/* a dry run holds no lock: the state file may be a running daemon's */
	if (s->o.dry_run && !access(s->conf.state_path, F_OK))
		fprintf(stderr, "hcithrottle: dry run: %s is left for 'hcithrottle reset' or a "
			"real run to restore\n", s->conf.state_path);
	else if (!s->o.dry_run && thr_recover(s, true))
		return 1;
	if (!s->o.dry_run && thr_write_pid(s))
		return 1;
	if (open_logs(s))
		return 1;
	ret = thr_metrics_start(s);	/* before the BPF load: a bad address says so at once */
	if (ret)
		return ret;
	{
		struct hci_tracer_opts to = {
			.slots = 16384, .max_keys = 4096, .rb_kib = 256, .verbose = s->o.verbose,
			.cgroups = true,
		};

		if (hci_tracer_start(&s->t, &to, thr_on_event, s))
			return 1;
	}
	thr_scan_uncappable(s);
	return 0;
}

/* Every way out of a run: the original limits back first. Returns ret, or 1
 * when some limit could not be restored. */
static int stop_run(struct svc *s, int ret)
{
	int n = hci_enf_restore(&s->enf);

	if (n) {
		fprintf(stderr, "hcithrottle: %d limits could not be restored; the state file %s "
			"keeps them for 'hcithrottle reset'\n", n, s->conf.state_path);
		ret = 1;
	} else if (s->enf.writes) {
		fprintf(stderr, "hcithrottle: original limits restored\n");
	}
	thr_metrics_stop(s, n);
	if (!s->o.dry_run && s->dir[0])
		thr_remove_run_files(s);
	if (s->log)
		fclose(s->log);
	if (s->mlog)
		fclose(s->mlog);
	hci_tracer_stop(&s->t);
	hci_snap_free(&s->prev);
	hci_enf_free(&s->enf);
	hci_resolver_free(&s->res);
	hci_cgroups_free(&s->cg);
	return ret;
}

int thr_cmd_run(struct svc *s)
{
	char err[512];
	int ret;

	if (thr_load_conf(s))
		return 2;
	/* a dry run writes nothing, so it needs no lock */
	if (!s->o.dry_run && thr_take_lock(s))
		return 1;
	if (hci_cgroups_init(&s->cg, err, sizeof(err))) {
		hci_errorf("%s", err);
		return 1;
	}
	/* names only: hcithrottle needs no VMM's image files */
	hci_resolver_init(&s->res, &s->cg, &s->conf.rules, false);
	ret = start_run(s);
	if (!ret)
		serve(s);
	return stop_run(s, ret);
}
