// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --prom-file's writer thread (metrics_file.h): two buffers, the one the
 * loop posts into and the one being written, swapped under the mutex, so
 * the loop's cost is one copy and the thread never holds the lock while it
 * writes.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fmt/prom.h"
#include "metrics_file.h"

struct buf {
	char *s;
	size_t len, cap;
};

struct thr_pfile {
	char path[4096];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct buf posted, writing;	/* posted: under mu */
	bool pending, stopping;		/* under mu */
	struct thr_pfile_counts n;	/* under mu */
	char err[512];			/* the first error; under mu */
};

static void *writer(void *arg)
{
	struct thr_pfile *w = arg;
	char err[512];

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct buf b;
		int rc;

		while (!w->pending && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->pending)
			break;		/* stopping, and all written */
		b = w->posted;
		w->posted = w->writing;
		w->writing = b;
		w->pending = false;
		pthread_mutex_unlock(&w->mu);
		rc = hci_prom_write_file(w->path, w->writing.s, w->writing.len, err, sizeof(err));
		pthread_mutex_lock(&w->mu);
		if (!rc) {
			w->n.written++;
		} else {
			w->n.failed++;
			if (!w->err[0])
				snprintf(w->err, sizeof(w->err), "%s", err);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct thr_pfile *thr_pfile_start(const char *path, char *err, size_t errlen)
{
	struct thr_pfile *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int rc;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (snprintf(w->path, sizeof(w->path), "%s", path) >= (int)sizeof(w->path)) {
		snprintf(err, errlen, "--prom-file path longer than %zu bytes", sizeof(w->path) - 1);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* SIGINT, SIGTERM and SIGHUP are the loop's: the thread blocks them all */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the --prom-file writer: %s", strerror(rc));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

int thr_pfile_post(struct thr_pfile *w, const char *text, size_t len)
{
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (len + 1 > w->posted.cap) {
		char *s = realloc(w->posted.s, len + 1);

		if (!s) {
			rc = -ENOMEM;
			goto out;
		}
		w->posted.s = s;
		w->posted.cap = len + 1;
	}
	if (w->pending)
		w->n.superseded++;	/* the thread is still writing the one before */
	memcpy(w->posted.s, text, len);
	w->posted.s[len] = '\0';
	w->posted.len = len;
	w->pending = true;
	pthread_cond_signal(&w->cv);
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void thr_pfile_counts(struct thr_pfile *w, struct thr_pfile_counts *c, char *err, size_t errlen)
{
	pthread_mutex_lock(&w->mu);
	*c = w->n;
	if (err)
		snprintf(err, errlen, "%s", w->err);
	pthread_mutex_unlock(&w->mu);
}

void thr_pfile_stop(struct thr_pfile *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->posted.s);
	free(w->writing.s);
	free(w);
}
