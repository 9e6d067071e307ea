/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Can the kernel's own request stamps stand for the G and D points? See stamps.c.
 */
#ifndef HCI_STAMPS_H
#define HCI_STAMPS_H
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * True if G can be read from rq->start_time_ns on every request-based disk
 * we trace (@dev, or all of them when 0), so that the block_getrq program
 * need not run. Otherwise false, with the reason in @why. @rq_start_time:
 * the kernel's struct request has the field (hci_probe_features).
 */
bool hci_kernel_g_usable(bool rq_start_time, __u32 dev, char *why, size_t len);

/*
 * True if D can be read from rq->io_start_time_ns at C on every request-based
 * disk we trace, so that block_rq_issue need not run. @vmm: --vmm is on.
 */
bool hci_kernel_d_usable(bool rq_io_start_time, __u32 dev, bool vmm, char *why, size_t len);

/* The same tests on one disk's sysfs queue directory (for the unit tests). */
bool hci_queue_stamps_g(const char *queue_dir);
bool hci_queue_stamps_d(const char *queue_dir);
#endif
