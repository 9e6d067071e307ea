// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command traced with "-- COMMAND" (hcitrace and hcitrace guest). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "child.h"

int hci_child_spawn(struct hci_child *c, char **argv)
{
	c->done = false;
	c->status = 0;
	c->pid = fork();
	if (c->pid < 0) {
		int e = -errno;

		c->pid = 0;
		fprintf(stderr, "Error: fork: %s\n", strerror(-e));
		return e;
	}
	if (c->pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "Error: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return 0;
}

void hci_child_reap(struct hci_child *c, int flags)
{
	int st;

	if (c->pid <= 0 || c->done)
		return;
	if (waitpid(c->pid, &st, flags) == c->pid) {
		c->done = true;
		c->status = WIFEXITED(st) ? WEXITSTATUS(st) :
			    WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
	}
}

void hci_child_stop(struct hci_child *c, int sig)
{
	if (c->pid <= 0 || c->done)
		return;
	kill(c->pid, sig);
	hci_child_reap(c, 0);
}
