// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace --record: the record file of one live run. The file is made
 * before the attach (a bad path costs no trace), the ring buffer is sized
 * from the traced disks' rate, events.c writes each event as it drains
 * it, channel bytes come from guests.c's channels, and at the end the
 * final histograms and counters close the file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "hcitrace.skel.h"
#include "core/clock.h"
#include "core/log.h"
#include "host/devices.h"
#include "record.h"
#include "record_run.h"
#include "trace.h"

extern const char *argp_program_version;

/* A key's names, as the live report would give them */
static void name_key(void *ctx, unsigned int kind, __u64 cgid, __u32 vmm_tgid, __u32 dev,
		     char *origin, size_t olen, char *dev_name, size_t dlen)
{
	struct trace_run *tr = ctx;
	const char *o = kind == HCI_REC_KEY_VMM ? hci_vm_origin(&tr->res, vmm_tgid)
						: hci_origin_of(&tr->res, cgid, vmm_tgid);

	snprintf(origin, olen, "%s", o);
	hci_dev_name(dev, dev_name, dlen);
}

/* The command line, as one string for the header */
static void options_string(const struct hci_env *env, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 1; i < env->argc && n + 1 < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i > 1 ? " " : "", env->argv[i]);
}

int record_open(struct trace_run *tr, __u32 dev, __u64 cgid, __u32 vm_tgid)
{
	struct hci_rec_file h = {
		.flags = (tr->env.per_request ? HCI_REC_F_PER_REQUEST : 0) |
			 (tr->env.vmm ? HCI_REC_F_VMM : 0) | (tr->env.raw_tp ? HCI_REC_F_RAW_TP : 0) |
			 (tr->env.rb_kib_given ? 0 : HCI_REC_F_RB_AUTO),
		.ncpus = (__u32)sysconf(_SC_NPROCESSORS_CONF), .rb_kib = (__u32)tr->env.rb_kib,
		.dev = dev, .vm_tgid = vm_tgid, .cgid = cgid, .nchans = (__u32)tr->env.nchannels,
	};
	char opts[4096], err[512];
	struct utsname u;
	size_t vlen;

	if (!tr->env.record_path)
		return 0;
	if (!tr->env.rb_kib_given)
		h.rb_kib = (__u32)(tr->env.rb_kib = record_ring_kib(tr, dev));
	if (!uname(&u))
		snprintf(h.host, sizeof(h.host), "%.63s", u.nodename);
	/* "hcitrace 0.2.0", without the format list (the header has its own) */
	vlen = strcspn(argp_program_version, "(");
	while (vlen && argp_program_version[vlen - 1] == ' ')
		vlen--;
	snprintf(h.version_str, sizeof(h.version_str), "%.*s", (int)vlen, argp_program_version);
	options_string(&tr->env, opts, sizeof(opts));
	if (hci_rec_writer_open(&tr->rec, tr->env.record_path, &h, opts, name_key, tr, err,
				sizeof(err))) {
		hci_errorf("%s; nothing was traced: give a path that can be written", err);
		return -EIO;
	}
	return 0;
}

/* Tracing has started: its time, and the guest channels it reads */
void record_started(struct trace_run *tr)
{
	struct timespec rt;

	if (!tr->rec)
		return;
	clock_gettime(CLOCK_REALTIME, &rt);
	hci_rec_writer_set_start(tr->rec, tr->t0_ns,
				 (__u64)rt.tv_sec * 1000000000ULL + (__u64)rt.tv_nsec);
	for (int i = 0; i < tr->nchans; i++) {
		hci_rec_write_chan(tr->rec, (unsigned int)i, tr->chans[i].c.live,
				   tr->chans[i].c.vm_tgid, tr->chans[i].c.path, tr->chans[i].origin);
		tr->chans[i].c.tee = record_chan_bytes;
		tr->chans[i].c.tee_ctx = tr;
	}
}

/* Guest channel @c's bytes, as read (the channel's tee) */
void record_chan_bytes(void *ctx, const struct hci_chan *c, const void *buf, size_t n,
		       uint64_t now)
{
	struct trace_run *tr = ctx;

	for (int i = 0; i < tr->nchans; i++) {
		if (&tr->chans[i].c != c)
			continue;
		if (!n)		/* a new stream: the reader starts its parser again */
			hci_rec_write_chan(tr->rec, (unsigned int)i, c->live, c->vm_tgid, c->path,
					   tr->chans[i].origin);
		else
			hci_rec_write_chan_data(tr->rec, (unsigned int)i, now, buf, n);
	}
}

/* One layer's final histograms, each under its key */
static int write_hists(struct trace_run *tr, struct bpf_map *map, unsigned int kind)
{
	struct hci_snap sn = {};
	int err = hci_snapshot(&tr->t, map, &sn);

	for (size_t i = 0; !err && i < sn.n; i++) {
		const void *k = sn.keys + i * sn.ksz;
		const __u64 *v = &sn.vals[i * (sn.vsz / sizeof(__u64))];

		if (kind == HCI_REC_KEY_VMM) {
			const struct hci_vmm_key *vk = k;

			hci_rec_write_hist(tr->rec, kind, 0, vk->vmm_tgid, vk->dev, vk->op, v);
		} else {
			const struct hci_hist_key *hk = k;

			hci_rec_write_hist(tr->rec, kind, hk->cgid, hk->vmm_tgid, hk->dev, hk->op, v);
		}
	}
	hci_snap_free(&sn);
	return err;
}

/* The VMMs the run saw, with their images: report names them as live */
static void write_vms(struct trace_run *tr)
{
	for (size_t i = 0; i < hci_resolver_nvmms(&tr->res); i++) {
		const struct hci_vmm_info *vi = hci_resolver_vmm_at(&tr->res, i);

		hci_rec_write_vm(tr->rec, (__u32)vi->pid, vi->more_images, vi->comm, vi->name,
				 vi->drives);
		for (int m = 0; m < vi->nimages; m++) {
			const struct hci_image *im = &vi->images[m];
			struct hci_rec_image r = {
				.pid = (__u32)vi->pid, .fd = im->fd, .dev = im->dev,
				.blockdev = im->blockdev, .nmap = (__u16)im->nmap, .ino = im->ino,
				.size = im->size, .extents = im->extents,
			};

			_Static_assert(sizeof(im->map[0]) == 24, "an extent is 3 x __u64");
			hci_rec_write_image(tr->rec, &r, im->map, im->path);
		}
	}
}

/*
 * Tracing has ended (detached, the ring read): the VMMs, the histograms
 * as BPF kept them, and the counters of the live "lost" object, closed.
 */
int record_finish(struct trace_run *tr)
{
	__u64 counters[HCI_REC_NCOUNTERS] = {};
	char err[512];
	int e = 0;

	if (!tr->rec)
		return 0;
	write_vms(tr);
	if (write_hists(tr, tr->t.skel->maps.hists, HCI_REC_KEY_BLOCK) ||
	    write_hists(tr, tr->t.skel->maps.vmm_hists, HCI_REC_KEY_VMM))
		e = -EIO;
	hci_tracer_counters(&tr->t, counters);
	counters[HCI_REC_CNT_UNREAD] = tr->dr.unread;
	if (hci_rec_writer_close(tr->rec, e ? NULL : counters, hci_now_ns(), err, sizeof(err))) {
		hci_errorf("%s", err);
		e = -EIO;
	} else if (e) {
		hci_errorf("%s: the final histograms could not be read; the file ends cut short",
			   tr->env.record_path);
	}
	tr->rec = NULL;
	return e;
}

/* On an error path: closed without a trailer, so it reads as cut short */
void record_abort(struct trace_run *tr)
{
	char err[512];

	if (tr->rec)
		hci_rec_writer_close(tr->rec, NULL, 0, err, sizeof(err));
	tr->rec = NULL;
}

/* Requests completed so far on the traced disks (whole disks, or @dev only) */
static __u64 disk_ios(__u32 dev)
{
	FILE *f = fopen("/proc/diskstats", "r");
	unsigned int ma, mi;
	unsigned long long rd, wr;
	char line[512], part[64];
	__u64 sum = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %*s %llu %*u %*u %*u %llu", &ma, &mi, &rd, &wr) != 4)
			continue;
		if (dev ? HCI_DEV_MKDEV(ma, mi) != dev : false)
			continue;
		/* a partition's requests are its disk's too */
		snprintf(part, sizeof(part), "/sys/dev/block/%u:%u/partition", ma, mi);
		if (!dev && !access(part, F_OK))
			continue;
		sum += rd + wr;
	}
	fclose(f);
	return sum;
}

/* How long the rate is sampled, and how long the ring must hold at that rate */
#define SAMPLE_NS (200 * 1000000ULL)
#define HOLD_MS 400
#define FLOOR_RATE 250000ULL		/* events/s: a fast device, whatever it does now */
#define RING_CAP_KIB (256 * 1024L)	/* 256 MiB of locked memory at most */

/*
 * --record without --ringbuf-kib: a ring that holds HOLD_MS of events at
 * the rate the disks run at now (at least FLOOR_RATE), so a reader held
 * up that long loses nothing. A power of two, as the kernel wants.
 */
long record_ring_kib(const struct trace_run *tr, __u32 dev)
{
	struct timespec ts = { 0, (long)SAMPLE_NS };
	__u64 a = disk_ios(dev), b, rate, bytes;
	long kib = 4096;

	nanosleep(&ts, NULL);
	b = disk_ios(dev);
	rate = (b - a) * 1000000000ULL / SAMPLE_NS;
	if (rate < FLOOR_RATE)
		rate = FLOOR_RATE;
	/* an event and its ring header; a VMM request is one more */
	bytes = rate * (tr->env.vmm ? 2 : 1) * (sizeof(struct hci_event) + 8) * HOLD_MS / 1000;
	while ((__u64)kib * 1024 < bytes && kib < RING_CAP_KIB)
		kib *= 2;
	if (tr->env.verbose)
		fprintf(stderr, "record: %llu requests/s on the traced disks now; ring buffer "
			"%ld KiB (%d ms at %llu events/s%s)\n", (unsigned long long)((b - a) *
			1000000000ULL / SAMPLE_NS), kib, HOLD_MS, (unsigned long long)rate,
			kib == RING_CAP_KIB ? ", capped" : "");
	return kib;
}
