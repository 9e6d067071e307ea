/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* VMM discovery: the VM behind a process, its image files, where they live. */
#ifndef HCI_VMM_H
#define HCI_VMM_H
#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct hci_image {
	int fd;			/* in the VMM */
	char path[PATH_MAX];
	__u32 dev;		/* disk holding it (encoded like hcitrace.h) */
	__u64 ino;
	__u64 size;
	bool blockdev;
	long extents;		/* FIEMAP extent count, -1 if unknown */
};

struct hci_vmm_info {
	pid_t pid;
	char comm[16];
	char name[128];		/* -name / --id, else the pid */
	char drives[512];	/* -drive/-blockdev file= values, comma-joined */
	struct hci_image images[16];
	int nimages;
	bool more_images;	/* more than fit in images[] */
};

/* Is this comm a VMM we know? (same list as the BPF side) */
bool hci_is_vmm_comm(const char *comm);
/* Fill @vi for @pid from /proc; 0 on success */
int hci_vmm_inspect(pid_t pid, struct hci_vmm_info *vi);
/* Every VMM process on the host (or just @only if > 0); returns the count */
int hci_vmm_discover(struct hci_vmm_info *out, int max, pid_t only);
void hci_vmm_print(FILE *f, const struct hci_vmm_info *vi);
/* The -drive/-blockdev file= values of a NUL-separated command line */
void hci_vmm_drives(const char *cmdline, size_t len, char *out, size_t outlen);
#endif
