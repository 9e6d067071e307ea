/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcithrottle's Prometheus metrics (docs/monitoring.md): per device and
 * origin, the caps in force, the targets and floors, the measured IOPS and
 * p99, the decisions by kind and reason, and the same BPF histograms and
 * loss counters as hcitrace. The text is built once per decision interval
 * and handed to lib/fmt/httpd (--listen) and to --prom-file; the service
 * loop never waits on a client.
 */
#ifndef HCI_THROTTLE_METRICS_H
#define HCI_THROTTLE_METRICS_H

struct svc;
struct tdev;
struct ostate;
struct hci_pol_decision;

/*
 * An origin that did no I/O and has no cap in force for this long is left
 * out of the text (its series go stale in Prometheus), so the series are
 * bounded by the origins active in that window, at most MAX_ORIGINS per
 * configured device.
 */
#define THR_METRICS_IDLE_S 300
/*
 * The tracer's histograms and counters (most of the text) are built again
 * at most this often; the caps, targets, measurements and decisions every
 * decision interval.
 */
#define THR_METRICS_HIST_MS 1000
/* decision counters kept, one per (device, origin, kind, reason) */
#define THR_METRICS_MAX_DECISIONS 4096

/* --listen / --prom-file (or the config's listen / prom_file): 0, or the
 * exit status (2: a bad address, 1: it cannot be bound) with it said. */
int thr_metrics_start(struct svc *s);
/* One decision interval: the text built, published and written. */
void thr_metrics_interval(struct svc *s);
/* A cap or lift written (or tried) for an origin, as the decision log has it. */
void thr_metrics_decision(struct svc *s, const struct tdev *d, const struct ostate *o,
			  const struct hci_pol_decision *dec);
/* the port /metrics listens on, 0 when none */
unsigned int thr_metrics_port(const struct svc *s);
/* At exit, after the limits were put back (@unrestored could not be): the
 * restores counted, the last text written, the server stopped. */
void thr_metrics_stop(struct svc *s, int unrestored);
#endif
