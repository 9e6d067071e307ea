/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hcithrottle's state, shared by its files: the options (options.c), the
 * origins measured on each device (measure.c), the decisions taken on them
 * (decide.c), the lock, pid and status files (state.c) and the control
 * loop that runs them (service.c). main.c dispatches the commands.
 */
#ifndef HCI_THROTTLE_H
#define HCI_THROTTLE_H
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>
#include "core/cmd.h"
#include "core/hist.h"
#include "host/cgroups.h"
#include "host/resolver.h"
#include "host/origin.h"
#include "bpf/tracer.h"
#include "config.h"
#include "enforce.h"
#include "metrics.h"
#include "policy.h"

#define DEFAULT_CONFIG "/etc/hcikit/hcithrottle.conf"
#define MAX_ORIGINS 256

/* What the command line asked for. */
struct opts {
	const char *cmd;
	const char *config;
	bool dry_run;
	int verbose;
	double duration;
	const char *measure_log;	/* every interval, every origin (CSV) */
	const char *listen;		/* --listen ADDR:PORT, over the config's */
	const char *prom_file;		/* --prom-file FILE, over the config's */
};

/* An origin on a device, with the controller's state for it. */
struct ostate {
	char origin[HCI_ORIGIN_MAX];
	__u64 cgid;
	char cgpath[512];
	bool vm, container, gone;
	bool unsynced;		/* the last write failed: write again */
	struct hci_limit in_force;	/* what was last written (0 = none) */
	struct hci_limit asked;		/* what was last asked of hci_enf_set() */
	unsigned int silent_ms;		/* capped, and no completion for this long */
	double iops, bps, p99_us, inflight, riops_share;
	double implied_bps;	/* floor_iops x the mean request size seen */
	struct hci_pol_vm v;
	struct hci_pol_container c;
};

/* A configured device: its origins and the controller's state for it. */
struct tdev {
	__u32 dev;
	char name[64];
	struct ostate o[MAX_ORIGINS];
	int n;
	struct hci_pol_state ps;
};

/* A VM that cannot be capped, said once (at start, or when first seen). */
struct uncappable {
	char origin[HCI_ORIGIN_MAX];
	pid_t pid;		/* its VMM, 0 if not known */
};

/* The service: all one hcithrottle command holds, for its whole life. */
struct svc {
	struct opts o;
	struct hci_tconf conf;
	struct hci_cgroups cg;
	struct hci_resolver res;	/* origins and VMM names, over cg and conf.rules */
	struct hci_tracer t;
	struct hci_enforcer enf;
	struct tdev devs[HCI_TCONF_MAX];
	int ndevs;
	struct hci_snap prev;
	FILE *log;
	FILE *mlog;
	char dir[256];		/* state directory: lock, pid and status files */
	int lock_fd;		/* the host's hcithrottle lock, held for life */
	__u64 t0;
	unsigned long decisions, intervals, cg_events;
	unsigned long rewrites;		/* limits written again to free held bios */
	struct uncappable unc[MAX_ORIGINS];
	int nunc;
	struct thr_metrics *metrics;	/* metrics.c: /metrics and --prom-file, or NULL */
};

/* the backend's name, as the config file spells it */
extern const char *const thr_backend_names[];

/* options.c: a parse of the command line, in lib/core/cmd.h's convention */
struct thr_parse {
	struct opts *o;			/* what it fills in */
	const struct hci_cmd *cmds;	/* the commands it accepts */
	int status;		/* HCI_PARSE_INFO once help, usage or version is out */
	char err[256];		/* the error, already said on stderr */
};
/* the index of the command word in argv, or 0 when it is not plainly there */
int thr_find_command(int argc, char **argv, const struct hci_cmd *cmds);
/* The whole line, with every option (no command word found first). Each
 * returns 0, HCI_PARSE_INFO, or -errno with the error said on stderr. */
int thr_parse_top(int argc, char **argv, struct thr_parse *ps);
/* One command's options: argv[0] is the command word. */
int thr_parse_command(int argc, char **argv, struct thr_parse *ps);
/* main()'s end of a parse that did not return 0: the exit status (0, 2) */
int thr_parse_exit(int rc);

/* measure.c */
int thr_measure(struct svc *s, double secs);
int thr_on_event(void *ctx, void *data, size_t size);

/* decide.c */
const struct hci_tqmp *thr_qmp_for(const struct svc *s, const char *origin);
void thr_scan_uncappable(struct svc *s);
void thr_decide(struct svc *s, struct tdev *d);
void thr_log_measures(struct svc *s);

/* state.c */
int thr_load_conf(struct svc *s);
int thr_take_lock(struct svc *s);
int thr_recover(struct svc *s, bool starting);
int thr_write_pid(struct svc *s);
void thr_remove_run_files(struct svc *s);
void thr_write_status(struct svc *s);

/* the commands: each returns the exit status */
int thr_cmd_run(struct svc *s);		/* service.c */
int thr_cmd_status(struct svc *s);	/* state.c */
int thr_cmd_reset(struct svc *s);	/* state.c */
void thr_on_hup(int sig);		/* service.c: SIGHUP reloads the config */
#endif
