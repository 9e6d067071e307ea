/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcithrottle's backends: io limits written into the io controller (v1
 * blkio.throttle.*, or v2 io.max), or into QEMU's own throttling of a drive
 * over QMP (block_set_io_throttle), with the originals saved first in a
 * state file so that any exit, and the next start after a crash, puts them
 * back. docs/hcithrottle.md describes the state file.
 */
#ifndef HCI_ENFORCE_H
#define HCI_ENFORCE_H
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct hci_limit {
	double riops, wiops, rbps, wbps;	/* 0 = no limit */
};

struct hci_saved {
	char kind[4];		/* "v1", "v2" or "qmp" */
	char cgdir[512];	/* absolute directory of the cgroup; qmp: the socket */
	__u32 dev;		/* HCI_DEV_MKDEV; qmp: 0 */
	char file[256];		/* blkio.throttle.read_iops_device, io.max; qmp: the drive */
	char orig[640];		/* what was there: "0" / "max" forms = none;
				 * qmp: hci_qmp_format() text */
};

struct hci_enforcer {
	bool v1;
	bool dry_run;
	char root[256];		/* the io controller's mount */
	char state_path[256];
	struct hci_saved *saved;
	size_t nsaved, cap;
	unsigned long writes;	/* limit writes done (or logged, dry run) */
	bool owns_state;	/* the state file is this run's to remove */
};

int hci_enf_init(struct hci_enforcer *e, const char *root, bool v1, const char *state_path,
		 bool dry_run, char *err, size_t errlen);
/*
 * A state file from a run that could not clean up: restore every valid line.
 * Each line that is not one hcithrottle writes (a target outside the io
 * controller's mount, its root, an unknown file or value, a line cut short)
 * or that cannot be restored is reported on stderr and counted in *nkept;
 * those lines stay in the state file, the file goes when none is left.
 * Returns the number of limits restored, or -errno.
 */
int hci_enf_recover(struct hci_enforcer *e, int *nkept, char *err, size_t errlen);
/*
 * Cap cgroup cgpath (relative to the root) on dev, or lift the cap (all
 * zero). The limits the cgroup had before the first write are saved to the
 * state file first, and stay in force as ceilings, per direction and kind:
 * each value written is min(cap, own), and a lift writes back exactly its
 * own. written (may be NULL) gets what was written (0 = none).
 */
int hci_enf_set(struct hci_enforcer *e, const char *cgpath, __u32 dev,
		const struct hci_limit *l, struct hci_limit *written, char *err,
		size_t errlen);
/* The cgroup was removed: its limits went with it; forget its originals
 * (a new cgroup of the same name has its own). */
int hci_enf_forget(struct hci_enforcer *e, const char *cgpath);
/* Put every original back and remove the state file. Returns how many could
 * not be restored (a vanished cgroup counts as restored). */
int hci_enf_restore(struct hci_enforcer *e);
/* Cap a QEMU drive over QMP (all zero: back to the drive's own limits).
 * The drive's own rate limits stay in force as ceilings; bursts are
 * suspended while capped. -ENOENT / -ECONNREFUSED: the VM or drive is not
 * there. */
int hci_enf_set_qmp(struct hci_enforcer *e, const char *sock, const char *drive,
		    const struct hci_limit *l, struct hci_limit *written, char *err,
		    size_t errlen);
void hci_enf_free(struct hci_enforcer *e);

/* The limit in force for (cgpath, dev), read back from the cgroup files. */
int hci_enf_read(const struct hci_enforcer *e, const char *cgpath, __u32 dev,
		 struct hci_limit *l);
#endif
