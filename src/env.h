/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hcitrace command line. Parsing only: no I/O beyond the rules file. */
#ifndef HCI_ENV_H
#define HCI_ENV_H
#include <stdbool.h>
#include <stdio.h>
#include "origin.h"

struct hci_env {
	int verbose;		/* -v: features, warnings; -vv: libbpf debug */
	bool per_request;
	bool show_hist;
	bool raw_tp;		/* force the raw_tp fallback */
	bool vmm;		/* trace the VMM layer (I/O syscalls of VMMs) */
	const char *vm;		/* --vm PID|NAME: only this VMM (implies vmm) */
	const char *disk;
	const char *cgroup;
	const char *origin;	/* CLASS[:NAME] output filter */
	const char *csv_path;
	const char *json_path;
	double duration;	/* seconds, 0 = until Ctrl-C or the command ends */
	long interval;		/* seconds, 0 = one summary at the end */
	long count;		/* number of intervals, 0 = unlimited */
	long slots;		/* per-request slot table entries (power of two) */
	long max_keys;		/* histogram keys (origin x disk x op) */
	long rb_kib;		/* ring buffer size for --per-request */
	char **cmd;		/* after "--" */
	struct hci_rules rules;
};

/*
 * Returns 0 to run, 1 when --help/--usage/--version was printed (exit 0),
 * or a negative errno with a one-line message in err.
 */
int hci_env_parse(struct hci_env *env, int argc, char **argv, char *err, size_t errlen);
void hci_env_free(struct hci_env *env);
#endif
