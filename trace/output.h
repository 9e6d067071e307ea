/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Terminal tables, CSV (output.c) and JSON (output_json.c). Formats are
 * versioned: docs/formats.md.
 */
#ifndef HCI_OUTPUT_H
#define HCI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "hci_abi.h"
#include "fmt/json_writer.h"
#include "host/origin.h"

#define HCI_JSON_VERSION 1

enum hci_layer {
	HCI_LAYER_BLOCK,	/* host block layer: struct hci_hist_val */
	HCI_LAYER_VMM,		/* VMM requests: struct hci_vmm_val */
};

struct hci_row {
	char origin[HCI_ORIGIN_MAX];
	char dev[32];
	__u32 op;
	enum hci_layer layer;
	union {
		struct hci_hist_val v;
		struct hci_vmm_val vm;
	};
};

struct hci_report {
	struct hci_row *rows;
	size_t n, cap;
};

/* Adds v into the row for (layer, origin, dev, op), creating it if needed.
 * v is a struct hci_hist_val (block) or struct hci_vmm_val (vmm). */
int hci_report_add(struct hci_report *r, enum hci_layer layer, const char *origin,
		   const char *dev, __u32 op, const void *v);
void hci_report_sort(struct hci_report *r);
void hci_report_free(struct hci_report *r);
void hci_report_print(FILE *f, const struct hci_report *r, bool show_hist);

/* Either layer's stages, seen the same way by the printers and writers. */
struct hci_stage_view {
	int n;
	const char *const *names;
	const __u64 (*slots)[HCI_NBUCKETS];
	const __u64 *sum_ns;
	__u64 ios;
};

struct hci_stage_view hci_stage_view_of(const struct hci_row *row);

/* One completed request with its stages; absent stages have present=false. */
struct hci_req {
	double t_s;		/* completion time, seconds since start */
	const char *origin;
	const char *dev;
	__u32 op;
	__u64 sector;
	__u32 bytes;
	double us[HCI_NSTAGES];
	bool present[HCI_NSTAGES];
	__u32 pid;		/* submitting thread, 0 = not known */
	const char *comm;	/* its comm, "" = not known */
};

/* Stage durations from the timestamps a request event carries. */
void hci_req_stages(const struct hci_event *e, double *us, bool *present);

/* One completed VMM request (--vmm -p). */
struct hci_vreq {
	double t_s;		/* VMM completion, seconds since start */
	double submit_s;	/* VMM submit, seconds since start */
	__u32 tid;		/* submitting thread, 0 if not known (native aio reaped later) */
	const char *origin;
	const char *dev;
	__u32 op;
	__u64 off;
	const char *image;	/* path, "" if unknown */
	long long sector;	/* the offset's 512-byte sector on dev, -1 if unknown */
	__s32 ret;		/* bytes, or -errno */
	__u32 nbios;
	double us[HCI_NVSTAGES];
	bool present[HCI_NVSTAGES];
};

void hci_vreq_stages(const struct hci_vevent *e, double *us, bool *present);
void hci_vreq_print(FILE *f, const struct hci_vreq *q);
void hci_csv_vreq_header(FILE *f);
void hci_csv_vreq_row(FILE *f, const struct hci_vreq *q);

void hci_req_print_header(FILE *f);
void hci_req_print(FILE *f, const struct hci_req *q);

void hci_csv_field(FILE *f, const char *s);
void hci_csv_write_hist(FILE *f, const struct hci_report *r);
/* One row of the histogram CSV (v1): bucket b of stage prefix+stage. */
void hci_csv_hist_row(FILE *f, const char *origin, const char *dev, __u32 op,
		      const char *stage_prefix, const char *stage, int bucket, __u64 count);
void hci_csv_req_header(FILE *f);
void hci_csv_req_row(FILE *f, const struct hci_req *q);

/*
 * A loss marker in the -p streams: count events of one lost-event counter
 * (ringbuf_full, ringbuf_unread) fell out of the stream at this point,
 * after the row before it. The CSV files and the JSON say it in place.
 */
struct hci_lost_mark {
	double t_s;		/* when the loss was seen, seconds since start */
	__u64 count;
	const char *counter;
};

void hci_lost_print(FILE *f, const struct hci_lost_mark *m);
void hci_csv_req_lost_row(FILE *f, const struct hci_lost_mark *m);
void hci_csv_vreq_lost_row(FILE *f, const struct hci_lost_mark *m);

/* KVM events of one VM, with its VM exits by reason */
struct hci_kvm_row {
	char origin[HCI_ORIGIN_MAX];
	struct hci_kvm_val v;
	__u64 vmm_ios;		/* VMM requests, for "per I/O" */
	size_t nexits;
	__u32 reasons[64];	/* the most frequent reasons */
	__u64 exits[64];
	__u64 exits_total;
};

extern const char *const hci_kvm_names[HCI_NKVM];
void hci_kvm_print(FILE *f, const struct hci_kvm_row *k, size_t n);

/* "unknown" or the exit reason's number */
void hci_kvm_reason_name(__u32 r, char *buf, size_t len);

/*
 * The JSON document (output_json.c), on one writer from begin to end:
 * hci_json_begin opens it and its "requests" array, where the -p streams
 * write their items; hci_json_end_requests closes that array, the sections
 * follow, each written by the code that owns it, and hci_json_end closes
 * the document (the writer's error, 0 when it is whole).
 */
void hci_json_begin(struct hci_jw *w);
void hci_json_req(struct hci_jw *w, const struct hci_req *q);
void hci_json_vreq(struct hci_jw *w, const struct hci_vreq *q);
void hci_json_lost(struct hci_jw *w, const struct hci_lost_mark *m);
void hci_json_end_requests(struct hci_jw *w);
/* a top-level array on a new line, one item per line; closed by its writer */
void hci_json_section(struct hci_jw *w, const char *name);
/* the section of one layer's histogram rows ("histograms", "vmm") */
void hci_json_rows(struct hci_jw *w, const char *section, const struct hci_report *r,
		   enum hci_layer layer);
void hci_json_kvm(struct hci_jw *w, const struct hci_kvm_row *kvm, size_t nkvm);
/* "lost": @n lost-event counters by name */
void hci_json_lost_counters(struct hci_jw *w, const char *const *names, const __u64 *counters, int n);
/*
 * A record's 64-bit counters as members, by a table of {JSON name, offset}
 * in the document's order: one list per record kind, not one call each.
 */
struct hci_json_member {
	const char *name;
	size_t off;
};
#define HCI_JSON_MEMBER(type, field, name) { name, offsetof(type, field) }
#define HCI_JSON_NMEMBERS(table) (sizeof(table) / sizeof((table)[0]))
void hci_json_members(struct hci_jw *w, const void *rec, const struct hci_json_member *m,
		      size_t n);
int hci_json_end(struct hci_jw *w);

#endif
