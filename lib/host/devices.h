/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef HCI_DEVS_H
#define HCI_DEVS_H
#include <linux/types.h>
#include <stddef.h>

/* "loop0", "/dev/loop0" or any path or link to a block device node
 * (/dev/disk/by-id/..., /dev/mapper/...) -> encoded dev; a partition
 * resolves to its disk. Anything else fails with a message in err. */
int hci_dev_from_name(const char *name, __u32 *dev, char *err, size_t errlen);
/* encoded dev -> name as in /sys/block, or "MAJ:MIN" if it is gone */
void hci_dev_name(__u32 dev, char *buf, size_t len);
/* Tests only: read sysfs under ROOT (NULL or "" = the real /sys) */
void hci_devs_set_sysfs_root(const char *root);
#endif
