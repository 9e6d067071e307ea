/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A guest's stream on the host: the channel (the VMM's chardev socket, a
 * FIFO or a file), its parser and its join with that VM's VMM requests.
 * Reads never block, and each call reads a bounded amount, so a flooding
 * guest cannot starve the rest of the tracer.
 */
#ifndef HCI_CHAN_H
#define HCI_CHAN_H
#include <stdbool.h>
#include <stdint.h>
#include "hci_wire.h"
#include "join.h"

struct hci_chan {
	const char *path;
	int fd;			/* -1 while not connected */
	bool sock;		/* reconnect when it closes */
	bool live;		/* socket/FIFO/device: receipt time bounds the clock */
	bool done;		/* a regular file read to its end */
	uint32_t vm_tgid;
	struct hci_wire_parser *p;
	struct hci_join *j;
	uint64_t next_retry;
	uint64_t connects;
	uint64_t last_now;
	/* KVM TSC offset of the VM's vCPU 0 (debugfs), where it exists */
	bool kvm_tsc;
	int64_t tsc_offset;
	uint64_t tsc_h0, mono_h0;
	double ns_per_tick;
	/* --record: each read's bytes as read (NULL, 0 on a reconnect: a new stream) */
	void (*tee)(void *ctx, const struct hci_chan *c, const void *buf, size_t n,
		    uint64_t now);
	void *tee_ctx;
};

/* Opens (or, for a socket not yet listening, prepares to retry). */
int hci_chan_open(struct hci_chan *c, const char *path, uint32_t vm_tgid, size_t max_pending,
		  hci_join_out out, void *ctx, char *err, size_t errlen);
/* Read what is there (at most budget bytes), feed it, reconnect if due. */
void hci_chan_service(struct hci_chan *c, uint64_t now, size_t budget);
void hci_chan_close(struct hci_chan *c);
/*
 * hcitrace report: a recorded channel (HCI_REC_CHAN), with nothing opened;
 * its recorded reads are fed as they were read live, at their receipt time.
 */
int hci_chan_replay_open(struct hci_chan *c, const char *path, uint32_t vm_tgid, bool live,
			 size_t max_pending, hci_join_out out, void *ctx);
void hci_chan_replay_feed(struct hci_chan *c, const void *buf, size_t n, uint64_t recv_ns);
/* The VMM process that serves this chardev socket path, 0 if not exactly one. */
uint32_t hci_chan_find_vm(const char *path);
#endif
