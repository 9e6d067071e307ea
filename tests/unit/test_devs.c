// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Disk names and paths -> dev (issue 11, item 13): links of any depth,
 * relative or absolute, to a disk or a partition, and clear errors for what
 * is not a block device. The kernel here has no partition tables and no
 * device mapper, so partitions and /dev/mapper-style links are checked on a
 * made-up sysfs tree with real device nodes (mknod, which needs root).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "tap.h"
#include "host/devices.h"
#include "hci_abi.h"

static char root[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int sh(const char *fmt, const char *arg)
{
	char cmd[PATH_MAX * 4];

	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg, arg);
	return system(cmd);
}

/* sdz (259:200) with partition sdz1 (259:201), and dm-7 (253:7), in sysfs */
static int make_tree(void)
{
	static const char tree[] =
		"cd '%s' && mkdir -p sys/class/block sys/dev/block dev/disk/by-id "
		"dev/mapper sys/devices/virtual/block/sdz/sdz1 "
		"sys/devices/virtual/block/dm-7 && "
		"ln -s ../../devices/virtual/block/sdz sys/class/block/sdz && "
		"ln -s ../../devices/virtual/block/sdz/sdz1 sys/class/block/sdz1 && "
		"ln -s ../../devices/virtual/block/dm-7 sys/class/block/dm-7 && "
		"ln -s ../../devices/virtual/block/sdz sys/dev/block/259:200 && "
		"ln -s ../../devices/virtual/block/sdz/sdz1 sys/dev/block/259:201 && "
		"ln -s ../../devices/virtual/block/dm-7 sys/dev/block/253:7 && "
		"mknod dev/sdz b 259 200 && mknod dev/sdz1 b 259 201 && "
		"mknod dev/dm-7 b 253 7 && mknod dev/orphan b 259 299 && "
		"ln -s ../../sdz dev/disk/by-id/wwn-disk && "
		"ln -s ../../sdz1 dev/disk/by-id/wwn-disk-part1 && "
		"ln -s ../dm-7 dev/mapper/vg-data && "
		"ln -s disk/by-id/wwn-disk-part1 dev/two && ln -s two dev/three && "
		"ln -s '%s/dev/three' abs && "
		"touch file && ln -s file link-to-file && ln -s nowhere dangling && "
		"ln -s loopy loopy && mkfifo fifo && ln -s /dev/null null && mkdir dir";

	if (sh(tree, root))
		return -1;
	put("sys/devices/virtual/block/sdz/dev", "259:200\n");
	put("sys/devices/virtual/block/sdz/sdz1/dev", "259:201\n");
	put("sys/devices/virtual/block/sdz/sdz1/partition", "1\n");
	put("sys/devices/virtual/block/dm-7/dev", "253:7\n");
	return 0;
}

#define RESOLVE(p) (snprintf(path, sizeof(path), "%s/%s", root, p), \
		    dev = 0, err[0] = '\0', hci_dev_from_name(path, &dev, err, sizeof(err)))

int main(void)
{
	char path[PATH_MAX * 2], err[PATH_MAX * 3], name[64];
	__u32 dev = 0;

	/* the real sysfs: a bare name, /dev/NAME, and a bare name nobody has */
	ok(hci_dev_from_name("nosuchdisk0", &dev, err, sizeof(err)) == -ENOENT &&
	   strstr(err, "no such disk 'nosuchdisk0'"), "a missing disk: %s", err);
	ok(hci_dev_from_name("", &dev, err, sizeof(err)) == -EINVAL, "an empty name is refused");
	ok(hci_dev_from_name("/dev/nosuchdisk0", &dev, err, sizeof(err)) == -ENOENT &&
	   strstr(err, "no such disk '/dev/nosuchdisk0'"), "a missing /dev node: %s", err);

	if (geteuid() != 0) {
		ok(1, "# SKIP the made-up tree needs mknod (root)");
		return done_testing();
	}
	snprintf(root, sizeof(root), "/tmp/hcidevsXXXXXX");
	ok(mkdtemp(root) && make_tree() == 0, "a made-up sysfs and /dev in %s", root);
	hci_devs_set_sysfs_root(root);

	ok(RESOLVE("dev/sdz") == 0 && dev == HCI_DEV_MKDEV(259, 200), "a disk's node: %s", err);
	ok(RESOLVE("dev/sdz1") == 0 && dev == HCI_DEV_MKDEV(259, 200),
	   "a partition's node is its disk: %s", err);
	ok(RESOLVE("dev/disk/by-id/wwn-disk") == 0 && dev == HCI_DEV_MKDEV(259, 200),
	   "a relative by-id link to a disk: %s", err);
	ok(RESOLVE("dev/disk/by-id/wwn-disk-part1") == 0 && dev == HCI_DEV_MKDEV(259, 200),
	   "a by-id link to a partition is its disk: %s", err);
	ok(RESOLVE("dev/mapper/vg-data") == 0 && dev == HCI_DEV_MKDEV(253, 7),
	   "a /dev/mapper link to dm-7: %s", err);
	ok(RESOLVE("dev/three") == 0 && dev == HCI_DEV_MKDEV(259, 200),
	   "three relative links deep: %s", err);
	ok(RESOLVE("abs") == 0 && dev == HCI_DEV_MKDEV(259, 200),
	   "an absolute link to relative ones: %s", err);
	ok(RESOLVE("dev/./disk/../mapper//vg-data") == 0 && dev == HCI_DEV_MKDEV(253, 7),
	   "dots and double slashes in the path: %s", err);
	hci_dev_name(HCI_DEV_MKDEV(253, 7), name, sizeof(name));
	is_str(name, "dm-7", "and the device is named as sysfs names it");

	ok(RESOLVE("file") == -ENOTBLK && strstr(err, "is a regular file, not a block device"),
	   "a regular file: %s", err);
	ok(RESOLVE("link-to-file") == -ENOTBLK && strstr(err, "/file) is a regular file"),
	   "a link to a regular file names where it ends: %s", err);
	ok(RESOLVE("dir") == -ENOTBLK && strstr(err, "is a directory"), "a directory: %s", err);
	ok(RESOLVE("fifo") == -ENOTBLK && strstr(err, "is a FIFO"), "a FIFO: %s", err);
	ok(RESOLVE("null") == -ENOTBLK && strstr(err, "(-> /dev/null) is a character device"),
	   "a link to a character device: %s", err);
	ok(RESOLVE("dangling") == -ENOENT && strstr(err, "is a link to nothing"),
	   "a dangling link: %s", err);
	ok(RESOLVE("loopy") == -ELOOP && strstr(err, "no such disk"), "a loop of links: %s", err);
	ok(RESOLVE("missing") == -ENOENT && strstr(err, "no such disk"), "a missing path: %s", err);
	ok(RESOLVE("dev/orphan") == -ENOENT && strstr(err, "259:299, which the kernel does not list"),
	   "a block node of no disk: %s", err);

	/* a bare name sysfs does not know, but a link by that name is here */
	ok(chdir(root) == 0 && chdir("dev/disk/by-id") == 0, "cd into by-id");
	dev = 0;
	ok(hci_dev_from_name("wwn-disk-part1", &dev, err, sizeof(err)) == 0 &&
	   dev == HCI_DEV_MKDEV(259, 200), "a bare name that is a link here: %s", err);
	ok(hci_dev_from_name("sdz1", &dev, err, sizeof(err)) == 0 &&
	   dev == HCI_DEV_MKDEV(259, 200), "a bare name sysfs knows is sysfs's: %s", err);
	ok(chdir("/") == 0, "cd /");

	hci_devs_set_sysfs_root(NULL);
	sh("rm -rf '%s'", root);
	return done_testing();
}
