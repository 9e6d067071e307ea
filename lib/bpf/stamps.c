// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The G point (a request was allocated for a bio) from the kernel's stamp.
 *
 * blk-mq stamps a request with rq->start_time_ns as it sets it up, for its
 * own I/O accounting, a few hundred ns after block_getrq fires (measured on
 * 6.18: 95% within 0.5 us, 99.7% within 1 us). Reading that stamp at the
 * request's first sight (insert or issue) spares a whole BPF program on every
 * request: block_getrq's run costs about as much as its clock read and the
 * program's own entry.
 *
 * The stamp is there only where the queue accounts I/O: with iostats off,
 * some schedulers leave it 0 (seen with mq-deadline). So the kernel's stamp
 * is used only when every request-based disk we trace has iostats on;
 * otherwise block_getrq is loaded as before. A request that still comes
 * without a stamp (iostats switched off while we trace) has no G: absent,
 * never a made-up time. The stamp is the plug's cached time when a plug
 * batches several bios (blk_time_get_ns()), which can lie before the bio's
 * own Q; block.bpf.c then takes G = Q.
 *
 * D (dispatched to the driver) comes the same way from rq->io_start_time_ns,
 * which blk-mq sets as it starts the request, on queues with blk-stat
 * callbacks. Writeback throttling registers one, so a disk whose
 * wbt_lat_usec reads above 0 has the stamp (wbt is on by default for
 * non-rotational disks without bfq). It is set after block_rq_issue's
 * programs ran, so it is read at C. Measured on 6.18 beside a
 * block_rq_issue program on a loop SSD with no scheduler: 99.5-99.8% of
 * stamps lie within 1 us before that program's own clock read (psync QD1,
 * libaio and io_uring QD32, 99.1% with batched submits), 19 of 409000
 * later (io_uring), never by 2 us; it is the plug's cached time
 * where a plug batches. Under mq-deadline 9% lay more than 1 us early, so a
 * disk with a scheduler keeps block_rq_issue. Then a request's first bio
 * holds its state until C (block.bpf.c rq_state_at_c). Not with --vmm over
 * all disks: a VM's request must be seen on its way down to name the VM to
 * the disk below (hci_vmm_link.bpf.h vmm_stack_down).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "stamps.h"

bool hci_queue_stamps_g(const char *queue_dir)
{
	char path[512];
	int on = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/iostats", queue_dir);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	return on == 1;
}

/* a blk-mq disk (it has requests); bio-based ones (zram, dm) never reach G */
static bool is_request_based(const char *disk_dir)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/mq", disk_dir);
	return stat(path, &st) == 0;
}

/* the first integer in a sysfs file, or -1 */
static long read_long(const char *dir, const char *file)
{
	char path[512];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

bool hci_queue_stamps_d(const char *queue_dir)
{
	char path[512], line[128] = "";
	FILE *f;

	if (read_long(queue_dir, "wbt_lat_usec") <= 0)
		return false;
	snprintf(path, sizeof(path), "%s/scheduler", queue_dir);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	/* "[none] mq-deadline", or "none" where it is the only choice */
	return !strncmp(line, "[none]", 6) || !strcmp(line, "none\n");
}

/* a stamp's test on one disk's queue directory, and what failing it means */
struct stamp_test {
	bool (*queue_ok)(const char *queue_dir);
	const char *why;
};

static bool disk_ok(const struct stamp_test *t, const char *disk_dir, const char *name,
		    char *why, size_t len)
{
	char queue[512];

	if (!is_request_based(disk_dir))
		return true;
	snprintf(queue, sizeof(queue), "%s/queue", disk_dir);
	if (t->queue_ok(queue))
		return true;
	snprintf(why, len, "%s %s", name, t->why);
	return false;
}

static bool all_disks_ok(const struct stamp_test *t, char *why, size_t len)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	char dir[512];
	bool ok = true;

	if (!d) {
		snprintf(why, len, "cannot read /sys/block");
		return false;
	}
	while (ok && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "/sys/block/%s", e->d_name);
		ok = disk_ok(t, dir, e->d_name, why, len);
	}
	closedir(d);
	return ok;
}

/* @dev, or every disk when 0 */
static bool traced_disks_ok(const struct stamp_test *t, __u32 dev, char *why, size_t len)
{
	char dir[128], name[32];

	if (!dev)
		return all_disks_ok(t, why, len);
	/* dev is a whole disk (trace/options.c resolves partitions) */
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", dev >> 20, dev & 0xfffff);
	snprintf(name, sizeof(name), "%u:%u", dev >> 20, dev & 0xfffff);
	return disk_ok(t, dir, name, why, len);
}

bool hci_kernel_g_usable(bool rq_start_time, __u32 dev, char *why, size_t len)
{
	static const struct stamp_test g = { hci_queue_stamps_g, "has iostats off" };

	if (!rq_start_time) {
		snprintf(why, len, "the kernel's struct request has no start_time_ns");
		return false;
	}
	return traced_disks_ok(&g, dev, why, len);
}

bool hci_kernel_d_usable(bool rq_io_start_time, __u32 dev, bool vmm, char *why, size_t len)
{
	static const struct stamp_test d = {
		hci_queue_stamps_d, "has a scheduler or no blk-stat (wbt_lat_usec 0)"
	};

	if (!rq_io_start_time) {
		snprintf(why, len, "the kernel's struct request has no io_start_time_ns");
		return false;
	}
	if (vmm && !dev) {
		snprintf(why, len, "--vmm over all disks follows VM requests down at dispatch");
		return false;
	}
	return traced_disks_ok(&d, dev, why, len);
}
