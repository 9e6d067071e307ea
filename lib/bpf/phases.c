// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The -v lines that time a start and a stop. They exist so that a
 * benchmark (and whoever cuts verifier time) can see where the time goes
 * without strace, which slows every syscall and moves the figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/log.h"
#include "core/vec.h"
#include "phases.h"

__u64 hci_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

__u64 hci_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ((__u64)ru.ru_utime.tv_sec + (__u64)ru.ru_stime.tv_sec) * 1000000000ULL +
	       ((__u64)ru.ru_utime.tv_usec + (__u64)ru.ru_stime.tv_usec) * 1000ULL;
}

static double secs(__u64 from, __u64 to)
{
	return from && to > from ? (double)(to - from) / 1e9 : 0.0;
}

struct prog_load {
	const char *name;
	__u64 at, ns;		/* load_time (boot ns), then its duration */
	__u32 insns;		/* verified instructions */
};

static int by_at(const void *a, const void *b)
{
	const struct prog_load *x = a, *y = b;

	return (x->at > y->at) - (x->at < y->at);
}

static int by_ns_desc(const void *a, const void *b)
{
	const struct prog_load *x = a, *y = b;

	return (x->ns < y->ns) - (x->ns > y->ns);
}

/* the loaded programs, slowest first; their number, or 0 */
static size_t prog_loads(struct bpf_object *obj, __u64 load_end, struct prog_load **out,
			 __u64 *first)
{
	struct bpf_program *prog;
	struct prog_load *pl = NULL;
	size_t n = 0, cap = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);
		struct prog_load *p;

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		p = hci_vec_grow(pl, &cap, n, sizeof(*p), 64);
		if (!p)
			break;
		pl = p;
		pl[n].name = bpf_program__name(prog);	/* info.name is cut at 15 */
		pl[n].at = info.load_time;
		pl[n].insns = info.verified_insns;
		n++;
	}
	if (!n) {
		free(pl);
		return 0;
	}
	qsort(pl, n, sizeof(*pl), by_at);
	*first = pl[0].at;
	for (size_t i = 0; i < n; i++) {
		__u64 end = i + 1 < n ? pl[i + 1].at : load_end;

		pl[i].ns = end > pl[i].at ? end - pl[i].at : 0;
	}
	qsort(pl, n, sizeof(*pl), by_ns_desc);
	*out = pl;
	return n;
}

void hci_phases_print_start(const struct hci_phases *ph, struct bpf_object *obj,
			    size_t nlinks)
{
	struct prog_load *pl = NULL;
	__u64 first = 0;
	size_t n, shown;

	if (!hci_verbosity())
		return;
	n = prog_loads(obj, ph->load_boot, &pl, &first);
	/* before the first program: vmlinux BTF (CO-RE), the object's BTF, the maps */
	fprintf(stderr, "attached %zu programs in %.3f s (features %.3f, open %.3f, "
		"load %.3f: BTF and maps %.3f, programs %.3f; attach %.3f), cpu %.3f s\n",
		nlinks, secs(ph->begin, ph->attach), secs(ph->begin, ph->features),
		secs(ph->features, ph->open), secs(ph->open, ph->load),
		secs(ph->load_boot0, first), secs(first, ph->load_boot),
		secs(ph->load, ph->attach), secs(ph->cpu0, ph->cpu_start));
	shown = hci_verbosity() > 1 ? n : n < 5 ? n : 5;
	if (shown)
		fprintf(stderr, "%s loads of %zu programs (s, verified insns):",
			shown < n ? "slowest" : "the", n);
	for (size_t i = 0; i < shown; i++)
		fprintf(stderr, " %s %.3f %u%s", pl[i].name, (double)pl[i].ns / 1e9,
			pl[i].insns, i + 1 < shown ? "," : "\n");
	free(pl);
}

void hci_phases_print_detach(const struct hci_phases *ph, size_t nlinks)
{
	if (!hci_verbosity())
		return;
	fprintf(stderr, "detached %zu programs in %.3f s (links %.3f, grace period %.3f, "
		"perf events %.3f, %zu left to close after exit)\n", nlinks,
		secs(ph->stop, ph->detached), secs(ph->stop, ph->links),
		secs(ph->links, ph->grace), secs(ph->grace, ph->detached), ph->handed);
}

void hci_phases_print_stop(const struct hci_phases *ph)
{
	if (!hci_verbosity() || !ph->stop)
		return;
	fprintf(stderr, "stopped in %.3f s (detach %.3f, final read and report %.3f, "
		"closing the BPF object %.3f), cpu %.3f s\n", secs(ph->stop, ph->closed),
		secs(ph->stop, ph->detached), secs(ph->detached, ph->destroy),
		secs(ph->destroy, ph->closed), secs(ph->cpu_stop, hci_cpu_ns()));
}
