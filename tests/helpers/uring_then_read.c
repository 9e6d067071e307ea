// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uring_then_read SLOW_DEV PLAIN_DEV N: a VMM thread that does more than
 * io_uring, for tests/t/40-vmm.t. N times: it submits a 4 KiB O_DIRECT
 * read of SLOW_DEV (a model SSD, whose latency keeps the request in flight)
 * through io_uring and returns from io_uring_enter at once; reads 128 KiB
 * of PLAIN_DEV through the page cache with read(), whose readahead bios
 * this thread queues outside io_uring_enter while its request is in
 * flight: they are no io_uring request's; then waits for the CQE. Prints
 * "ready overlapped=K" (K: rounds whose CQE was not yet posted when read()
 * returned) and waits for its stdin to close before exiting, so that the
 * test can look at the tracer's per-thread state while the thread lives.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096
#define PLAIN_BYTES (128 << 10)

struct rounds {
	struct io_uring ring;
	int slow_fd, plain_fd;
	void *buf;
	char plain[PLAIN_BYTES];
};

/* round @i: false if a read failed; *@overlapped if read() beat the CQE */
static int one_round(struct rounds *r, long i, int *overlapped)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	struct io_uring_cqe *cqe;
	ssize_t got;
	int ok;

	io_uring_prep_read(sqe, r->slow_fd, r->buf, BLOCK, (__u64)i * BLOCK);
	if (io_uring_submit(&r->ring) != 1)
		return 0;
	/* distinct 128 KiB windows: each read() misses the page cache */
	if (lseek(r->plain_fd, (off_t)i * 2 * PLAIN_BYTES, SEEK_SET) < 0)
		return 0;
	got = read(r->plain_fd, r->plain, PLAIN_BYTES);
	*overlapped = io_uring_peek_cqe(&r->ring, &cqe) == -EAGAIN;
	if (io_uring_wait_cqe(&r->ring, &cqe))
		return 0;
	ok = cqe->res == BLOCK && got == PLAIN_BYTES;
	io_uring_cqe_seen(&r->ring, cqe);
	return ok;
}

static int run(const char *slow, const char *plain, long n, long *overlapped)
{
	static struct rounds r;
	int err, ov;

	r.slow_fd = open(slow, O_RDONLY | O_DIRECT);
	r.plain_fd = open(plain, O_RDONLY);
	if (r.slow_fd < 0 || r.plain_fd < 0 || posix_memalign(&r.buf, BLOCK, BLOCK)) {
		perror("open");
		return -1;
	}
	err = io_uring_queue_init(4, &r.ring, 0);
	if (err) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-err));
		return -1;
	}
	for (long i = 0; i < n && !err; i++) {
		err = !one_round(&r, i, &ov);
		*overlapped += ov;
	}
	io_uring_queue_exit(&r.ring);
	free(r.buf);
	close(r.slow_fd);
	close(r.plain_fd);
	if (err)
		fprintf(stderr, "a read failed\n");
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	long n, overlapped = 0;
	char c;

	if (argc != 4 || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: %s SLOW_DEV PLAIN_DEV N\n", argv[0]);
		return 2;
	}
	if (run(argv[1], argv[2], n, &overlapped))
		return 1;
	printf("ready overlapped=%ld\n", overlapped);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
