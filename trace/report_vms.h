/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hcitrace report: the VMMs a recorded run saw (HCI_REC_VM, HCI_REC_IMAGE). */
#ifndef HCI_REPORT_VMS_H
#define HCI_REPORT_VMS_H
#include <stddef.h>
#include <stdio.h>
#include "host/vmm.h"

struct rvms {
	struct hci_vmm_info **v;	/* in the order the live run first saw them */
	size_t n;
};

/*
 * The file's VMMs, read ahead of the records that need them (they are
 * written at the end). Errors are the main pass's to say: this one stops.
 */
void rvms_load(struct rvms *vms, const char *path);
const struct hci_vmm_info *rvms_find(const struct rvms *vms, __u32 pid);
/* "VMs:" and each VM, as the live summary ends */
void rvms_print(FILE *f, const struct rvms *vms);
void rvms_free(struct rvms *vms);
#endif
