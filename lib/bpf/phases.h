/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How long the tracer's start and stop take, phase by phase: the -v lines
 * a benchmark reads (docs/hcitrace.md, "Start and stop times").
 */
#ifndef HCI_BPF_PHASES_H
#define HCI_BPF_PHASES_H
#include <stddef.h>
#include <linux/types.h>

struct bpf_object;

/* When each phase ended, CLOCK_MONOTONIC ns (0: not reached). */
struct hci_phases {
	__u64 begin, features, open, load, attach;
	__u64 load_boot0, load_boot;	/* CLOCK_BOOTTIME around load (bpf_prog_info's clock) */
	__u64 cpu0, cpu_start, cpu_stop;	/* this process's CPU time (ns) */
	__u64 stop, links, grace, detached;	/* the detach */
	__u64 destroy, closed;			/* closing the object */
	size_t handed;		/* perf events left to a grandchild to close */
};

/* CLOCK_BOOTTIME in ns: what bpf_prog_info.load_time counts */
__u64 hci_boot_ns(void);
/* this process's user and system time in ns: a start's cost, whatever the noise */
__u64 hci_cpu_ns(void);

/*
 * "attached N programs in T s (...)", then the slowest loads (-v: five,
 * -vv: every program). A program's load time is from its load_time to the
 * next one's: the verifier's time plus libbpf's relocation of the next.
 */
void hci_phases_print_start(const struct hci_phases *ph, struct bpf_object *obj,
			    size_t nlinks);
/* "detached N programs in T s (...)" */
void hci_phases_print_detach(const struct hci_phases *ph, size_t nlinks);
/* "stopped in T s (...)", when the object is closed */
void hci_phases_print_stop(const struct hci_phases *ph);
#endif
