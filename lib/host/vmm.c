// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VMM discovery from /proc: which processes are VMMs, what they call their
 * VM, which image files they hold open (regular files and block devices),
 * the disk each one lives on, and how fragmented it is (FIEMAP extents:
 * the map from image offsets to device sectors).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "devices.h"
#include "hci_abi.h"
#include "origin.h"
#include "procs.h"
#include "vmm.h"

bool hci_is_vmm_comm(const char *comm)
{
	return !strncmp(comm, "qemu-system-", 12) || !strcmp(comm, "firecracker") ||
	       !strncmp(comm, "cloud-hypervis", 14) || !strcmp(comm, "crosvm");
}

void hci_vmm_drives(const char *cmdline, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len; ) {
		const char *arg = cmdline + i;
		size_t alen = strnlen(arg, len - i), next = i + alen + 1;

		if ((!strcmp(arg, "-drive") || !strcmp(arg, "-blockdev")) && next < len) {
			const char *v = cmdline + next, *f = strstr(v, "file=");

			/* "file=" at the start or after a comma; ends at a comma */
			while (f && f != v && f[-1] != ',' && f[-1] != '.')
				f = strstr(f + 1, "file=");
			if (f) {
				size_t fl = strcspn(f + 5, ",");

				if (o + fl + 2 < outlen) {
					if (o)
						out[o++] = ',';
					memcpy(out + o, f + 5, fl);
					o += fl;
					out[o] = '\0';
				}
			}
		}
		i = next;
	}
}

/* The extent count, and the first HCI_IMAGE_EXTENTS extents into im->map. */
static long fiemap_extents(int fd, struct hci_image *im)
{
	struct fiemap *fm;
	long n;

	fm = calloc(1, sizeof(*fm) + HCI_IMAGE_EXTENTS * sizeof(struct fiemap_extent));
	if (!fm)
		return -1;
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_extent_count = HCI_IMAGE_EXTENTS;
	fm->fm_flags = FIEMAP_FLAG_SYNC;	/* delayed allocation has no place yet */
	if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
		free(fm);
		return -1;
	}
	n = fm->fm_mapped_extents;
	for (__u32 i = 0; i < fm->fm_mapped_extents && i < HCI_IMAGE_EXTENTS; i++) {
		const struct fiemap_extent *e = &fm->fm_extents[i];

		if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_ENCODED |
				   FIEMAP_EXTENT_DATA_INLINE))
			continue;	/* no stable place on the disk */
		im->map[im->nmap++] = (struct hci_extent){ e->fe_logical, e->fe_physical,
							    e->fe_length };
	}
	/* more extents than one call returned: ask for the count alone */
	if (fm->fm_mapped_extents == HCI_IMAGE_EXTENTS) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_length = FIEMAP_MAX_OFFSET;
		if (!ioctl(fd, FS_IOC_FIEMAP, fm))
			n = fm->fm_mapped_extents;
	}
	free(fm);
	return n;
}

const struct hci_image *hci_vmm_image(const struct hci_vmm_info *vi, __u32 dev, __u64 ino)
{
	for (int i = 0; vi && i < vi->nimages; i++)
		if (vi->images[i].dev == dev && vi->images[i].ino == ino)
			return &vi->images[i];
	return NULL;
}

int hci_image_sector(const struct hci_image *im, __u64 off, __u64 *sector)
{
	if (im->blockdev) {
		*sector = off / 512;
		return 0;
	}
	for (int i = 0; i < im->nmap; i++) {
		const struct hci_extent *e = &im->map[i];

		if (off >= e->logical && off - e->logical < e->len) {
			*sector = (e->physical + (off - e->logical)) / 512;
			return 0;
		}
	}
	return -1;
}

int hci_vmm_inspect_name(pid_t pid, struct hci_vmm_info *vi)
{
	char cmd[HCI_CMDLINE_MAX];
	int n;

	memset(vi, 0, sizeof(*vi));
	vi->pid = pid;
	if (hci_proc_comm(pid, vi->comm, sizeof(vi->comm)) < 0)
		return -ESRCH;
	n = hci_proc_cmdline(pid, cmd, sizeof(cmd));
	if (n <= 0 || hci_vmm_name_from_cmdline(cmd, (size_t)n, vi->name, sizeof(vi->name)))
		snprintf(vi->name, sizeof(vi->name), "%d", pid);
	if (n > 0)
		hci_vmm_drives(cmd, (size_t)n, vi->drives, sizeof(vi->drives));
	return 0;
}

int hci_vmm_inspect(pid_t pid, struct hci_vmm_info *vi)
{
	char path[64], link[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	int err = hci_vmm_inspect_name(pid, vi);

	if (err)
		return err;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return 0;	/* not ours to read: name only */
	while ((d = readdir(dir))) {
		struct hci_image *im;
		char fdpath[300];
		struct stat st;
		ssize_t l;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%s", pid, d->d_name);
		if (stat(fdpath, &st) || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
			continue;
		l = readlink(fdpath, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		/* the VMM's own binary, libraries, firmware and logs are not images */
		if (!strncmp(link, "/usr/", 5) || !strncmp(link, "/proc/", 6) ||
		    !strncmp(link, "/sys/", 5) || strstr(link, " (deleted)"))
			continue;
		if (vi->nimages == (int)(sizeof(vi->images) / sizeof(vi->images[0]))) {
			vi->more_images = true;
			break;
		}
		im = &vi->images[vi->nimages++];
		im->fd = atoi(d->d_name);
		snprintf(im->path, sizeof(im->path), "%s", link);
		im->blockdev = S_ISBLK(st.st_mode);
		im->dev = im->blockdev ? HCI_DEV_MKDEV(major(st.st_rdev), minor(st.st_rdev)) :
					 HCI_DEV_MKDEV(major(st.st_dev), minor(st.st_dev));
		im->ino = st.st_ino;
		im->size = (__u64)st.st_size;
		im->extents = -1;
		if (!im->blockdev) {
			fd = open(fdpath, O_RDONLY);
			if (fd >= 0) {
				im->extents = fiemap_extents(fd, im);
				close(fd);
			}
		}
	}
	closedir(dir);
	return 0;
}

struct discovery {
	struct hci_vmm_info *out;
	int max, n;
};

static int discover_one(const struct hci_proc *p, void *ctx)
{
	struct discovery *dc = ctx;

	if (hci_is_vmm_comm(p->comm) && !hci_vmm_inspect(p->pid, &dc->out[dc->n]))
		dc->n++;
	return dc->n == dc->max;
}

int hci_vmm_discover(struct hci_vmm_info *out, int max, pid_t only)
{
	struct discovery dc = { .out = out, .max = max };

	if (only > 0)
		return hci_vmm_inspect(only, &out[0]) ? 0 : 1;
	if (max <= 0)
		return 0;
	hci_procs_each(HCI_PROC_COMM, discover_one, &dc);
	return dc.n;
}

void hci_vmm_print(FILE *f, const struct hci_vmm_info *vi)
{
	char dev[32];

	fprintf(f, "vm:%s  pid %d (%s)", vi->name, vi->pid, vi->comm);
	if (vi->drives[0])
		fprintf(f, "  drives %s", vi->drives);
	fputc('\n', f);
	for (int i = 0; i < vi->nimages; i++) {
		const struct hci_image *im = &vi->images[i];

		hci_dev_name(im->dev, dev, sizeof(dev));
		fprintf(f, "  image fd %d %s on %s, %llu bytes", im->fd, im->path, dev,
			(unsigned long long)im->size);
		if (im->extents >= 0)
			fprintf(f, ", %ld extent%s", im->extents, im->extents == 1 ? "" : "s");
		fputc('\n', f);
	}
	if (vi->more_images)
		fprintf(f, "  (more open files not shown)\n");
}

/* "qemu-system-x86_64 (deleted)" is still the binary it was */
static bool is_vmm_exe(pid_t pid)
{
	char path[64], exe[PATH_MAX], *del, *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	del = strstr(exe, " (deleted)");
	if (del && !del[10])
		*del = '\0';
	base = strrchr(exe, '/');
	return hci_is_vmm_comm(base ? base + 1 : exe);
}

/*
 * What the process is, not what its command line says: its comm, or the
 * binary it runs (QEMU's "-name ...,process=X" renames the comm).
 */
static bool is_vmm_process(pid_t pid)
{
	char comm[32];

	if (hci_proc_comm(pid, comm, sizeof(comm)) >= 0 && hci_is_vmm_comm(comm))
		return true;
	return is_vmm_exe(pid);
}

static pid_t parent_of(pid_t pid)
{
	char stat[512], *rp;
	int ppid;

	if (hci_proc_read(pid, "stat", stat, sizeof(stat)) <= 0)
		return 0;
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses */
	rp = strrchr(stat, ')');
	if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

static bool is_ancestor(pid_t anc, pid_t pid)
{
	for (int depth = 0; pid > 1 && depth < 256; depth++) {
		pid = parent_of(pid);
		if (pid == anc)
			return true;
	}
	return false;
}

#define HCI_VM_CANDIDATES 64

/* what a process that names the VM on its command line is */
enum vm_kind {
	VM_OTHER,	/* no VMM hcikit knows: maybe one it does not */
	VM_VMM,		/* a VMM by comm or binary */
	VM_LAUNCHER,	/* runs a VMM's binary, e.g. "timeout 60 qemu-system-x86_64 ..." */
};

struct vm_candidates {
	pid_t pid[HCI_VM_CANDIDATES];
	enum vm_kind kind[HCI_VM_CANDIDATES];
	int n;		/* all that matched; pid[] keeps the first 64 */
};

/*
 * A known VMM's binary among the arguments before the VM's name: the
 * process is a wrapper around a VMM (or one that has not exec'd it yet).
 */
static bool launches_vmm(const char *cmd, size_t len)
{
	size_t i = strnlen(cmd, len) + 1;

	while (i < len) {
		const char *arg = cmd + i, *base = strrchr(arg, '/');

		if (!strcmp(arg, "-name") || !strcmp(arg, "--name") || !strcmp(arg, "--id"))
			break;
		if (hci_is_vmm_comm(base ? base + 1 : arg))
			return true;
		i += strnlen(arg, len - i) + 1;
	}
	return false;
}

struct name_search {
	const char *name;
	struct vm_candidates *c;
	pid_t self;
};

static int match_named(const struct hci_proc *p, void *ctx)
{
	struct name_search *ns = ctx;
	struct vm_candidates *c = ns->c;
	char vm[128];

	/* hcitrace itself may carry the VM's command line after "--" */
	if (p->pid == ns->self || !p->cmdline_len ||
	    hci_vmm_name_from_cmdline(p->cmdline, p->cmdline_len, vm, sizeof(vm)) ||
	    strcmp(vm, ns->name))
		return 0;
	if (c->n < HCI_VM_CANDIDATES) {
		c->pid[c->n] = p->pid;
		c->kind[c->n] = is_vmm_process(p->pid) ? VM_VMM :
				launches_vmm(p->cmdline, p->cmdline_len) ? VM_LAUNCHER : VM_OTHER;
	}
	c->n++;
	return 0;
}

/* Every process whose command line names the VM @name (-name, --id) */
static int find_named(const char *name, struct vm_candidates *c, char *err, size_t errlen)
{
	struct name_search ns = { .name = name, .c = c, .self = getpid() };
	int ret;

	memset(c, 0, sizeof(*c));
	ret = hci_procs_each(HCI_PROC_CMDLINE, match_named, &ns);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read /proc: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static void list_pids(const struct vm_candidates *c, int kind, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < c->n && i < HCI_VM_CANDIDATES && o + 16 < len; i++)
		if (kind < 0 || c->kind[i] == (enum vm_kind)kind)
			o += (size_t)snprintf(out + o, len - o, "%s%d", o ? ", " : "",
					      c->pid[i]);
	if (c->n > HCI_VM_CANDIDATES && o + 8 < len)
		snprintf(out + o, len - o, ", ...");
}

static int count_kind(const struct vm_candidates *c, enum vm_kind kind, int *last)
{
	int n = 0;

	for (int i = 0; i < c->n && i < HCI_VM_CANDIDATES; i++)
		if (c->kind[i] == kind) {
			n++;
			*last = i;
		}
	return n;
}

/*
 * Of the processes that carry "-name NAME", the VMM. Wrappers that fork
 * (timeout, sudo, flock, strace, setsid -w, ...) keep the VMM's command
 * line in their own, so the command line cannot tell them apart; what the
 * process is can. A VMM hcikit does not know by name is taken when every
 * other candidate is its ancestor (its wrappers).
 */
static int pick_vmm(const char *name, const struct vm_candidates *c, __u32 *tgid, char *err,
		    size_t errlen)
{
	int n = c->n < HCI_VM_CANDIDATES ? c->n : HCI_VM_CANDIDATES, last = -1, nleaf = 0;
	int nvmm = count_kind(c, VM_VMM, &last);
	char pids[256];

	if (nvmm == 1) {
		*tgid = (__u32)c->pid[last];
		return 0;
	}
	if (nvmm > 1) {
		list_pids(c, VM_VMM, pids, sizeof(pids));
		snprintf(err, errlen, "%d VMMs are named '%s' (pids %s); give the pid", nvmm,
			 name, pids);
		return -EEXIST;
	}
	for (int i = 0; i < n && c->n <= HCI_VM_CANDIDATES; i++) {
		bool wraps = c->kind[i] != VM_OTHER;

		for (int j = 0; j < n && !wraps; j++)
			wraps = j != i && is_ancestor(c->pid[i], c->pid[j]);
		if (!wraps) {
			nleaf++;
			last = i;
		}
	}
	if (nleaf == 1) {
		*tgid = (__u32)c->pid[last];
		return 0;
	}
	if (!nleaf && count_kind(c, VM_LAUNCHER, &last) == c->n) {
		list_pids(c, VM_LAUNCHER, pids, sizeof(pids));
		snprintf(err, errlen, "no VMM named '%s' is running, only what starts one (pids "
			 "%s); wait for the VM to start, or give its pid", name, pids);
		return -ESRCH;
	}
	list_pids(c, -1, pids, sizeof(pids));
	snprintf(err, errlen, "%d processes are named '%s' (pids %s) and none is a VMM "
		 "hcitrace knows (qemu-system-*, firecracker, cloud-hypervisor, crosvm); "
		 "give the VMM's pid", c->n, name, pids);
	return -EEXIST;
}

int hci_vmm_resolve(const char *spec, __u32 *tgid, char *err, size_t errlen)
{
	struct vm_candidates c;
	char path[64], *end;
	long pid;
	int ret;

	errno = 0;
	pid = strtol(spec, &end, 10);
	if (!errno && end != spec && !*end) {
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		if (pid <= 0 || pid > 0x7fffffff || access(path, F_OK)) {
			snprintf(err, errlen, "no process with pid %s", spec);
			return -ESRCH;
		}
		*tgid = (__u32)pid;
		return 0;
	}
	ret = find_named(spec, &c, err, errlen);
	if (ret)
		return ret;
	if (!c.n) {
		snprintf(err, errlen, "no VM named '%s' is running (give its -name or pid)", spec);
		return -ESRCH;
	}
	return pick_vmm(spec, &c, tgid, err, errlen);
}
