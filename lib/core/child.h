/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The command traced with "-- COMMAND": started, reaped, stopped. */
#ifndef HCI_CHILD_H
#define HCI_CHILD_H
#include <stdbool.h>
#include <sys/types.h>

struct hci_child {
	pid_t pid;		/* 0 = none */
	int status;		/* exit status, 128+N for signal N, 127 not run */
	bool done;
};

/* fork + execvp; the child gets default SIGINT/SIGTERM. 0 or -errno. */
int hci_child_spawn(struct hci_child *c, char **argv);
/* waitpid with flags (WNOHANG or 0); sets done/status when it ended. */
void hci_child_reap(struct hci_child *c, int flags);
/* If still running: send sig, then wait for it. */
void hci_child_stop(struct hci_child *c, int sig);
#endif
