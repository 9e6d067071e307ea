// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcithrottle's metrics (throttle/metrics.c) on a service state built by
 * hand: which origins are exported and how two cgroups of one origin are
 * summed, the gauges' values (caps as the kernel has them, targets, floors),
 * the decision log's reasons as their classes, the restores counted at
 * exit, /metrics over a real socket, and --prom-file (written on its own
 * thread) at exit.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "fmt/httpd.h"
#include "throttle/throttle.h"

static struct svc s;

static struct ostate *add(const char *origin, double iops)
{
	struct ostate *o = &s.devs[0].o[s.devs[0].n++];

	snprintf(o->origin, sizeof(o->origin), "%s", origin);
	o->vm = !strncmp(origin, "vm:", 3);
	o->container = !strncmp(origin, "container:", 10);
	o->iops = iops;
	o->bps = iops * 4096;
	return o;
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void decide(enum hci_pol_action a, const char *reason)
{
	struct hci_pol_decision d = { .action = a };

	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	thr_metrics_decision(&s, &s.devs[0], &s.devs[0].o[0], &d);
}

/*
 * The controller's own reasons, each through hci_policy_step and into the
 * counters of vm:policy: the classes follow policy.c's phrases, so a change
 * of wording there fails here.
 */
static void policy_decisions(void)
{
	static const struct hci_pol_params p = { .decrease = 0.5, .increase = 0.1,
						 .healthy_intervals = 1, .baseline_alpha = 0.2 };
	static const struct hci_pol_params p5 = { .decrease = 0.5, .increase = 0.1,
						  .healthy_intervals = 5, .baseline_alpha = 0.2 };
	const struct {
		const struct hci_pol_params *p;
		struct hci_pol_container c;
		struct hci_pol_vm v;
	} cases[] = {
		{ &p, { .iops = 300, .p99_us = 100, .min_iops = 800 }, { .iops = 1000, .bps = 4e6 } },
		{ &p, { .iops = 500, .p99_us = 5000, .target_p99_us = 2000 },
		  { .iops = 1000, .bps = 4e6 } },
		{ &p, { .iops = 500, .p99_us = 900, .target_rel = 1.5, .solo_p99_us = 500 },
		  { .iops = 1000, .bps = 4e6 } },
		{ &p, { .iops = 500, .p99_us = 100, .target_p99_us = 2000 },
		  { .iops = 400, .bps = 1.6e6, .cap_iops = 500, .peak_iops = 1000 } },
		{ &p, { .iops = 0 }, { .iops = 400, .bps = 1.6e6, .cap_iops = 500, .peak_iops = 1000 } },
		{ &p5, { .iops = 500, .p99_us = 100, .target_p99_us = 2000 },
		  { .iops = 40, .bps = 1.6e5, .cap_iops = 50, .peak_iops = 1000, .floor_iops = 200 } },
	};
	const struct ostate *o = &s.devs[0].o[s.devs[0].n - 1];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hci_pol_state st = {0};
		struct hci_pol_container c = cases[i].c;
		struct hci_pol_vm v = cases[i].v;
		struct hci_pol_decision d;

		hci_policy_step(cases[i].p, &st, &c, 1, &v, 1, &d);
		thr_metrics_decision(&s, &s.devs[0], o, &d);
		printf("# policy case %zu: %s\n", i, d.reason);
	}
}

/* GET path over TCP: the whole answer */
static char *get(unsigned int port, const char *path)
{
	static char buf[1 << 16];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[128];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	buf[0] = '\0';
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return buf;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (write(fd, req, strlen(req)) < 0)
		n = 0;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void setup(void)
{
	struct ostate *o;

	snprintf(s.devs[0].name, sizeof(s.devs[0].name), "sda");
	s.ndevs = 1;
	o = add("vm:a", 1500);
	o->in_force = (struct hci_limit){ .riops = 260.4, .wiops = 260.6, .rbps = 1e6 };
	o->v.floor_iops = 200;
	o = add("container:db", 300);
	o->c.target_p99_us = 2000;
	o->c.min_iops = 800;
	o = add("container:rel", 100);
	o->c.target_rel = 1.5;		/* no baseline yet: NaN */
	add("vm:gone", 10)->gone = true;
	add("vm:dup", 100)->in_force.riops = 50;
	add("vm:dup", 200)->in_force.riops = 70;
	add("container:we\"ird\\name\n", 5);
	add("vm:idle", 0);		/* never active: past THR_METRICS_IDLE_S */
	add("vm:idlecap", 0)->in_force.riops = 10;
	add("vm:policy", 1000);
	s.intervals = 7;
}

/* listen and prom_file from the config file (the command line is unset) */
static void config(const char *file)
{
	char line[128], err[256];

	hci_tconf_defaults(&s.conf);
	ok(hci_tconf_line(&s.conf, "listen = 127.0.0.1:0", err, sizeof(err)) == 0,
	   "config: listen = 127.0.0.1:0");
	snprintf(line, sizeof(line), "prom_file = %s", file);
	ok(hci_tconf_line(&s.conf, line, err, sizeof(err)) == 0, "config: prom_file = FILE");
	ok(hci_tconf_line(&s.conf, "listen = 1 2", err, sizeof(err)) != 0 &&
	   strstr(err, "want ADDR:PORT") != NULL, "config: a listen with a space: %s", err);
	ok(hci_tconf_line(&s.conf, "prom_file = x.prom", err, sizeof(err)) != 0,
	   "config: a relative prom_file is refused: %s", err);
}

int main(void)
{
	char file[] = "/tmp/test_throttle_metrics.XXXXXX", path[64];
	const char *t;
	int dfd = mkstemp(file);

	close(dfd);
	unlink(file);
	snprintf(path, sizeof(path), "%s.prom", file);
	setup();
	config(path);
	ok(thr_metrics_start(&s) == 0 && s.metrics, "started with the config's listen and prom_file");
	decide(HCI_POL_CAP, "container[0] iops 300 < min 800; capping 1 VM: vm[0] iops 1500 -> 750");
	decide(HCI_POL_CAP, "container[0] iops 290 < min 800; capping 1 VM: vm[0] iops 750 -> 375");
	decide(HCI_POL_CAP, "2 containers miss, worst container[1] p99 5000us > target 2000us");
	decide(HCI_POL_CAP, "container[0] p99 900us > 1.5x solo 500us; capping 1 VM");
	decide(HCI_POL_LIFT, "containers meet targets for 5 intervals; lifting 1 VM: vm[0]");
	decide(HCI_POL_LIFT, "no active container for 5 intervals; lifting 1 VM: vm[0]");
	decide(HCI_POL_LIFT, "containers meet targets, healthy 1/5; holding caps; raised to floor: vm[0]");
	decide(HCI_POL_HOLD, "no active VM");
	policy_decisions();
	thr_metrics_interval(&s);
	/* the file is written on its own thread: the server has the text now */
	t = get(thr_metrics_port(&s), "/metrics");
	ok(!strncmp(t, "HTTP/1.", 7) && strstr(t, " 200 ") && strstr(t, "\r\n\r\n# HELP "),
	   "GET /metrics: 200 and the text");
	ok(strstr(t, "# TYPE hcithrottle_cap_iops gauge\n") != NULL, "cap gauge family");
	ok(strstr(t, "hcithrottle_cap_iops{origin=\"vm:a\",origin_class=\"vm\",device=\"sda\","
		  "op=\"read\"} 260\n") != NULL, "read cap as written (%%.0f): 260");
	ok(strstr(t, "hcithrottle_cap_iops{origin=\"vm:a\",origin_class=\"vm\",device=\"sda\","
		  "op=\"write\"} 261\n") != NULL, "write cap 261");
	ok(strstr(t, "hcithrottle_cap_bytes_per_second{origin=\"vm:a\",origin_class=\"vm\","
		  "device=\"sda\",op=\"write\"} 0\n") != NULL, "no limit: 0");
	ok(strstr(t, "hcithrottle_cap_iops{origin=\"vm:dup\",origin_class=\"vm\",device=\"sda\","
		  "op=\"read\"} 120\n") != NULL, "two cgroups of one origin: one series, summed");
	ok(strstr(t, "hcithrottle_iops{origin=\"vm:dup\",origin_class=\"vm\",device=\"sda\"} 300\n")
	   != NULL, "their IOPS summed");
	ok(!strstr(t, "vm:gone"), "a removed cgroup's origin is not exported");
	ok(!strstr(t, "vm:idle\""), "an idle origin without a cap is not exported");
	ok(strstr(t, "hcithrottle_cap_iops{origin=\"vm:idlecap\"") != NULL,
	   "an idle origin with a cap in force is");
	ok(strstr(t, "hcithrottle_target_p99_seconds{origin=\"container:db\",origin_class="
		  "\"container\",device=\"sda\"} 0.002\n") != NULL, "absolute p99 target, seconds");
	ok(strstr(t, "hcithrottle_target_p99_seconds{origin=\"container:rel\",origin_class="
		  "\"container\",device=\"sda\"} NaN\n") != NULL, "relative target unlearned: NaN");
	ok(strstr(t, "hcithrottle_target_min_iops{origin=\"container:db\",origin_class="
		  "\"container\",device=\"sda\"} 800\n") != NULL, "min_iops target");
	ok(strstr(t, "hcithrottle_floor_iops{origin=\"vm:a\",origin_class=\"vm\",device=\"sda\"} 200\n")
	   != NULL, "VM floor");
	ok(!strstr(t, "hcithrottle_floor_iops{origin=\"vm:dup\""), "no floor, no series");
	ok(strstr(t, "origin=\"container:we\\\"ird\\\\name\\n\"") != NULL,
	   "quote, backslash and newline in an origin escaped");
	ok(strstr(t, "kind=\"cap\",reason=\"min_iops\"} 2\n") != NULL, "min_iops caps: 2");
	ok(strstr(t, "kind=\"cap\",reason=\"p99_target\"} 1\n") != NULL, "p99_target");
	ok(strstr(t, "kind=\"cap\",reason=\"p99_relative\"} 1\n") != NULL, "p99_relative");
	ok(strstr(t, "kind=\"lift\",reason=\"healthy\"} 1\n") != NULL, "healthy lift");
	ok(strstr(t, "kind=\"lift\",reason=\"no_container\"} 1\n") != NULL, "no_container lift");
	ok(strstr(t, "kind=\"lift\",reason=\"floor_raised\"} 1\n") != NULL, "floor_raised");
	ok(strstr(t, "kind=\"lift\",reason=\"retry\"} 1\n") != NULL, "a retried write: retry");
#define POLICY(k, r) "{origin=\"vm:policy\",origin_class=\"vm\",device=\"sda\",kind=\"" k \
	"\",reason=\"" r "\"} 1\n"
	ok(strstr(t, POLICY("cap", "min_iops")) != NULL, "policy.c's min_iops miss");
	ok(strstr(t, POLICY("cap", "p99_target")) != NULL, "policy.c's p99 target miss");
	ok(strstr(t, POLICY("cap", "p99_relative")) != NULL, "policy.c's relative p99 miss");
	ok(strstr(t, POLICY("lift", "healthy")) != NULL, "policy.c's healthy lift");
	ok(strstr(t, POLICY("lift", "no_container")) != NULL, "policy.c's lift, no container");
	ok(strstr(t, POLICY("lift", "floor_raised")) != NULL, "policy.c's raise to a floor");
	ok(!strstr(t, "origin=\"vm:policy\",origin_class=\"vm\",device=\"sda\",kind=\"cap\","
		   "reason=\"other\""), "none of policy.c's reasons is other");
	ok(strstr(t, "hcithrottle_intervals_total 7\n") != NULL, "intervals counted");
	t = get(thr_metrics_port(&s), "/");
	ok(strstr(t, " 404 ") != NULL, "GET /: 404");
	thr_metrics_stop(&s, 0);
	t = slurp(path);
	ok(strstr(t, "hcithrottle_cap_iops{origin=\"vm:a\",origin_class=\"vm\",device=\"sda\","
		  "op=\"read\"} 0\n") != NULL, "at exit: the cap put back");
	ok(strstr(t, "origin=\"vm:a\",origin_class=\"vm\",device=\"sda\",kind=\"restore\","
		  "reason=\"exit\"} 1\n") != NULL, "at exit: the restore counted");
	ok(strstr(t, "hcithrottle_restore_failed 0\n") != NULL, "nothing failed to restore");
	ok(strstr(t, "hcithrottle_intervals_total 7\n") != NULL, "--prom-file: the same text");
	ok(strstr(t, "hcithrottle_prom_file_writes_total{result=\"failed\"} 0\n") != NULL,
	   "--prom-file: no write failed");
	ok(!s.metrics, "stopped");
	unlink(path);
	return done_testing();
}
