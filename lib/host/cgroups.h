/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef HCI_CGROUPS_H
#define HCI_CGROUPS_H
#include <linux/types.h>
#include <stddef.h>

/*
 * The hierarchy that holds the io controller: v1 blkio where mounted, else
 * the cgroup2 mount. bio->bi_blkg's cgroup id is the inode number of the
 * cgroup's directory there.
 */
struct hci_cgroups {
	char root[256];
	int v1;			/* 1 if the io controller is v1 blkio */
	struct hci_cg_ent { __u64 id; char *path; } *ents;
	size_t n, cap;
};

int hci_cgroups_init(struct hci_cgroups *cg, char *err, size_t errlen);
void hci_cgroups_free(struct hci_cgroups *cg);
/* A path given by the user: absolute under the mount, or relative to it. */
int hci_cgroup_id(struct hci_cgroups *cg, const char *spec, __u64 *id,
		  char *err, size_t errlen);
/* Path of cgroup @id relative to the root ("/" for the root), rescanning
 * the tree once on a miss. NULL if the cgroup is gone. */
const char *hci_cgroup_path(struct hci_cgroups *cg, __u64 id);
#endif
