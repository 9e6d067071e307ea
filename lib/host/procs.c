// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reading /proc: the process walk and each process's comm and cmdline. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procs.h"

int hci_proc_read(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

int hci_proc_comm(pid_t pid, char *buf, size_t len)
{
	if (hci_proc_read(pid, "comm", buf, len) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return (int)strlen(buf);
}

int hci_proc_cmdline(pid_t pid, char *buf, size_t len)
{
	return hci_proc_read(pid, "cmdline", buf, len);
}

int hci_procs_each(unsigned flags, int (*fn)(const struct hci_proc *p, void *ctx), void *ctx)
{
	char *cmd = NULL;
	struct dirent *d;
	int ret = 0;
	DIR *proc;

	if ((flags & HCI_PROC_CMDLINE) && !(cmd = malloc(HCI_CMDLINE_MAX)))
		return -ENOMEM;
	proc = opendir("/proc");
	if (!proc) {
		ret = -errno;
		free(cmd);
		return ret;
	}
	while (!ret && (d = readdir(proc))) {
		struct hci_proc p = { .cmdline = cmd };
		char *end;
		long pid = strtol(d->d_name, &end, 10);
		int n;

		if (*end || pid <= 0)
			continue;
		p.pid = (pid_t)pid;
		if ((flags & HCI_PROC_COMM) && hci_proc_comm(p.pid, p.comm, sizeof(p.comm)) < 0)
			continue;
		if (cmd) {
			n = hci_proc_cmdline(p.pid, cmd, HCI_CMDLINE_MAX);
			if (n < 0)
				cmd[0] = '\0';
			p.cmdline_len = n > 0 ? (size_t)n : 0;
		}
		ret = fn(&p, ctx);
	}
	closedir(proc);
	free(cmd);
	return ret;
}
