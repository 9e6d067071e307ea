/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef HCI_DEVS_H
#define HCI_DEVS_H
#include <linux/types.h>
#include <stddef.h>

/* "loop0" or "/dev/loop0" (a partition resolves to its disk) -> encoded dev */
int hci_dev_from_name(const char *name, __u32 *dev, char *err, size_t errlen);
/* encoded dev -> name as in /sys/block, or "MAJ:MIN" if it is gone */
void hci_dev_name(__u32 dev, char *buf, size_t len);
#endif
