/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tracepoint (perf event) links that come apart in parallel, and the bare
 * perf events left behind, closed by a process that outlives ours. Why is
 * in tp_link.c.
 */
#ifndef HCI_TP_LINK_H
#define HCI_TP_LINK_H
#include <stddef.h>
#include <bpf/libbpf.h>

/*
 * Attach @prog. A tracepoint/ program gets a perf event opened here, and
 * *@event_fd a second fd for it (-1 for every other program). NULL with
 * errno set on failure, as bpf_program__attach().
 */
struct bpf_link *hci_tp_attach(struct bpf_program *prog, int *event_fd);

/*
 * Close @n perf event fds whose programs are detached already. The last
 * close of each waits for a grace period under a kernel-wide mutex, so a
 * child process that nobody waits for does it; ours are closed at once.
 * Returns how many were handed over (0: closed here, the slow way).
 */
size_t hci_tp_release(int *fds, size_t n);
#endif
