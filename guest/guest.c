// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace guest: the guest half of the cross-layer join.
 *
 * Runs inside the VM with the same BPF object as the host side (CO-RE), in
 * per-request mode: every completed guest block request (and, with --app,
 * every application read/write) becomes a wire record (include/hci_wire.h).
 * Records are batched into frames in a bounded buffer and written to the
 * channel without ever blocking; when the channel cannot keep up, records
 * are dropped and counted, and the count travels in the next SYNC frame.
 *
 * SYNC frames every 100 ms carry the guest clock next to its TSC, so the host
 * can bound the clock offset from the moment it receives them; HELLO and
 * DISK frames repeat every second so a host that connects late still learns
 * who the guest is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "hci_wire.h"
#include "hci_abi.h"
#include "core/child.h"
#include "host/devices.h"
#include "trace/options.h"
#include "guest.h"
#include "bpf/tracer.h"

#define SYNC_NS 100000000ULL
#define HELLO_NS 1000000000ULL
#define MAX_DISKS 32

struct guest {
	struct hci_guest_env env;
	struct hci_tracer t;
	int fd;
	char path[512];
	uint8_t *out;		/* frames waiting for the channel */
	size_t out_len, out_cap;
	uint32_t seq;
	struct hci_w_req reqs[HCI_WIRE_MAX_RECS];
	size_t nreqs;
	struct hci_w_app apps[HCI_WIRE_MAX_RECS];
	size_t napps;
	uint64_t req_total, app_total, dropped, bytes_sent;
	uint64_t bpf_lost;
	struct hci_w_disk disks[MAX_DISKS];
	int ndisks;
	bool dead;		/* the channel failed: everything from now on is dropped */
	struct hci_child child;
};

static uint64_t now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Append one frame, or drop its records (counted) when the buffer is full. */
static void put(struct guest *g, unsigned int type, const void *recs, size_t n)
{
	size_t len = g->dead ? 0 : hci_wire_frame(g->out + g->out_len,
						  g->out_cap - g->out_len, type, g->seq,
						  recs, n);

	if (!len) {
		g->dropped += n;
		return;
	}
	g->seq++;
	g->out_len += len;
}

static void flush_batches(struct guest *g)
{
	if (g->nreqs)
		put(g, HCI_WT_REQ, g->reqs, g->nreqs);
	if (g->napps)
		put(g, HCI_WT_APP, g->apps, g->napps);
	g->nreqs = g->napps = 0;
}

static void add_req(struct guest *g, const struct hci_event *e)
{
	g->reqs[g->nreqs++] = (struct hci_w_req){
		.dev = e->dev, .flags = e->flags, .op = e->op, .bytes = e->bytes,
		.sector = e->sector, .ts_q = e->ts_q, .ts_g = e->ts_g, .ts_i = e->ts_i,
		.ts_d = e->ts_d, .ts_c = e->ts_c,
	};
	g->req_total++;
	if (g->nreqs == HCI_WIRE_MAX_RECS) {
		put(g, HCI_WT_REQ, g->reqs, g->nreqs);
		g->nreqs = 0;
	}
}

static void add_app(struct guest *g, const struct hci_aevent *e)
{
	struct hci_w_app *r = &g->apps[g->napps++];

	*r = (struct hci_w_app){
		.tgid = e->tgid, .op = e->op, .dev = e->dev, .ino = e->ino, .off = e->off,
		.bytes = e->bytes, .ts = e->ts,
	};
	memcpy(r->comm, e->comm, sizeof(r->comm));
	g->app_total++;
	if (g->napps == HCI_WIRE_MAX_RECS) {
		put(g, HCI_WT_APP, g->apps, g->napps);
		g->napps = 0;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct guest *g = ctx;
	__u32 type;

	if (size < sizeof(type))
		return 0;
	memcpy(&type, data, sizeof(type));
	if (type == HCI_EV_REQ && size >= sizeof(struct hci_event))
		add_req(g, data);
	else if (type == HCI_EV_APP && size >= sizeof(struct hci_aevent))
		add_app(g, data);
	return 0;
}

/* The first line of a sysfs file, without its newline; false if there is none. */
static bool read_sys_line(const char *path, char *buf, int len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return ok;
}

static long read_sys_long(const char *path)
{
	char buf[64];

	return read_sys_line(path, buf, sizeof(buf)) ? strtol(buf, NULL, 10) : -1;
}

/* Whole disks as the guest sees them: name, dev_t, size, serial. */
static void find_disks(struct guest *g)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;

	g->ndisks = 0;
	while (d && (de = readdir(d)) && g->ndisks < MAX_DISKS) {
		struct hci_w_disk *k = &g->disks[g->ndisks];
		char path[512], buf[64];
		unsigned int ma, mi;
		long v;

		if (de->d_name[0] == '.')
			continue;
		memset(k, 0, sizeof(*k));
		snprintf(path, sizeof(path), "/sys/block/%s/dev", de->d_name);
		if (!read_sys_line(path, buf, sizeof(buf)) || sscanf(buf, "%u:%u", &ma, &mi) != 2)
			continue;
		k->dev = HCI_DEV_MKDEV(ma, mi);
		snprintf(path, sizeof(path), "/sys/block/%s/size", de->d_name);
		v = read_sys_long(path);
		k->bytes = v > 0 ? (uint64_t)v * 512 : 0;
		snprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", de->d_name);
		v = read_sys_long(path);
		k->lbs = v > 0 ? (uint32_t)v : 512;
		snprintf(k->name, sizeof(k->name), "%.31s", de->d_name);
		snprintf(path, sizeof(path), "/sys/block/%s/serial", de->d_name);
		if (read_sys_line(path, buf, sizeof(buf)))
			snprintf(k->serial, sizeof(k->serial), "%.31s", buf);
		g->ndisks++;
	}
	if (d)
		closedir(d);
}

static void put_hello(struct guest *g)
{
	struct hci_w_hello h;
	struct utsname u;

	memset(&h, 0, sizeof(h));
	h.mono_ns = hci_now_ns();
	h.real_ns = now_real();
	h.ncpus = (uint32_t)g->t.ncpus;
	h.flags = (g->env.app ? HCI_WF_APP : 0) | (hci_rdtsc() ? HCI_WF_TSC : 0);
	if (!uname(&u)) {
		snprintf(h.release, sizeof(h.release), "%.63s", u.release);
		snprintf(h.host, sizeof(h.host), "%.63s", u.nodename);
	}
	put(g, HCI_WT_HELLO, &h, 1);
	for (int i = 0; i < g->ndisks; i++)
		put(g, HCI_WT_DISK, &g->disks[i], 1);
}

static void put_sync(struct guest *g)
{
	__u64 c[HCI_NCOUNTERS + 1];
	struct hci_w_sync s;

	hci_tracer_counters(&g->t, c);
	g->bpf_lost = 0;
	for (int i = 0; i <= HCI_NCOUNTERS; i++)
		if (i != HCI_CNT_PARTIAL)	/* partial completions are not losses */
			g->bpf_lost += c[i];
	memset(&s, 0, sizeof(s));
	s.reqs = g->req_total;
	s.apps = g->app_total;
	s.dropped = g->dropped;
	s.bpf_lost = g->bpf_lost;
	/* the clock is read last, right before the write */
	s.tsc = hci_rdtsc();
	s.mono_ns = hci_now_ns();
	put(g, HCI_WT_SYNC, &s, 1);
}

/* Write what the channel takes now; keep the rest (never block). */
static void drain(struct guest *g)
{
	size_t done = 0;

	while (done < g->out_len) {
		ssize_t n = write(g->fd, g->out + done, g->out_len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* the other end is gone: say so once, then count drops */
			fprintf(stderr, "hcitrace guest: channel %s failed: %s; records "
				"are dropped from now on\n", g->path, strerror(errno));
			g->dead = true;
			g->out_len = 0;
			return;
		}
		break;
	}
	g->bytes_sent += done;
	memmove(g->out, g->out + done, g->out_len - done);
	g->out_len -= done;
}

/* Blocking, with a deadline: the last frames (the final SYNC, BYE) at exit. */
static void drain_final(struct guest *g, int timeout_ms)
{
	__u64 end = hci_now_ns() + (__u64)timeout_ms * 1000000ULL;

	while (g->out_len && hci_now_ns() < end) {
		struct pollfd p = { .fd = g->fd, .events = POLLOUT };

		drain(g);
		if (g->out_len)
			poll(&p, 1, 50);
	}
}

static int find_port(const char *name, char *path, size_t len)
{
	DIR *d;
	struct dirent *de;
	char p[512], buf[256];

	snprintf(path, len, "/dev/virtio-ports/%s", name);
	if (!access(path, F_OK))
		return 0;
	/* no udev (an initramfs): find the port by its name in sysfs */
	d = opendir("/sys/class/virtio-ports");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", de->d_name);
		if (read_sys_line(p, buf, sizeof(buf)) && !strcmp(buf, name)) {
			snprintf(path, len, "/dev/%s", de->d_name);
			closedir(d);
			return access(path, F_OK) ? -ENOENT : 0;
		}
	}
	if (d)
		closedir(d);
	return -ENOENT;
}

static int open_channel(struct guest *g)
{
	struct stat st;

	if (!g->env.channel) {
		if (find_port(g->env.port, g->path, sizeof(g->path))) {
			hci_errorf("no virtio-serial port named '%s' (give the VM one, see "
				   "--help, or write to a file with --channel PATH)", g->env.port);
			return -ENOENT;
		}
	} else {
		snprintf(g->path, sizeof(g->path), "%s", g->env.channel);
	}
	if (!stat(g->path, &st) && S_ISSOCK(st.st_mode)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(g->path) >= sizeof(sa.sun_path)) {
			hci_errorf("socket path too long: %s", g->path);
			return -ENAMETOOLONG;
		}
		strcpy(sa.sun_path, g->path);
		g->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (g->fd < 0 || connect(g->fd, (struct sockaddr *)&sa, sizeof(sa))) {
			hci_errorf("cannot connect to %s: %s", g->path, strerror(errno));
			return -errno;
		}
		return 0;
	}
	g->fd = open(g->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC |
		     (g->env.channel && (stat(g->path, &st) || S_ISREG(st.st_mode)) ?
		      O_CREAT | O_TRUNC : 0), 0644);
	if (g->fd < 0) {
		hci_errorf("cannot open %s: %s%s", g->path, strerror(errno),
			   errno == ENXIO ? " (a FIFO needs its reader first)" : "");
		return -errno;
	}
	return 0;
}

/*
 * Options, the frame buffer, the channel, the tracer and the disk list; false
 * with *status the exit status when the run ends here (help, errors).
 */
static bool guest_start(struct guest *g, int argc, char **argv, int *status)
{
	char err[512];
	__u32 dev = 0;
	int ret;

	ret = hci_guest_env_parse(&g->env, argc, argv, err, sizeof(err));
	if (ret) {
		if (ret < 0 && err[0])
			hci_errorf("%s", err);
		*status = ret > 0 ? 0 : 2;
		return false;
	}
	hci_set_verbosity(g->env.verbose);
	*status = 1;
	if (g->env.disk && hci_dev_from_name(g->env.disk, &dev, err, sizeof(err))) {
		hci_errorf("%s", err);
		return false;
	}
	g->out_cap = (size_t)g->env.buf_kib * 1024;
	g->out = malloc(g->out_cap);
	if (!g->out) {
		hci_errorf("out of memory");
		return false;
	}
	if (open_channel(g))
		return false;
	hci_stop_on_signals();
	signal(SIGPIPE, SIG_IGN);
	if (g->env.app && access("/sys/kernel/tracing/events/syscalls", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	{
		struct hci_tracer_opts o = {
			.dev = dev, .self_tgid = (__u32)getpid(), .per_request = true,
			.app = g->env.app, .raw_tp = g->env.raw_tp, .verbose = g->env.verbose,
			.slots = g->env.slots, .max_keys = 4096, .rb_kib = g->env.rb_kib,
		};

		if (hci_tracer_start(&g->t, &o, on_event, g))
			return false;
	}
	find_disks(g);
	return true;
}

/* Records to frames to the channel until a signal, the deadline or the command's end. */
static int guest_run(struct guest *g)
{
	__u64 start = hci_now_ns(), next_sync = start, next_hello = start, deadline = 0;

	if (g->env.duration > 0)
		deadline = start + (__u64)(g->env.duration * 1e9);
	fprintf(stderr, "hcitrace guest: tracing block I/O%s to %s. Hit Ctrl-C to end.\n",
		g->env.app ? " and application I/O" : "", g->path);
	if (g->env.cmd && hci_child_spawn(&g->child, g->env.cmd))
		return -1;
	while (!hci_exiting) {
		/* a wake-up per request would cost the guest more than the tracing */
		struct timespec nap = { 0, 10000000 };
		int e;
		__u64 t;

		nanosleep(&nap, NULL);
		e = ring_buffer__consume(g->t.rb);
		t = hci_now_ns();

		if (e < 0 && e != -EINTR) {
			hci_errorf("polling ring buffer: %s", strerror(-e));
			return -1;
		}
		flush_batches(g);
		if (t >= next_hello) {
			put_hello(g);
			next_hello = t + HELLO_NS;
		}
		if (t >= next_sync) {
			put_sync(g);
			next_sync = t + SYNC_NS;
		}
		drain(g);
		hci_child_reap(&g->child, WNOHANG);
		if (g->child.done || (deadline && t >= deadline))
			break;
	}
	return 0;
}

/* The last records, the final SYNC and BYE, and what was sent and lost. */
static void guest_finish(struct guest *g)
{
	struct hci_w_bye b;
	__u64 c[HCI_NCOUNTERS + 1];

	hci_child_stop(&g->child, hci_exiting ? hci_exiting : SIGTERM);
	ring_buffer__consume(g->t.rb);
	flush_batches(g);
	put_sync(g);
	b = (struct hci_w_bye){ .mono_ns = hci_now_ns() };
	put(g, HCI_WT_BYE, &b, 1);
	drain_final(g, 2000);
	fprintf(stderr, "hcitrace guest: %llu requests, %llu app records, %llu bytes sent, "
		"%llu records dropped%s\n", (unsigned long long)g->req_total,
		(unsigned long long)g->app_total, (unsigned long long)g->bytes_sent,
		(unsigned long long)g->dropped,
		g->out_len ? " (channel closed with frames unsent)" : "");
	hci_tracer_counters(&g->t, c);
	hci_report_lost(c, "hcitrace guest");
}

int hci_guest_main(int argc, char **argv)
{
	struct guest g = { .fd = -1 };
	int ret;

	if (guest_start(&g, argc, argv, &ret) && !guest_run(&g)) {
		guest_finish(&g);
		ret = g.env.cmd ? g.child.status : 0;
	}
	hci_child_stop(&g.child, SIGTERM);
	hci_tracer_stop(&g.t);
	if (g.fd >= 0)
		close(g.fd);
	free(g.out);
	return ret;
}
