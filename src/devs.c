// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Disk names <-> dev_t, through sysfs, as /sys/block names them. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "devs.h"
#include "hcitrace.h"

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

int hci_dev_from_name(const char *name, __u32 *dev, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[64], link[PATH_MAX], tmp[PATH_MAX];
	const char *base = strncmp(name, "/dev/", 5) ? name : name + 5;
	unsigned int ma, mi;
	ssize_t n;

	if (!*base || strchr(base, '/') || strlen(base) > 64) {
		snprintf(err, errlen, "invalid disk name '%s'", name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s", base);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(err, errlen, "no such disk '%s' (see /sys/block, lsblk)", name);
		return -ENOENT;
	}
	link[n] = '\0';
	/* a partition's disk is its parent directory */
	snprintf(path, sizeof(path), "/sys/class/block/%s/partition", base);
	if (access(path, F_OK) == 0) {
		snprintf(tmp, sizeof(tmp), "%s", link);
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev",
			 basename(dirname(tmp)));
	} else {
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev", base);
	}
	if (read_line(path, buf, sizeof(buf)) || sscanf(buf, "%u:%u", &ma, &mi) != 2) {
		snprintf(err, errlen, "cannot read device number of '%s'", name);
		return -EIO;
	}
	*dev = HCI_DEV_MKDEV(ma, mi);
	return 0;
}

void hci_dev_name(__u32 dev, char *buf, size_t len)
{
	char path[64], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", HCI_DEV_MAJOR(dev),
		 HCI_DEV_MINOR(dev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(buf, len, "%u:%u", HCI_DEV_MAJOR(dev), HCI_DEV_MINOR(dev));
		return;
	}
	link[n] = '\0';
	snprintf(buf, len, "%s", basename(link));
}
