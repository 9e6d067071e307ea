/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcithrottle's configuration file, version 1 (docs/hcithrottle.md). One
 * "key = value" per line, '#' starts a comment, blank lines ignored; errors
 * are "FILE:LINE: message". Pure parsing: no I/O beyond reading the file.
 *
 *   version = 1
 *   interval = 200ms                     # 10ms .. 10s (a unit: us, ms or s)
 *   backend = cgroup                     # cgroup | qmp | none
 *   device = loop0                       # repeatable, at most HCI_TCONF_MAX
 *   rule = /tenants/db=container:db      # origin rules, as hcitrace --rule
 *   container = container:db p99=2ms min_iops=5000
 *   container = container:* p99=1.5x     # relative to the learned solo p99
 *   vm = vm:* floor_iops=500 floor_bps=10M
 *   qmp = vm:guest1 /run/guest1.qmp drive0   # origin, QMP socket, drive id
 *   decrease = 0.5                       # AIMD multiplicative factor (0..1)
 *   increase = 0.1                       # AIMD step, fraction of the VM's
 *                                        # uncapped load per interval (0..1]
 *   healthy_intervals = 5                # hysteresis before lifting
 *   state = /run/hcithrottle/state
 *   log = /var/log/hcithrottle/decisions.csv
 *   listen = 127.0.0.1:9465              # Prometheus /metrics (--listen)
 *   prom_file = /var/lib/prometheus/node-exporter/hcithrottle.prom
 *
 * Origin patterns are "CLASS:GLOB" (fnmatch on the name part); a container
 * line needs p99 and/or min_iops; p99 takes us/ms/s or an "x" multiple.
 * Sizes take K/M/G (powers of 1024). Keys other than device, rule,
 * container, vm and qmp may appear once; a container or vm line that could
 * never apply (its pattern given before, or covered by an earlier one) is
 * refused.
 */
#ifndef HCI_TCONF_H
#define HCI_TCONF_H
#include <stdbool.h>
#include <stddef.h>
#include "host/origin.h"

#define HCI_TCONF_MAX 32

enum hci_backend { HCI_BACKEND_CGROUP, HCI_BACKEND_QMP, HCI_BACKEND_NONE };

struct hci_ttarget {		/* a container target */
	char pattern[HCI_ORIGIN_MAX];	/* "container:GLOB" */
	double p99_us;		/* absolute target, 0 = none */
	double p99_rel;		/* multiple of the solo baseline, 0 = none */
	double min_iops;	/* 0 = none */
};

struct hci_tfloor {		/* a VM floor */
	char pattern[HCI_ORIGIN_MAX];	/* "vm:GLOB" */
	double iops;		/* never cap below; 0 = no floor */
	double bps;
};

struct hci_tqmp {
	char origin[HCI_ORIGIN_MAX];	/* "vm:NAME" */
	char socket[256];
	char drive[64];
};

struct hci_tconf {
	unsigned int interval_ms;	/* default 200 */
	enum hci_backend backend;	/* default cgroup */
	char devices[HCI_TCONF_MAX][64];
	int device_line[HCI_TCONF_MAX];	/* its line in the file, for messages */
	int ndevices;
	struct hci_rules rules;
	struct hci_ttarget targets[HCI_TCONF_MAX];
	int ntargets;
	struct hci_tfloor floors[HCI_TCONF_MAX];
	int nfloors;
	struct hci_tqmp qmp[HCI_TCONF_MAX];
	int nqmp;
	double decrease;	/* default 0.5 */
	double increase;	/* default 0.1 */
	unsigned int healthy_intervals;	/* default 5 */
	char state_path[256];	/* default /run/hcithrottle/state */
	char log_path[256];	/* default "" = no CSV decision log */
	char listen[64];	/* default "" = no /metrics server */
	char prom_file[256];	/* default "" = no metrics file */
};

void hci_tconf_defaults(struct hci_tconf *c);
/* One line (without its newline); lineno/file only for the message. */
int hci_tconf_line(struct hci_tconf *c, const char *line, char *err, size_t errlen);
/* Defaults, then every line of path; then checks that need the whole file
 * (at least one device; qmp lines when backend = qmp). 0 or -errno. */
int hci_tconf_load(const char *path, struct hci_tconf *c, char *err, size_t errlen);
void hci_tconf_free(struct hci_tconf *c);
/* "CLASS:GLOB" against an origin "class:name". */
bool hci_tconf_match(const char *pattern, const char *origin);
/* The target / floor that applies to an origin (first match), or NULL. */
const struct hci_ttarget *hci_tconf_target(const struct hci_tconf *c, const char *origin);
const struct hci_tfloor *hci_tconf_floor(const struct hci_tconf *c, const char *origin);
#endif
