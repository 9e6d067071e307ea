// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Host side of the guest stream: channel I/O around the parser and the join. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "channel.h"
#include "bpf/tracer.h"
#include "host/procs.h"

#define RETRY_NS 500000000ULL

static bool read_s64(const char *path, int64_t *v)
{
	FILE *f = fopen(path, "r");
	long long x;
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%lld", &x) == 1;
	fclose(f);
	if (ok)
		*v = x;
	return ok;
}

/*
 * KVM keeps guest TSC = host TSC * ratio + offset per vCPU, and shows both in
 * debugfs (/sys/kernel/debug/kvm/<pid>-<fd>/vcpu0/). With the ratio at 1, a
 * guest SYNC's (TSC, mono) pair maps to host mono through the host's own
 * TSC, which is calibrated here.
 */
static void kvm_tsc_probe(struct hci_chan *c)
{
	char prefix[32], path[512];
	struct dirent *de;
	DIR *d;

	if (!c->vm_tgid || !hci_rdtsc())
		return;
	d = opendir("/sys/kernel/debug/kvm");
	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "%u-", c->vm_tgid);
	while ((de = readdir(d))) {
		int64_t off, ratio, frac;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%s/vcpu0/tsc-offset",
			 de->d_name);
		if (!read_s64(path, &off))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%s/vcpu0/tsc-scaling-ratio",
			 de->d_name);
		if (read_s64(path, &ratio)) {
			snprintf(path, sizeof(path),
				 "/sys/kernel/debug/kvm/%s/vcpu0/tsc-scaling-ratio-frac-bits",
				 de->d_name);
			if (!read_s64(path, &frac) || frac < 0 || frac > 62 ||
			    ratio != (int64_t)1 << frac)
				continue;	/* scaled TSC: not handled, causality only */
		}
		c->tsc_offset = off;
		c->kvm_tsc = true;
		break;
	}
	closedir(d);
	if (c->kvm_tsc) {
		uint64_t t0 = hci_rdtsc(), m0 = hci_now_ns(), t1, m1;
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
		t1 = hci_rdtsc();
		m1 = hci_now_ns();
		if (t1 > t0) {
			c->ns_per_tick = (double)(m1 - m0) / (double)(t1 - t0);
			c->tsc_h0 = t1;
			c->mono_h0 = m1;
		} else {
			c->kvm_tsc = false;
		}
	}
}

static int try_connect(struct hci_chan *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	strcpy(sa.sun_path, c->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	c->fd = fd;
	c->connects++;
	return 0;
}

static void on_record(void *ctx, unsigned int type, uint32_t seq, const void *rec, size_t len)
{
	struct hci_chan *c = ctx;

	/* a new guest tracer (maybe a rebooted guest): its clock starts over */
	if (type == HCI_WT_HELLO && seq == 0 && c->p->st.frames > 1)
		hci_join_reset_clock(c->j);
	hci_join_guest(c->j, type, rec, len, c->last_now, c->live);
	if (type == HCI_WT_SYNC && c->kvm_tsc && len == sizeof(struct hci_w_sync)) {
		const struct hci_w_sync *s = rec;
		const struct hci_w_hello *h = hci_join_hello(c->j);

		if (h && h->flags & HCI_WF_TSC && s->tsc)
			hci_join_set_tsc(c->j, hci_tsc_clock_offset(s->tsc, s->mono_ns,
								    c->tsc_offset, c->tsc_h0,
								    c->mono_h0, c->ns_per_tick));
	}
}

int hci_chan_open(struct hci_chan *c, const char *path, uint32_t vm_tgid, size_t max_pending,
		  hci_join_out out, void *ctx, char *err, size_t errlen)
{
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->path = path;
	c->vm_tgid = vm_tgid;
	c->p = malloc(sizeof(*c->p));
	c->j = hci_join_new(max_pending, out, ctx);
	if (!c->p || !c->j) {
		snprintf(err, errlen, "out of memory for the guest channel %s", path);
		return -ENOMEM;
	}
	hci_wire_init(c->p);
	if (stat(path, &st)) {
		snprintf(err, errlen, "guest channel %s: %s (for QEMU's socket, start the "
			 "VM first)", path, strerror(errno));
		return -ENOENT;
	}
	if (S_ISSOCK(st.st_mode)) {
		struct sockaddr_un sa;
		int e;

		if (strlen(path) >= sizeof(sa.sun_path)) {
			snprintf(err, errlen, "guest channel %s: socket path too long", path);
			return -ENAMETOOLONG;
		}
		c->sock = c->live = true;
		e = try_connect(c);
		if (e && e != -ECONNREFUSED && e != -EAGAIN) {
			snprintf(err, errlen, "cannot connect to guest channel %s: %s", path,
				 strerror(-e));
			return e;
		}
	} else if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		c->live = !S_ISREG(st.st_mode);
		c->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->fd < 0) {
			snprintf(err, errlen, "cannot open guest channel %s: %s", path,
				 strerror(errno));
			return -errno;
		}
	} else {
		snprintf(err, errlen, "guest channel %s: not a socket, FIFO, device or file",
			 path);
		return -EINVAL;
	}
	kvm_tsc_probe(c);
	return 0;
}

void hci_chan_service(struct hci_chan *c, uint64_t now, size_t budget)
{
	uint8_t buf[16384];

	c->last_now = now;
	if (c->fd < 0) {
		if (c->sock && now >= c->next_retry) {
			c->next_retry = now + RETRY_NS;
			if (!try_connect(c)) {
				hci_wire_init(c->p);	/* a new stream: resync from scratch */
				if (c->tee)
					c->tee(c->tee_ctx, c, NULL, 0, now);
			}
		}
		return;
	}
	while (budget) {
		size_t want = budget < sizeof(buf) ? budget : sizeof(buf);
		ssize_t n = read(c->fd, buf, want);

		if (n > 0) {
			/* receipt time: as late as possible before the bytes are parsed */
			c->last_now = hci_now_ns();
			if (c->tee)
				c->tee(c->tee_ctx, c, buf, (size_t)n, c->last_now);
			hci_wire_feed(c->p, buf, (size_t)n, on_record, c);
			budget -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* EOF or error: a file is done; a socket reconnects (VM restart) */
		if (c->sock || !c->live) {
			close(c->fd);
			c->fd = -1;
			c->done = !c->sock;
			c->next_retry = now + RETRY_NS;
		}
		break;
	}
}

int hci_chan_replay_open(struct hci_chan *c, const char *path, uint32_t vm_tgid, bool live,
			 size_t max_pending, hci_join_out out, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->path = path;
	c->vm_tgid = vm_tgid;
	c->live = live;
	c->p = malloc(sizeof(*c->p));
	c->j = hci_join_new(max_pending, out, ctx);
	if (!c->p || !c->j)
		return -ENOMEM;
	hci_wire_init(c->p);
	return 0;
}

void hci_chan_replay_feed(struct hci_chan *c, const void *buf, size_t n, uint64_t recv_ns)
{
	c->last_now = recv_ns;
	hci_wire_feed(c->p, buf, n, on_record, c);
}

void hci_chan_close(struct hci_chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->p);
	c->p = NULL;
	hci_join_free(c->j);
	c->j = NULL;
}

/* The inode of the listening unix socket bound to path (/proc/net/unix). */
static unsigned long socket_inode(const char *path)
{
	char line[4608], p[4096];
	unsigned long ino = 0, flags, st, inode;
	FILE *f = fopen("/proc/net/unix", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %lx %*s %lx %lu %4095s", &flags, &st, &inode, p) != 4)
			continue;
		if (!strcmp(p, path) && flags & 0x10000) {	/* __SO_ACCEPTCON: listening */
			ino = inode;
			break;
		}
	}
	fclose(f);
	return ino;
}

/* The processes holding one socket, found by their open files. */
struct socket_holders {
	char want[64];		/* the fd link's target: "socket:[INODE]" */
	uint32_t pid;		/* the last process found holding it */
	int n;			/* how many hold it */
};

static int count_holder(const struct hci_proc *p, void *ctx)
{
	struct socket_holders *h = ctx;
	char link[64], file[300];
	struct dirent *fe;
	DIR *fds;

	snprintf(file, sizeof(file), "/proc/%d/fd", (int)p->pid);
	fds = opendir(file);
	while (fds && (fe = readdir(fds))) {
		ssize_t l;

		snprintf(file, sizeof(file), "/proc/%d/fd/%s", (int)p->pid, fe->d_name);
		l = readlink(file, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		if (!strcmp(link, h->want)) {
			h->pid = (uint32_t)p->pid;
			h->n++;
			break;
		}
	}
	if (fds)
		closedir(fds);
	return 0;	/* on to the next: a socket two processes hold names no VM */
}

/* The process holding the listening end of the chardev socket at path. */
uint32_t hci_chan_find_vm(const char *path)
{
	struct socket_holders h = { .n = 0 };
	char real[4096];
	unsigned long ino;

	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	ino = socket_inode(real);
	if (!ino && strcmp(real, path))
		ino = socket_inode(path);
	if (!ino)
		return 0;
	snprintf(h.want, sizeof(h.want), "socket:[%lu]", ino);
	hci_procs_each(0, count_holder, &h);
	return h.n == 1 ? h.pid : 0;
}
