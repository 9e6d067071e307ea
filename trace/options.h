/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hcitrace command line. Parsing only: no I/O beyond the rules file. */
#ifndef HCI_ENV_H
#define HCI_ENV_H
#include <stdbool.h>
#include <stdio.h>
#include "host/origin.h"

#define HCI_MAX_CHANNELS 16
#define HCI_GUEST_PORT "org.hcikit.trace.0"

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
	bool rb_kib_given;	/* --ringbuf-kib: else --record picks the size */
	const char *record_path;	/* --record FILE */
	int argc;		/* the command line, for --record's header */
	char **argv;
	char **cmd;		/* after "--" */
	struct hci_rules rules;
	/* the guest side (--guest-channel): each joined to its VM's VMM requests */
	const char *channels[HCI_MAX_CHANNELS];
	int nchannels;
	bool breakdown;		/* print the single-I/O breakdown */
	long max_pending;	/* guest + VMM requests held for joining, per VM */
	const char *listen;	/* --listen ADDR:PORT: serve /metrics (trace/metrics.h) */
	const char *prom_file;	/* --prom-file FILE: the same text, written atomically */
	long metrics_idle;	/* --metrics-idle: seconds before an idle series is left out */
};

/* hcitrace guest: inside the VM, stream the guest block layer to the host */
struct hci_guest_env {
	int verbose;
	bool app;		/* also application reads/writes */
	bool raw_tp;
	const char *disk;
	const char *channel;	/* file, FIFO, socket or device; NULL = port */
	const char *port;	/* virtio-serial port name */
	double duration;
	long slots, rb_kib, buf_kib;
	char **cmd;
};

/*
 * Returns 0 to run, HCI_PARSE_INFO (core/cmd.h) when --help/--usage/--version
 * was printed (exit 0),
 * or a negative errno with a one-line message in err.
 */
int hci_env_parse(struct hci_env *env, int argc, char **argv, char *err, size_t errlen);
void hci_env_free(struct hci_env *env);
/* argv[0] is "guest"; same return convention as hci_env_parse */
int hci_guest_env_parse(struct hci_guest_env *env, int argc, char **argv, char *err,
			size_t errlen);
#endif
