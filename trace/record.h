/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writing an hcitrace record file (include/hci_record.h): buffered, with
 * the origin x disk keys named once, when first seen. Knows nothing of a
 * trace run: the caller names keys through a callback, so tests drive it
 * with made-up events. record_read.h reads what this writes.
 */
#ifndef HCI_RECORD_H_WRITER
#define HCI_RECORD_H_WRITER
#include <stdbool.h>
#include <stddef.h>
#include "hci_record.h"

/* Names a new key: its origin and its disk, into the buffers given */
typedef void (*hci_rec_namer)(void *ctx, unsigned int kind, __u64 cgid, __u32 vmm_tgid,
			      __u32 dev, char *origin, size_t olen, char *dev_name, size_t dlen);

struct hci_rec_writer;

/*
 * Creates @path (truncating it) and writes @hdr (magic, version, lengths
 * and byte order are filled in here) and @opts. 0, or -errno with a
 * one-line message.
 */
int hci_rec_writer_open(struct hci_rec_writer **out, const char *path, struct hci_rec_file *hdr,
			const char *opts, hci_rec_namer namer, void *ctx, char *err,
			size_t errlen);
/* One ring buffer event as it came: a block request or a VMM request */
void hci_rec_write_req(struct hci_rec_writer *w, const struct hci_event *e);
void hci_rec_write_vreq(struct hci_rec_writer *w, const struct hci_vevent *e);
void hci_rec_write_lost(struct hci_rec_writer *w, unsigned int counter, __u64 ns, __u64 count);
void hci_rec_write_chan(struct hci_rec_writer *w, unsigned int idx, bool live, __u32 vm_tgid,
			const char *path, const char *origin);
void hci_rec_write_chan_data(struct hci_rec_writer *w, unsigned int idx, __u64 recv_ns,
			     const void *bytes, size_t len);
/* A final histogram value: struct hci_hist_val (block) or struct hci_vmm_val */
void hci_rec_write_hist(struct hci_rec_writer *w, unsigned int kind, __u64 cgid,
			__u32 vmm_tgid, __u32 dev, __u32 op, const void *val);
/*
 * The start of tracing, known only once it is attached: the header's
 * t0_ns and t0_real_ns, rewritten in place (the file was made before the
 * attach, so that a bad path costs no trace).
 */
void hci_rec_writer_set_start(struct hci_rec_writer *w, __u64 t0_ns, __u64 t0_real_ns);
/*
 * Flushes the buffer when the last flush is a second old at @now: a run
 * killed with -9 loses at most about a second of records.
 */
void hci_rec_writer_tick(struct hci_rec_writer *w, __u64 now);
/* A VMM as the run knew it, then each of its images (@map: nmap x 3 __u64) */
void hci_rec_write_vm(struct hci_rec_writer *w, __u32 pid, bool more_images, const char *comm,
		      const char *name, const char *drives);
void hci_rec_write_image(struct hci_rec_writer *w, const struct hci_rec_image *im,
			 const void *map, const char *path);
/* Records written so far */
__u64 hci_rec_written(const struct hci_rec_writer *w);
/*
 * The trailer (unless @counters is NULL: then the file ends cut short, as
 * after a crash), flushed and closed. 0, or -errno of the first write
 * that failed (disk full), with a message.
 */
int hci_rec_writer_close(struct hci_rec_writer *w, const __u64 *counters, __u64 end_ns,
			 char *err, size_t errlen);
#endif
