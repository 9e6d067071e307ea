// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cross-layer join (trace/join*.c) on hand-built cases: splits and
 * merges, orphans on both sides, record validation, overflow of the rings,
 * the clock's bounds, the reorder count, KVM's TSC offset, and the JSON
 * items of the join's output. test_join.c drives it with a simulated VM.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "join_test.h"
#include "trace/join_report.h"

/* 4: one guest request split over two VMM requests, two merged into one */
static void test_split_merge(void)
{
	struct cap c = { 0 };
	struct hci_join *j = hci_join_new(64, collect, &c);
	const struct hci_jreq *q;
	struct hci_jvol vol;
	struct hci_jvmm_in v1, v2, vm;
	struct hci_w_req g, g1, g2;
	uint64_t gq = G0 + 1 * SEC, gd = gq + 10 * US, base = gd + OFF;
	int64_t sum = 0;

	send_sync(j, G0, G0 + OFF + 20 * US);
	/* split: 8 KiB at 1 MiB, the VMM did it as two 4 KiB requests */
	v1 = vreq(HCI_OP_READ, 1 << 20, 4096, base + 20 * US, base + 25 * US, base + 27 * US,
		  base + 127 * US, base + 132 * US);
	v2 = vreq(HCI_OP_READ, (1 << 20) + 4096, 4096, base + 30 * US, base + 35 * US,
		  base + 40 * US, base + 190 * US, base + 196 * US);
	g = greq(HCI_OP_READ, 1 << 20, 8192, gq, gd, gd + 500 * US);
	hci_join_vmm(j, &v1);
	hci_join_vmm(j, &v2);
	send_req(j, &g, base + 600 * US);
	hci_join_poll(j, base + 600 * US + SETTLE, false);
	is_int(c.n, 1, "split: one joined request");
	q = c.q;
	if (c.n == 1) {
		is_int(q->nvmm, 2, "split: it took two VMM requests");
		is_int(q->bytes, 8192, "split: 8 KiB");
		is_int(q->ns[HCI_J_NOTIFY] + q->clock_off, (int64_t)(v1.vs - gd),
		       "split: NOTIFY to the first VMM submit");
		is_int(q->ns[HCI_J_V2Q], v1.hq - v1.vs, "split: V2Q from the first submit to the first host Q");
		is_int(q->ns[HCI_J_HQ2D], v2.hd - v1.hq, "split: HQ2D to the last host D");
		is_int(q->ns[HCI_J_HD2C], v2.hc - v2.hd, "split: HD2C to the last host C");
		is_int(q->ns[HCI_J_C2V], v2.vc - v2.hc, "split: C2V to the last VMM completion");
		for (int st = HCI_J_GUEST; st <= HCI_J_IRQ; st++)
			if (q->present & 1u << st)
				sum += q->ns[st];
		is_int(sum, q->ns[HCI_J_TOTAL], "split: stages sum to TOTAL");
		is_int(q->ns[HCI_J_TOTAL], 500 * US + 10 * US, "split: TOTAL is guest Q -> C");
	}
	ok(off_in(j, OFF), "split: the clock holds the truth");

	/* merge: two adjacent 4 KiB writes at 2 MiB, the VMM wrote 8 KiB once */
	gq += 5 * MS;
	gd = gq + 10 * US;
	base = gd + OFF;
	g1 = greq(HCI_OP_WRITE, 2 << 20, 4096, gq, gd, gd + 400 * US);
	g2 = greq(HCI_OP_WRITE, (2 << 20) + 4096, 4096, gq + 2 * US, gd + 5 * US, gd + 410 * US);
	vm = vreq(HCI_OP_WRITE, 2 << 20, 8192, base + 30 * US, base + 35 * US, base + 40 * US,
		  base + 300 * US, base + 305 * US);
	hci_join_vmm(j, &vm);
	send_req(j, &g1, base + 500 * US);
	send_req(j, &g2, base + 500 * US);
	hci_join_poll(j, base + 500 * US + SETTLE, false);
	is_int(c.n, 3, "merge: both guest requests joined");
	if (c.n == 3) {
		ok(c.q[1].nvmm == 1 && c.q[2].nvmm == 1, "merge: each took the one VMM request");
		ok(c.q[1].off == 2 << 20 && c.q[2].off == (2 << 20) + 4096, "merge: their own offsets");
		is_int(c.q[2].ns[HCI_J_HD2C], vm.hc - vm.hd, "merge: the shared device time");
	}
	is_int(hci_join_counters(j)->matched, 3, "split+merge: 3 matched");
	is_int(hci_join_counters(j)->unmatched, 0, "split+merge: none unmatched");
	hci_join_take_volumes(j, &vol);
	is_int(vol.splits, 1, "volumes: splits == 1");
	is_int(vol.merges, 1, "volumes: merges == 1");
	is_int(vol.matched, 3, "volumes: matched == 3");
	is_int(vol.guest[HCI_OP_READ], 8192, "volumes: guest read bytes");
	is_int(vol.vmm[HCI_OP_READ], 8192, "volumes: VMM read bytes");
	is_int(vol.guest[HCI_OP_WRITE], 8192, "volumes: guest write bytes");
	is_int(vol.vmm[HCI_OP_WRITE], 8192, "volumes: VMM write bytes");
	hci_join_poll(j, base + 10 * SEC, true);
	is_int(hci_join_counters(j)->vmm_unmatched, 0, "split+merge: every VMM request was claimed");
	hci_join_free(j);
	free(c.q);
}

/* 5: orphans on both sides, and the settle/horizon boundaries */
static void test_orphans(void)
{
	struct cap c = { 0 };
	struct hci_join *j = hci_join_new(64, collect, &c);
	const struct hci_jcounters *cnt = hci_join_counters(j);
	uint64_t gq = G0 + 1 * SEC, gd = gq + 10 * US, base = gd + OFF, arr = base + 1 * MS;
	struct hci_w_req g = greq(HCI_OP_READ, 8 << 20, 4096, gq, gd, gd + 300 * US);
	struct hci_w_req lone = greq(HCI_OP_WRITE, 9 << 20, 4096, gq, gd, gd + 300 * US);
	struct hci_jvmm_in v = vreq(HCI_OP_READ, 8 << 20, 4096, base + 20 * US, base + 25 * US,
				    base + 30 * US, base + 200 * US, base + 205 * US);
	struct hci_jvmm_in stray = vreq(HCI_OP_READ, 40 << 20, 4096, base + 20 * US, 0, 0, 0,
					base + 100 * US);

	send_sync(j, G0, G0 + OFF + 20 * US);
	/* in completion order: the stray one (host page cache) first */
	hci_join_vmm(j, &stray);
	hci_join_vmm(j, &v);
	send_req(j, &g, arr);
	send_req(j, &lone, arr);
	hci_join_poll(j, arr + SETTLE - 1, false);
	ok(cnt->matched == 0 && cnt->unmatched == 0 && c.n == 0,
	   "orphans: guest records wait SETTLE before they are matched");
	hci_join_poll(j, arr + SETTLE, false);
	is_int(cnt->matched, 1, "orphans: the one with a VMM request matched");
	is_int(cnt->unmatched, 1, "orphans: the one without is unmatched");
	is_int(cnt->vmm_unmatched, 0, "orphans: no VMM request evicted yet");
	hci_join_poll(j, stray.vc + HORIZON, false);
	is_int(cnt->vmm_unmatched, 0, "orphans: VMM requests wait the whole horizon");
	hci_join_poll(j, stray.vc + HORIZON + 1, false);
	is_int(cnt->vmm_unmatched, 1, "orphans: the unclaimed VMM request counts once evicted");
	is_int(cnt->vmm_unmatched_bytes, stray.len, "orphans: with its bytes");
	is_int(c.n, 1, "orphans: one joined request reported");

	/* the same through final=true, with nothing in the future */
	hci_join_vmm(j, &stray);
	send_req(j, &lone, arr);
	hci_join_poll(j, arr, true);
	is_int(cnt->unmatched, 2, "orphans: final matches what has not settled");
	is_int(cnt->vmm_unmatched, 2, "orphans: final evicts every VMM request");
	is_int(c.n, 1, "orphans: no more joined requests");
	hci_join_free(j);
	free(c.q);
}

/* 6: untrusted records */
static void test_validation(void)
{
	struct cap c = { 0 };
	struct hci_join *j = hci_join_new(64, collect, &c);
	const struct hci_jcounters *cnt = hci_join_counters(j);
	uint64_t gq = G0 + 1 * SEC, gd = gq + 10 * US, base = gd + OFF, arr = base + 1 * MS;
	struct hci_w_req good = greq(HCI_OP_READ, 16 << 20, 4096, gq, gd, gd + 300 * US), b;
	struct hci_jvmm_in v = vreq(HCI_OP_READ, 16 << 20, 4096, base + 20 * US, base + 25 * US,
				    base + 30 * US, base + 200 * US, base + 205 * US);
	struct hci_w_app app = { .op = HCI_OP_READ, .bytes = 4096 };
	struct hci_w_sync sy = { .mono_ns = G0 };
	struct hci_w_hello hello;
	struct hci_w_disk disk;
	struct hci_jvol vol;
	uint64_t nbad = 0, bad_reqs = 0;
	char name[64];

	/* the VMM did do this read: a bad record for it must still not match */
	hci_join_vmm(j, &v);
#define BAD_REQ(field_change, why) do {					\
	b = good;							\
	field_change;							\
	send_req(j, &b, arr);						\
	nbad++;								\
	bad_reqs++;							\
	is_int(cnt->bad_record, nbad, "validation: %s", why);		\
} while (0)
	BAD_REQ(b.op = HCI_NOPS, "op >= HCI_NOPS");
	BAD_REQ(b.op = 0xffffffffu, "op 2^32-1");
	BAD_REQ(b.bytes = 0, "a read of 0 bytes");
	BAD_REQ((b.op = HCI_OP_WRITE, b.bytes = 0), "a write of 0 bytes");
	BAD_REQ(b.bytes = (1u << 30) + 4096, "bytes above 1 GiB");
	BAD_REQ(b.flags |= 1u << 5, "unknown flag bits");
	BAD_REQ(b.flags = 0x80000000u, "the top flag bit");
	BAD_REQ(b.sector = UINT64_MAX >> 9, "a sector whose byte offset overflows");
	BAD_REQ(b.ts_c = 0, "no C stamp");
	BAD_REQ(b.ts_c = gq - 1, "C before the start");
	BAD_REQ((b.ts_q = 0, b.ts_d = 0), "no start stamp at all");
	BAD_REQ(b.ts_d = b.ts_c + 1, "D after C");
	BAD_REQ(b.ts_g = gq - 1, "G before the start (Q)");
	BAD_REQ(b.ts_i = b.ts_c + 1, "I after C");
	BAD_REQ((b.ts_q = 0, b.ts_g = gq + 5 * US, b.ts_d = gq), "D before the start (G)");
	BAD_REQ(b.ts_c = gq + 601 * SEC, "a request longer than 600 s");
	/* (the wire parser never delivers these: they do not count as received REQs) */
	hci_join_guest(j, HCI_WT_REQ, &good, sizeof(good) - 1, arr, true);
	is_int(cnt->bad_record, ++nbad, "validation: REQ of the wrong length");
	hci_join_guest(j, HCI_WT_REQ, &good, sizeof(good) + 1, arr, true);
	is_int(cnt->bad_record, ++nbad, "validation: REQ longer than a record");
	hci_join_guest(j, 0, &good, 0, arr, true);
	is_int(cnt->bad_record, ++nbad, "validation: type 0");
	hci_join_guest(j, HCI_WT_MAX + 1, &good, 0, arr, true);
	is_int(cnt->bad_record, ++nbad, "validation: unknown type");
	hci_join_guest(j, HCI_WT_SYNC, &sy, sizeof(sy) - 8, arr, true);
	is_int(cnt->bad_record, ++nbad, "validation: SYNC of the wrong length");
	app.op = HCI_OP_FLUSH;
	hci_join_guest(j, HCI_WT_APP, &app, sizeof(app), arr, true);
	is_int(cnt->bad_record, ++nbad, "validation: APP that is not a read or write");
	app.op = HCI_OP_WRITE;
	app.bytes = (1ULL << 31) + 1;
	hci_join_guest(j, HCI_WT_APP, &app, sizeof(app), arr, true);
	is_int(cnt->bad_record, ++nbad, "validation: APP above 2 GiB");
	is_int(cnt->app_recs, 0, "validation: no APP record counted");
	is_int(cnt->guest_reqs, 0, "validation: no REQ record counted");

	hci_join_poll(j, arr + SETTLE, false);
	is_int(cnt->matched, 0, "validation: nothing matched from bad records");
	is_int(cnt->unmatched, 0, "validation: nor even queued");

	/* the control: the good record does match that VMM request (no clock yet) */
	send_req(j, &good, arr);
	hci_join_poll(j, arr + SETTLE, false);
	is_int(cnt->matched, 1, "validation: the good record matches, unambiguous without a clock");
	is_int(cnt->bad_record, nbad, "validation: the good record is not bad");
	ok(off_in(j, OFF), "validation: and bounds the clock around the truth");

	/* SYNC: forwards is fine, backwards is not, nor dropped > produced */
	sy.mono_ns = G0 + 2 * SEC;
	sy.reqs = bad_reqs + 1 + 3;
	sy.dropped = 1;
	hci_join_guest(j, HCI_WT_SYNC, &sy, sizeof(sy), G0 + 2 * SEC + OFF + 1 * MS, true);
	is_int(cnt->bad_record, nbad, "validation: a SYNC forwards is fine");
	is_int(cnt->guest_dropped, 1, "validation: SYNC carries the guest's dropped count");
	is_int(cnt->guest_missing, 2, "validation: produced - received - dropped are missing");
	sy.mono_ns = G0 + 2 * SEC;
	hci_join_guest(j, HCI_WT_SYNC, &sy, sizeof(sy), G0 + 2 * SEC + OFF + 2 * MS, true);
	is_int(cnt->bad_record, nbad, "validation: a SYNC at the same mono is fine");
	sy.mono_ns = G0 + 2 * SEC - 1;
	hci_join_guest(j, HCI_WT_SYNC, &sy, sizeof(sy), G0 + 2 * SEC + OFF + 3 * MS, true);
	is_int(cnt->bad_record, ++nbad, "validation: a SYNC going backwards is bad");
	sy.mono_ns = 0;
	hci_join_guest(j, HCI_WT_SYNC, &sy, sizeof(sy), G0 + 2 * SEC + OFF + 3 * MS, true);
	is_int(cnt->bad_record, ++nbad, "validation: a SYNC at mono 0 is bad");
	sy.mono_ns = G0 + 3 * SEC;
	sy.reqs = 1;
	sy.apps = 1;
	sy.dropped = 3;
	hci_join_guest(j, HCI_WT_SYNC, &sy, sizeof(sy), G0 + 3 * SEC + OFF + 1 * MS, true);
	is_int(cnt->bad_record, ++nbad, "validation: a SYNC that dropped more than it made");
	is_int(cnt->guest_dropped, 1, "validation: a bad SYNC changes no counter");

	/* HELLO and DISK strings are terminated here */
	memset(&hello, 'x', sizeof(hello));
	hello.flags = HCI_WF_TSC;
	hci_join_guest(j, HCI_WT_HELLO, &hello, sizeof(hello), arr, true);
	ok(hci_join_hello(j) && strlen(hci_join_hello(j)->release) == sizeof(hello.release) - 1 &&
	   strlen(hci_join_hello(j)->host) == sizeof(hello.host) - 1,
	   "validation: HELLO strings are NUL-terminated whatever was sent");
	memset(&disk, 'y', sizeof(disk));
	disk.dev = GDEV;
	hci_join_guest(j, HCI_WT_DISK, &disk, sizeof(disk), arr, true);
	is_int(strlen(hci_join_disk_name(j, GDEV, name, sizeof(name))), sizeof(disk.name) - 1,
	       "validation: DISK name is NUL-terminated");
	is_str(hci_join_disk_name(j, HCI_DEV_MKDEV(253, 7), name, sizeof(name)), "253:7",
	       "validation: an unknown disk is named by its numbers");
	is_int(cnt->bad_record, nbad, "validation: HELLO and DISK are not bad");

	hci_join_take_volumes(j, &vol);
	is_int(vol.guest[HCI_OP_READ], 4096, "validation: only the good record counts in volumes");
	is_int(vol.app[HCI_OP_READ] + vol.app[HCI_OP_WRITE], 0, "validation: no app bytes from bad APP");
#undef BAD_REQ
	hci_join_free(j);
	free(c.q);
}

/* 7: --max-pending */
static void test_overflow(void)
{
	struct cap c = { 0 };
	struct hci_join *j = hci_join_new(16, collect, &c);
	const struct hci_jcounters *cnt = hci_join_counters(j);
	uint64_t base = G0 + 1 * SEC + OFF, last = 0;

	/* 40 VMM requests; the guest claims the first 4 before the ring wraps */
	for (int i = 0; i < 40; i++) {
		uint64_t gq = G0 + 1 * SEC + (uint64_t)i * 100 * US, gd = gq + 10 * US;
		uint64_t vs = gd + OFF + 20 * US;
		struct hci_jvmm_in v = vreq(HCI_OP_READ, (uint64_t)i << 20, 4096, vs, vs + 5 * US,
					    vs + 10 * US, vs + 60 * US, vs + 65 * US);

		hci_join_vmm(j, &v);
		last = v.vc;
		if (i < 4) {
			struct hci_w_req g = greq(HCI_OP_READ, (uint64_t)i << 20, 4096, gq, gd,
						  v.vc - OFF + 20 * US);

			send_req(j, &g, v.vc + 1 * MS);
		}
		if (i == 15)
			hci_join_poll(j, base + 1 * SEC, false);
	}
	is_int(cnt->matched, 4, "overflow: the 4 claimed matched");
	is_int(cnt->vmm_reqs, 40, "overflow: 40 VMM requests");
	is_int(cnt->vmm_overflow, 20, "overflow: 24 pushed out, the 20 unclaimed count");
	hci_join_poll(j, last + HORIZON + 1, false);
	is_int(cnt->vmm_unmatched, 16, "overflow: the 16 left are unclaimed at eviction");
	hci_join_free(j);

	/* 40 guest requests, no poll */
	j = hci_join_new(16, collect, &c);
	cnt = hci_join_counters(j);
	for (int i = 0; i < 40; i++) {
		uint64_t gq = G0 + (uint64_t)i * 100 * US;
		struct hci_w_req g = greq(HCI_OP_WRITE, (uint64_t)i << 20, 4096, gq, gq + 10 * US,
					  gq + 200 * US);

		send_req(j, &g, gq + OFF + 1 * MS);
	}
	is_int(cnt->guest_reqs, 40, "overflow: 40 guest requests");
	is_int(cnt->guest_overflow, 24, "overflow: 24 dropped from a ring of 16");
	hci_join_poll(j, G0 + OFF + 10 * SEC, true);
	is_int(cnt->unmatched, 16, "overflow: the 16 kept went unmatched");
	is_int(cnt->matched, 0, "overflow: nothing matched");
	hci_join_free(j);
	free(c.q);
}

/* 8 and the TSC estimate */
static void test_clock(void)
{
	struct cap c = { 0 };
	struct hci_join *j = hci_join_new(64, collect, &c);
	const struct hci_jcounters *cnt = hci_join_counters(j);
	const struct hci_jclock *ck = hci_join_clock_state(j);
	uint64_t gq = G0 + 1 * SEC, gd = gq + 10 * US, base = gd + OFF;
	struct hci_w_req g = greq(HCI_OP_READ, 3 << 20, 4096, gq, gd, gd + 300 * US);
	struct hci_jvmm_in v = vreq(HCI_OP_READ, 3 << 20, 4096, base + 20 * US, base + 25 * US,
				    base + 30 * US, base + 200 * US, base + 205 * US);
	struct hci_w_sync sy = { .mono_ns = G0 };
	int64_t off, unc, off2, unc2, lo, hi;

	ok(!hci_join_clock(j, &off, &unc), "clock: unknown at first");
	/* a replayed file's SYNC says nothing about the clock */
	hci_join_guest(j, HCI_WT_SYNC, &sy, sizeof(sy), G0 + OFF + 10 * US, false);
	ok(!hci_join_clock(j, &off, &unc), "clock: a SYNC not received live gives no bound");
	send_sync(j, G0, G0 + OFF + 1 * MS);
	ok(hci_join_clock(j, &off, &unc) && off == OFF + (int64_t)MS,
	   "clock: a SYNC alone: off is its upper bound");
	send_sync(j, G0 + 100 * MS, G0 + 100 * MS + OFF + 50 * US);
	is_int(ck->hi, OFF + (int64_t)(50 * US), "clock: a faster SYNC lowers the bound");
	send_sync(j, G0 + 200 * MS, G0 + 200 * MS + OFF + 90 * US);
	is_int(ck->hi, OFF + (int64_t)(50 * US), "clock: a slower one does not raise it");
	is_int(ck->syncs, 3, "clock: three SYNCs bounded it");

	hci_join_vmm(j, &v);
	send_req(j, &g, base + 1 * MS);
	hci_join_poll(j, base + 1 * MS + SETTLE, false);
	is_int(cnt->matched, 1, "clock: the pair matched");
	lo = (int64_t)v.vc - (int64_t)g.ts_c;
	hi = (int64_t)v.vs - (int64_t)g.ts_d;
	ok(ck->have_lo && ck->have_hi && ck->lo == lo && ck->hi == hi,
	   "clock: the pair bounds it from both sides");
	ok(hci_join_clock(j, &off, &unc) && off == lo + (hi - lo) / 2 && unc == (hi - lo + 1) / 2,
	   "clock: the middle, and the half-width");
	ok(OFF >= off - unc && OFF <= off + unc, "clock: holds the truth");

	/* a SYNC that would put the offset below its lower bound broke causality */
	send_sync(j, G0 + 300 * MS, (uint64_t)((int64_t)(G0 + 300 * MS) + lo - 1));
	is_int(cnt->clock_conflicts, 1, "clock: an impossible SYNC is a conflict");
	ok(hci_join_clock(j, &off2, &unc2) && off2 == off && unc2 == unc,
	   "clock: and leaves the estimate as it was");
	ok(ck->lo == lo && ck->hi == hi && ck->syncs == 3, "clock: bounds and SYNC count unchanged");
	send_sync(j, G0 + 400 * MS, (uint64_t)((int64_t)(G0 + 400 * MS) + lo));
	is_int(cnt->clock_conflicts, 1, "clock: a SYNC right at the lower bound is no conflict");
	is_int(ck->hi, lo, "clock: and pins the offset");
	is_int(cnt->bad_record, 0, "clock: no SYNC was a bad record");
	hci_join_free(j);

	/* TSC: the estimate when causality agrees; the uncertainty stays causal */
	j = hci_join_new(64, collect, &c);
	ck = hci_join_clock_state(j);
	send_sync(j, G0, G0 + OFF + 20 * US);
	hci_join_vmm(j, &v);
	send_req(j, &g, base + 1 * MS);
	hci_join_poll(j, base + 1 * MS + SETTLE, false);
	hci_join_set_tsc(j, OFF);
	ok(hci_join_clock(j, &off, &unc) && off == OFF && off - unc <= ck->lo &&
	   off + unc >= ck->hi,
	   "clock: a TSC offset inside the bounds is the estimate; +/- covers the bounds");
	hci_join_set_tsc(j, ck->hi + 1);
	ok(hci_join_clock(j, &off, &unc) && off == ck->lo + (ck->hi - ck->lo) / 2,
	   "clock: a TSC offset outside them is ignored");
	hci_join_reset_clock(j);
	ok(!hci_join_clock(j, &off, &unc) && ck->pairs == 0 && !ck->tsc,
	   "clock: a restarted guest starts with no bounds");
	hci_join_free(j);
	free(c.q);
}

/* 9: the reorder measure */
static void test_inversions(void)
{
	uint64_t a[100], hand[] = { 2, 4, 1, 3, 5 }, ties[] = { 3, 3, 1, 3 };
	struct cap c = { 0 };
	struct hci_join *j;
	struct hci_jvol vol, zero = { 0 };
	uint64_t t0 = G0 + 1 * SEC, sorted = 1;
	/* guest D 10 us apart; host D: 30, 10, (hq) 20, 40 -> 2 inversions of 6 pairs */
	const uint64_t hd_at[] = { 300, 100, 0, 400, 0, 0 }, hq_at[] = { 30, 40, 200, 60, 0, 70 };

	for (int i = 0; i < 100; i++)
		a[i] = (uint64_t)i * 3;
	is_int(hci_count_inversions(a, 100), 0, "inversions: sorted -> 0");
	for (int i = 0; i < 100; i++)
		a[i] = (uint64_t)(100 - i);
	is_int(hci_count_inversions(a, 100), 100 * 99 / 2, "inversions: reversed 100 -> 4950");
	for (int i = 1; i < 100; i++)
		sorted &= a[i - 1] <= a[i];
	ok(sorted, "inversions: the array comes back sorted");
	is_int(hci_count_inversions(hand, 5), 3, "inversions: 2 4 1 3 5 -> 3");
	is_int(hci_count_inversions(ties, 4), 2,
	       "inversions: 3 3 1 3 -> 2, equal values are not inverted");
	is_int(hci_count_inversions(a, 1), 0, "inversions: one element");
	is_int(hci_count_inversions(NULL, 0), 0, "inversions: none");

	j = hci_join_new(64, collect, &c);
	send_sync(j, G0, G0 + OFF + 20 * US);
	for (int i = 0; i < 6; i++) {
		uint64_t gd = t0 + (uint64_t)i * 10 * US, base = t0 + OFF, vs = gd + OFF + 20 * US;
		uint64_t hq = hq_at[i] ? base + hq_at[i] * US : 0;
		uint64_t hd = hd_at[i] ? base + hd_at[i] * US : 0;
		uint64_t hc = hq ? (hd ? hd : hq) + 100 * US : 0, vc = hc ? hc + 5 * US : vs + 10 * US;
		struct hci_jvmm_in v = vreq(HCI_OP_READ, (uint64_t)(i + 1) << 20, 4096, vs, hq, hd,
					    hc, vc);
		/* request 4: the host page cache; request 5: the guest recorded no D */
		struct hci_w_req g = greq(HCI_OP_READ, (uint64_t)(i + 1) << 20, 4096, gd - 5 * US,
					  i == 5 ? 0 : gd, vc - OFF + 20 * US);

		hci_join_vmm(j, &v);
		send_req(j, &g, vc + 1 * MS);
	}
	hci_join_poll(j, t0 + OFF + 10 * SEC, true);
	is_int(hci_join_counters(j)->matched, 6, "inversions: all 6 matched");
	hci_join_take_volumes(j, &vol);
	is_int(vol.inversions, 2, "inversions: host D order 30 10 20 40 against guest D order");
	is_int(vol.pairs, 6, "inversions: 4 requests with host bios and a guest D: 6 pairs");
	is_int(vol.matched, 6, "inversions: volumes matched");
	is_int(vol.guest[HCI_OP_READ], 6 * 4096, "inversions: volumes guest bytes");
	hci_join_take_volumes(j, &vol);
	ok(!memcmp(&vol, &zero, sizeof(vol)), "inversions: after a take, the next take is all zero");
	hci_join_free(j);
	free(c.q);
}

/* 10: KVM's TSC offset to a clock offset */
static void test_tsc(void)
{
	/* host: 0.5 ns per tick, calibrated at TSC 1e6 = mono 2e12 */
	const uint64_t tsc_h0 = 1000000, mono_h0 = 2000000000000ULL;
	int64_t tsc_offset = -500000000;
	/* guest SYNC at host TSC 3e6 -> host mono 2e12 + 1e6; guest mono OFF less */
	uint64_t tsc_g = (uint64_t)(3000000 + tsc_offset), mono_g = mono_h0 + 1000000 - OFF;
	int64_t got;

	is_int(hci_tsc_clock_offset(tsc_g, mono_g, tsc_offset, tsc_h0, mono_h0, 0.5), OFF,
	       "tsc: negative tsc_offset, after the calibration");
	/* a guest TSC ahead of the host's, read before the calibration point */
	tsc_offset = 7000000000LL;
	tsc_g = 600000 + (uint64_t)tsc_offset;	/* host TSC 6e5: 2e5 ns before mono_h0 */
	mono_g = mono_h0 - 200000 - 123456789;
	is_int(hci_tsc_clock_offset(tsc_g, mono_g, tsc_offset, tsc_h0, mono_h0, 0.5), 123456789,
	       "tsc: positive tsc_offset, before the calibration");
	/* a guest TSC that wrapped below the offset: unsigned arithmetic holds */
	tsc_offset = 1000;
	tsc_g = 500;			/* host TSC = 2^64 - 500: i.e. -500 */
	mono_g = mono_h0 - (uint64_t)(1000000 + 500) / 2 - 1000;
	is_int(hci_tsc_clock_offset(tsc_g, mono_g, tsc_offset, tsc_h0, mono_h0, 0.5), 1000,
	       "tsc: host TSC before the guest offset (wrap)");
	/* 3 GHz: 1/3 ns per tick, realistic magnitudes; within a ns */
	got = hci_tsc_clock_offset(30000000000000ULL + 3000000000ULL - 20000000000000ULL,
				   1000000000000ULL, -20000000000000LL, 30000000000000ULL,
				   4000000000000ULL, 1.0 / 3.0);
	ok(absd(got, 4000000000000LL + 1000000000LL - 1000000000000LL) <= 1,
	   "tsc: 3 GHz, 1 s after calibration: %lld", (long long)got);
}

/*
 * The join's JSON items, byte for byte as docs/formats.md shows them, in
 * the "requests" and "guests" arrays of one writer.
 */
static void test_json(void)
{
	const struct hci_jreq q = {
		.op = HCI_OP_WRITE, .off = 4096, .bytes = 4096, .nvmm = 2,
		.clock_off = 1500, .clock_unc = 250,
		.present = 1u << HCI_J_GUEST | 1u << HCI_J_V2Q,
		.ns = { [HCI_J_GUEST] = 1000, [HCI_J_V2Q] = 2500 },
	};
	const struct hci_wire_stats ws = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct hci_join *j = hci_join_new(16, NULL, NULL);
	const char *want_req = "{\"layer\":\"guest\",\"time_s\":1.500000000,\"origin\":"
		"\"vm:\\\"a\\u0001\",\"disk\":\"vda\",\"op\":\"write\",\"offset\":4096,"
		"\"bytes\":4096,\"vmm_requests\":2,\"clock_offset_us\":1.500,"
		"\"clock_uncertainty_us\":0.250,\"stages_us\":{\"guest\":1.000,\"notify\":null,"
		"\"vmm_submit\":2.500,\"host_queue\":null,\"device\":null,\"vmm_complete\":null,"
		"\"vmm_cached\":null,\"irq\":null,\"total\":null,\"tax\":null}}";
	const char *want_guest = "{\"origin\":\"vm:a\",\"channel\":\"/p\",\"hello\":null,"
		"\"clock\":{\"offset_us\":null,\"uncertainty_us\":null,\"pairs\":0,\"syncs\":0,"
		"\"kvm_tsc\":false},\"counters\":{\"guest_requests\":0,\"guest_other\":0,"
		"\"app_records\":0,\"matched\":0,\"unmatched\":0,\"vmm_requests\":0,"
		"\"vmm_unmatched\":0,\"vmm_unmatched_bytes\":0,\"guest_dropped\":0,\"guest_missing\":0,\"guest_bpf_lost\":0,"
		"\"guest_overflow\":0,\"vmm_overflow\":0,\"clock_conflicts\":0,"
		"\"inversion_cut\":0},\"stream\":{\"frames\":1,\"records\":2,\"bytes\":3,"
		"\"rejects\":{\"skipped_bytes\":4,\"bad_version\":5,\"bad_type\":6,"
		"\"bad_length\":7,\"bad_crc\":8,\"bad_record\":0,\"seq_gaps\":9,\"restarts\":10}},"
		"\"stages\":{},\"stages_4k\":{},\"volumes\":[]}";
	char want[4096], *b = NULL;
	size_t nb;
	FILE *fb = open_memstream(&b, &nb);
	struct hci_jw w;

	snprintf(want, sizeof(want), "{\"requests\":[\n%s,\n%s],\n\"guests\":[\n%s]}\n",
		 want_req, want_req, want_guest);
	hci_jw_init(&w, fb, false);
	hci_jw_start_object(&w);
	hci_jw_name(&w, "requests");
	hci_jw_start_array(&w);
	hci_jw_lines(&w);
	hci_join_json_req(&w, "vm:\"a\x01", "vda", &q, 1.5);
	hci_join_json_req(&w, "vm:\"a\x01", "vda", &q, 1.5);
	hci_jw_end_array(&w);
	hci_jw_break(&w);
	hci_jw_name(&w, "guests");
	hci_jw_start_array(&w);
	hci_jw_lines(&w);
	hci_join_json_guest(&w, "vm:a", "/p", j, &ws, NULL, 0);
	hci_jw_end_array(&w);
	hci_jw_end_object(&w);
	is_int(hci_jw_finish(&w), 0, "json: the shared writer closes cleanly");
	fclose(fb);
	is_str(b, want, "json: request and guest items through one shared writer");
	free(b);
	hci_join_free(j);
}

int main(void)
{
	test_split_merge();
	test_orphans();
	test_validation();
	test_overflow();
	test_clock();
	test_inversions();
	test_tsc();
	test_json();
	return done_testing();
}
