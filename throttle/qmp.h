/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A QMP client for one job: read and set a QEMU drive's I/O throttling
 * (query-block, block_set_io_throttle). Each call connects to the VM's QMP
 * socket, negotiates capabilities, does its work and disconnects, so the
 * socket is free between calls; every wait is bounded by HCI_QMP_TIMEOUT_MS.
 *
 * A drive is named as in the QEMU command line: the -drive id (query-block's
 * "device"), a qdev id (-device ...,id=NAME) or a full qdev path.
 */
#ifndef HCI_QMP_H
#define HCI_QMP_H
#include <stddef.h>

#define HCI_QMP_TIMEOUT_MS 2000
#define HCI_QMP_MAX_REPLY (4u << 20)

/* block_set_io_throttle's numeric arguments, in this order: the six rates
 * (required arguments), then the bursts, their lengths and iops_size */
enum {
	HCI_QMP_BPS, HCI_QMP_BPS_RD, HCI_QMP_BPS_WR, HCI_QMP_IOPS, HCI_QMP_IOPS_RD,
	HCI_QMP_IOPS_WR, HCI_QMP_NRATES,
	HCI_QMP_IOPS_SIZE = HCI_QMP_NRATES + 12,
	HCI_QMP_NFIELDS,
};
extern const char *const hci_qmp_fields[HCI_QMP_NFIELDS];

struct hci_qmp_throttle {
	double v[HCI_QMP_NFIELDS];	/* 0 = not set */
	char group[128];		/* throttle group, "" = the drive's own */
};

/* The drive's throttling now. 0 or -errno (-ENOENT: no such socket or drive,
 * -ECONNREFUSED: nobody listens), with a message in err. */
int hci_qmp_get(const char *sock, const char *drive, struct hci_qmp_throttle *t, char *err,
		size_t errlen);
/* Set it (every field: a zero clears it; all zero turns throttling off). */
int hci_qmp_set(const char *sock, const char *drive, const struct hci_qmp_throttle *t,
		char *err, size_t errlen);

/* The state file's text form, "bps=0 bps_rd=1000 ... group=NAME", and back
 * (unknown names or bad numbers: -EINVAL). */
void hci_qmp_format(const struct hci_qmp_throttle *t, char *buf, size_t len);
int hci_qmp_parse(const char *s, struct hci_qmp_throttle *t);
#endif
