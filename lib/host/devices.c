// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Disk names and paths <-> dev_t, through sysfs, as /sys/block names them. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "devices.h"
#include "hci_abi.h"

/* where sysfs is: "" for the real one; tests point it at a made-up tree */
static char sysfs_root[PATH_MAX / 2];

void hci_devs_set_sysfs_root(const char *root)
{
	snprintf(sysfs_root, sizeof(sysfs_root), "%s", root ? root : "");
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* A name as /sys/class/block has it ("loop0", "loop0p1") -> its disk's dev */
static int dev_from_sysfs_name(const char *name, const char *base, __u32 *dev, char *err,
			       size_t errlen)
{
	char path[PATH_MAX], buf[64], link[PATH_MAX], tmp[PATH_MAX];
	unsigned int ma, mi;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/sys/class/block/%s", sysfs_root, base);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(err, errlen, "no such disk '%s' (see /sys/block, lsblk)", name);
		return -ENOENT;
	}
	link[n] = '\0';
	/* a partition's disk is its parent directory */
	snprintf(path, sizeof(path), "%s/sys/class/block/%s/partition", sysfs_root, base);
	if (access(path, F_OK) == 0) {
		snprintf(tmp, sizeof(tmp), "%s", link);
		snprintf(path, sizeof(path), "%s/sys/class/block/%s/dev", sysfs_root,
			 basename(dirname(tmp)));
	} else {
		snprintf(path, sizeof(path), "%s/sys/class/block/%s/dev", sysfs_root, base);
	}
	if (read_line(path, buf, sizeof(buf)) || sscanf(buf, "%u:%u", &ma, &mi) != 2) {
		snprintf(err, errlen, "cannot read device number of '%s'", name);
		return -EIO;
	}
	*dev = HCI_DEV_MKDEV(ma, mi);
	return 0;
}

static const char *file_kind(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" :
	       S_ISCHR(m) ? "a character device" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISSOCK(m) ? "a socket" : "not a block device";
}

/*
 * A path to a block device node, through any chain of links (udev's
 * /dev/disk/by-id/..., /dev/mapper/..., relative or not): stat() follows
 * them to the node, whose major:minor sysfs names.
 */
static int dev_from_path(const char *name, __u32 *dev, char *err, size_t errlen)
{
	char path[PATH_MAX], link[PATH_MAX], real[PATH_MAX], shown[PATH_MAX + 8] = "";
	struct stat st;
	ssize_t n;

	if (stat(name, &st)) {
		int e = errno;

		if (e == ENOENT && !lstat(name, &st))
			snprintf(err, errlen, "disk '%s' is a link to nothing (%s); give a "
				 "disk name (see lsblk) or a path to a block device", name,
				 strerror(e));
		else
			snprintf(err, errlen, "no such disk '%s' (%s; see /sys/block, lsblk)",
				 name, strerror(e));
		return -e;
	}
	if (!S_ISBLK(st.st_mode)) {
		/* name the end of the chain of links: that is what is wrong */
		if (realpath(name, real) && strcmp(real, name))
			snprintf(shown, sizeof(shown), " (-> %s)", real);
		snprintf(err, errlen, "disk '%s'%s is %s, not a block device; give a disk "
			 "name (see lsblk) or a path to a block device", name, shown,
			 file_kind(st.st_mode));
		return -ENOTBLK;
	}
	snprintf(path, sizeof(path), "%s/sys/dev/block/%u:%u", sysfs_root, major(st.st_rdev),
		 minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(err, errlen, "disk '%s' is block device %u:%u, which the kernel does "
			 "not list in /sys/dev/block (see lsblk)", name, major(st.st_rdev),
			 minor(st.st_rdev));
		return -ENOENT;
	}
	link[n] = '\0';
	return dev_from_sysfs_name(name, basename(link), dev, err, errlen);
}

/*
 * A bare name is a sysfs name first; anything with a '/' (or a bare name
 * sysfs does not know that is a file here) is a path to stat. "/dev/NAME"
 * falls back to sysfs where /dev has no such node (a container's /dev).
 */
int hci_dev_from_name(const char *name, __u32 *dev, char *err, size_t errlen)
{
	const char *base = strncmp(name, "/dev/", 5) ? name : name + 5;
	struct stat st;
	int ret;

	if (!*name || strlen(name) >= PATH_MAX) {
		snprintf(err, errlen, "invalid disk name '%s'", name);
		return -EINVAL;
	}
	if (!strchr(name, '/')) {
		ret = dev_from_sysfs_name(name, name, dev, err, errlen);
		if (ret != -ENOENT || lstat(name, &st))
			return ret;
		return dev_from_path(name, dev, err, errlen);
	}
	if (base != name && *base && !strchr(base, '/') && lstat(name, &st) && errno == ENOENT)
		return dev_from_sysfs_name(name, base, dev, err, errlen);
	return dev_from_path(name, dev, err, errlen);
}

void hci_dev_name(__u32 dev, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/sys/dev/block/%u:%u", sysfs_root, HCI_DEV_MAJOR(dev),
		 HCI_DEV_MINOR(dev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(buf, len, "%u:%u", HCI_DEV_MAJOR(dev), HCI_DEV_MINOR(dev));
		return;
	}
	link[n] = '\0';
	snprintf(buf, len, "%s", basename(link));
}
