// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --prom-file: a scrape's text written atomically (prom.h says how), so
 * node_exporter's textfile collector, which reads *.prom files whenever it
 * is scraped, never reads a half-written file.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "prom.h"

static int write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* the directory, so that the rename itself is durable too */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int hci_prom_write_file(const char *path, const char *text, size_t len, char *err,
			size_t errlen)
{
	char *d = strdup(path), *b = strdup(path), *tmp = NULL;
	const char *dir, *base, *what = "cannot make a temporary file";
	int fd = -1, ret = -ENOMEM;

	if (!d || !b)
		goto out;
	dir = dirname(d);
	base = basename(b);
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	what = "cannot write";
	ret = write_all(fd, text, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (!ret && fchmod(fd, 0644))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	fd = -1;
	if (!ret) {
		what = "cannot rename the temporary file over it";
		if (rename(tmp, path))
			ret = -errno;
	}
	if (ret)
		unlink(tmp);
	else
		sync_dir(dir);
out:
	if (ret)
		snprintf(err, errlen, "%s: %s: %s", path, what, strerror(-ret));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(d);
	free(b);
	return ret;
}
