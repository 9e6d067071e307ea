/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4), written into one
 * growing buffer: a whole scrape's text is built by the program's loop and
 * then handed to lib/fmt/httpd.h or written to a file (hci_prom_write_file),
 * so a reader never sees half of it.
 *
 * A family is opened with its # HELP and # TYPE lines and its samples
 * follow, all together, as the format requires. Names are the caller's
 * (snake_case, base units: _seconds, _bytes, _total for counters, as
 * Cloudflare's ebpf_exporter does); a name or label name the format does
 * not allow is an error (-EINVAL), not a broken scrape. Label values are
 * escaped (\\, \", \n) and must be UTF-8: a byte that is not part of valid
 * UTF-8 is written as U+FFFD, since Prometheus rejects the whole scrape
 * otherwise.
 *
 * Histograms take the one bucket schema of include/hci_hist.h (log2
 * microseconds) and write it exactly: bucket b holds whole microseconds
 * below 2^b, so its upper bound is le="2^b us" in seconds, printed as an
 * exact decimal; the last bucket is open, so it is only in le="+Inf".
 * _sum is the exact nanosecond sum in seconds; _count the +Inf bucket.
 */
#ifndef HCI_FMT_PROM_H
#define HCI_FMT_PROM_H
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "hci_hist.h"

struct hci_prom {
	char *buf;		/* NUL-terminated text, len bytes */
	size_t len, cap;
	int err;		/* first error: -ENOMEM, -EINVAL (a bad name) */
};

struct hci_prom_label {
	const char *name;
	const char *value;
};

enum hci_prom_type {
	HCI_PROM_COUNTER,
	HCI_PROM_GAUGE,
	HCI_PROM_HISTOGRAM,
	HCI_PROM_UNTYPED,
};

void hci_prom_init(struct hci_prom *p);
/* empty the text (and the error), keeping the buffer for the next scrape */
void hci_prom_reset(struct hci_prom *p);
void hci_prom_free(struct hci_prom *p);

/* # HELP and # TYPE of the family @name; its samples come next */
void hci_prom_family(struct hci_prom *p, const char *name, enum hci_prom_type type,
		     const char *help);
/* one sample: name{labels} value; NaN and infinities as the format spells them */
void hci_prom_sample(struct hci_prom *p, const char *name, const struct hci_prom_label *l,
		     size_t nl, double v);
/* the same, for counts, written exactly (a double loses integers past 2^53) */
void hci_prom_sample_u64(struct hci_prom *p, const char *name, const struct hci_prom_label *l,
			 size_t nl, uint64_t v);
/*
 * One histogram series of the family @name (opened as HCI_PROM_HISTOGRAM)
 * from log2-us @slots and the exact @sum_ns: name_bucket{labels,le=...}
 * cumulative for each finite bound and +Inf, name_sum (seconds), name_count.
 */
void hci_prom_hist_log2us(struct hci_prom *p, const char *name, const struct hci_prom_label *l,
			  size_t nl, const __u64 slots[HCI_NBUCKETS], __u64 sum_ns);

/* the le bound of bucket @b (b < HCI_NBUCKETS - 1) in seconds, exact: "0.000064" */
void hci_prom_le(unsigned int b, char *buf, size_t len);

/* the escapes alone, appended: a label value (\\ \" \n, UTF-8 enforced), HELP text (\\ \n) */
void hci_prom_escape_label(struct hci_prom *p, const char *s);
void hci_prom_escape_help(struct hci_prom *p, const char *s);

/* whether @s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or a label name (no ':') */
int hci_prom_name_ok(const char *s, int label);

/*
 * @len bytes of @text to @path atomically, for node_exporter's textfile
 * collector: a temporary file in the same directory (a hidden name without
 * .prom, which the collector skips), fsync, mode 0644, rename over @path,
 * then fsync of the directory. 0, or -errno with @err saying what failed.
 */
int hci_prom_write_file(const char *path, const char *text, size_t len, char *err,
			size_t errlen);
#endif
