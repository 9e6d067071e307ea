// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tracepoint links that come apart fast.
 *
 * A tracepoint/ program (the VMM layer's 22 syscall tracepoints) hangs on
 * a perf event. Taking it off (the link's release) waits for a grace
 * period, but those waits overlap when the links go in parallel threads.
 * Closing the perf event's last fd waits again, inside the kernel's
 * event_mutex (tracepoint_synchronize_unregister), so those waits queue one
 * behind the other: 20 to 40 ms each here, 0.4 to 0.9 s for 22, however
 * many threads close them. Exiting is no faster: the exit path closes every
 * fd before the parent's wait returns.
 *
 * So the perf event is opened here and a second fd kept for it. Destroying
 * the link then only detaches the program; the bare event, which runs
 * nothing and is disabled, is closed by a grandchild that nobody waits for.
 * The programs are gone when we exit; the events follow within a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/perf_event.h>
#include "tp_link.h"

/* "cat/name" of a tracepoint/ or tp/ section, NULL for other programs */
static const char *tp_of(const char *sec)
{
	if (!strncmp(sec, "tracepoint/", 11))
		return sec + 11;
	if (!strncmp(sec, "tp/", 3))
		return sec + 3;
	return NULL;
}

/* the tracepoint's id from tracefs, or -1 with errno set */
static long tp_id(const char *tp)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events",
	};
	char path[512], buf[32];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		ssize_t n;
		char *end;
		long id;
		int fd;

		snprintf(path, sizeof(path), "%s/%s/id", roots[i], tp);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		errno = 0;
		id = strtol(buf, &end, 10);
		if (errno || end == buf || id < 0) {
			errno = EINVAL;
			return -1;
		}
		return id;
	}
	return -1;
}

struct bpf_link *hci_tp_attach(struct bpf_program *prog, int *event_fd)
{
	const char *tp = tp_of(bpf_program__section_name(prog));
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr) };
	struct bpf_link *link;
	long id;
	int pfd, err;

	*event_fd = -1;
	if (!tp)
		return bpf_program__attach(prog);
	id = tp_id(tp);
	if (id < 0)
		return NULL;
	attr.config = (__u64)id;
	pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return NULL;
	link = bpf_program__attach_perf_event(prog, pfd);
	if (!link) {
		err = errno;
		close(pfd);
		errno = err;
		return NULL;
	}
	/* without the second fd this link only comes apart the slow way */
	*event_fd = fcntl(pfd, F_DUPFD_CLOEXEC, 0);
	return link;
}

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/*
 * The grandchild: keep only @keep (@n fds, sorted; @rfd is one of them),
 * wait until the parent has closed its copies of the events (the pipe's
 * end), then exit, which closes the events. Async-signal-safe calls only:
 * we were forked from a process with threads.
 */
_Noreturn static void close_later(const int *keep, size_t n, int rfd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	unsigned int lo = 0;
	char c;

	sigaction(SIGINT, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGHUP, &dfl, NULL);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned int)keep[i] > lo)
			close_range(lo, (unsigned int)keep[i] - 1, 0);
		lo = (unsigned int)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* A grandchild holding @fds (the middle child exits at once): 0 or -1. */
static int hand_over(const int *fds, size_t n, int *pipe_w)
{
	int *keep = malloc((n + 1) * sizeof(*keep));
	int p[2], st = 0;
	pid_t pid;

	if (!keep || pipe2(p, O_CLOEXEC)) {
		free(keep);
		return -1;
	}
	memcpy(keep, fds, n * sizeof(*keep));
	keep[n] = p[0];
	qsort(keep, n + 1, sizeof(*keep), cmp_int);
	pid = fork();
	if (pid == 0) {
		pid_t g;

		close(p[1]);
		g = fork();
		if (g == 0)
			close_later(keep, n + 1, p[0]);
		_exit(g < 0);
	}
	free(keep);
	close(p[0]);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		close(p[1]);
		return -1;
	}
	*pipe_w = p[1];
	return 0;
}

size_t hci_tp_release(int *fds, size_t n)
{
	size_t m = 0;
	int pipe_w = -1;

	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			fds[m++] = fds[i];
	if (m && hand_over(fds, m, &pipe_w)) {
		pipe_w = -1;
		fprintf(stderr, "Warning: cannot start the process that closes the tracepoints' "
			"perf events: closing them here (slow): %s\n", strerror(errno));
	}
	/* where no grandchild holds them too, these closes are the slow ones */
	for (size_t i = 0; i < m; i++)
		close(fds[i]);
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	/* ours are closed: the grandchild's are the last, and it may go */
	if (pipe_w >= 0)
		close(pipe_w);
	return pipe_w >= 0 ? m : 0;
}
