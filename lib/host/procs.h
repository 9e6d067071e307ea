/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one /proc scanner: every process, in readdir order, with its comm and
 * (when asked for) its command line read once, and the single-process
 * readers the scanner uses, for callers that know the pid already.
 */
#ifndef HCI_HOST_PROCS_H
#define HCI_HOST_PROCS_H
#include <stddef.h>
#include <sys/types.h>

#define HCI_CMDLINE_MAX 8192

struct hci_proc {
	pid_t pid;
	char comm[32];		/* without the newline; "" if unreadable */
	const char *cmdline;	/* NUL-separated, NUL-terminated; HCI_PROC_CMDLINE */
	size_t cmdline_len;	/* bytes read, 0 for none (a kernel thread, gone) */
};

enum {
	HCI_PROC_COMM = 1,	/* read comm; a process without one is skipped */
	HCI_PROC_CMDLINE = 2,	/* read the command line (up to HCI_CMDLINE_MAX - 1) */
};

/*
 * Call fn for each process (numeric /proc entry) with what flags asked
 * for; fn returns nonzero to stop, and that value is returned. -errno when
 * /proc cannot be read, else 0.
 */
int hci_procs_each(unsigned flags, int (*fn)(const struct hci_proc *p, void *ctx), void *ctx);

/* /proc/PID/WHAT, at most len - 1 bytes, NUL-terminated: bytes read, or -1 */
int hci_proc_read(pid_t pid, const char *what, char *buf, size_t len);
/* comm of pid without its newline: its length, or -1 (gone) */
int hci_proc_comm(pid_t pid, char *buf, size_t len);
/* the NUL-separated command line into buf (NUL-terminated): bytes read, or -1 */
int hci_proc_cmdline(pid_t pid, char *buf, size_t len);
#endif
