/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* VMM discovery: the VM behind a process, its image files, where they live. */
#ifndef HCI_VMM_H
#define HCI_VMM_H
#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define HCI_IMAGE_EXTENTS 128

/* one FIEMAP extent: image bytes [logical, logical+len) at device byte physical */
struct hci_extent {
	__u64 logical, physical, len;
};

struct hci_image {
	int fd;			/* in the VMM */
	char path[PATH_MAX];
	__u32 dev;		/* disk holding it (encoded like hcitrace.h) */
	__u64 ino;
	__u64 size;
	bool blockdev;
	long extents;		/* FIEMAP extent count, -1 if unknown */
	int nmap;		/* extents kept in map[] (the first ones) */
	struct hci_extent map[HCI_IMAGE_EXTENTS];
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
/* Fill @vi for @pid from /proc; 0 on success, -ESRCH if it is gone */
int hci_vmm_inspect(pid_t pid, struct hci_vmm_info *vi);
/* The same without the open image files: comm, VM name and drives only */
int hci_vmm_inspect_name(pid_t pid, struct hci_vmm_info *vi);
/* Every VMM process on the host (or just @only if > 0); returns the count */
int hci_vmm_discover(struct hci_vmm_info *out, int max, pid_t only);
void hci_vmm_print(FILE *f, const struct hci_vmm_info *vi);
/* The image of a VMM request, by (disk, inode); NULL if not known */
const struct hci_image *hci_vmm_image(const struct hci_vmm_info *vi, __u32 dev, __u64 ino);
/* Image byte offset -> 512-byte sector on its disk, through the extent map.
 * A block device image maps one to one. -1 if the offset is not mapped
 * (a hole, or beyond the extents kept). */
int hci_image_sector(const struct hci_image *im, __u64 off, __u64 *sector);
/*
 * --vm PID|NAME -> the VMM's tgid. A NAME picks, of the processes whose
 * command line names that VM, the one that is a VMM (by comm or binary),
 * not the wrappers (timeout, sudo, ...) that carry the same command line.
 * -ESRCH when none runs, -EEXIST when it is ambiguous; err says which.
 */
int hci_vmm_resolve(const char *spec, __u32 *tgid, char *err, size_t errlen);
/* The -drive/-blockdev file= values of a NUL-separated command line */
void hci_vmm_drives(const char *cmdline, size_t len, char *out, size_t outlen);
#endif
