/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --prom-file's writer, on a thread of its own. An atomic write
 * (hci_prom_write_file: temporary file, fsync, rename, fsync of the
 * directory) took a median 4-12 ms and up to 84 ms on this host's ext4,
 * measured: too long for a control loop with 100 ms intervals. So the loop
 * only posts its text (a copy under a mutex) and the thread writes the
 * latest one; a text replaced before it was written is counted, not
 * written, since the textfile collector only ever reads the newest.
 */
#ifndef HCI_THROTTLE_METRICS_FILE_H
#define HCI_THROTTLE_METRICS_FILE_H
#include <stddef.h>

struct thr_pfile;

struct thr_pfile_counts {
	unsigned long written, failed, superseded;
};

/* The writer for @path, or NULL with @err saying why. */
struct thr_pfile *thr_pfile_start(const char *path, char *err, size_t errlen);
/* The text to write next (copied); -ENOMEM keeps the one before. Never waits for the disk. */
int thr_pfile_post(struct thr_pfile *w, const char *text, size_t len);
/* The counts so far, and the first error (empty if none). */
void thr_pfile_counts(struct thr_pfile *w, struct thr_pfile_counts *c, char *err, size_t errlen);
/* Writes what is posted and not yet written, then ends the thread; NULL is fine. */
void thr_pfile_stop(struct thr_pfile *w);
#endif
