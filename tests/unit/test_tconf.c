// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* hcithrottle's config file: a full file, defaults, every error with its
 * FILE:LINE, duration/size/p99 forms, origin pattern matching. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "throttle/config.h"

static char tmpl[64];
static char err[1024];
static struct hci_tconf conf;

/* Write text to a temporary file, load it, remove the file. */
static int load(const char *text)
{
	FILE *f;
	int fd, ret;

	snprintf(tmpl, sizeof(tmpl), "/tmp/hcitconfXXXXXX");
	fd = mkstemp(tmpl);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	ret = hci_tconf_load(tmpl, &conf, err, sizeof(err));
	unlink(tmpl);
	return ret;
}

/* The error starts with "FILE:LINE: " (line 0: "FILE: ") and says phrase. */
static bool err_at(int line, const char *phrase)
{
	char prefix[128];

	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", tmpl, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", tmpl);
	return !strncmp(err, prefix, strlen(prefix)) && strstr(err, phrase);
}

/* A file that fails on line `line` with `phrase`; every file has a device. */
#define BAD(text, line, phrase) do {					\
	int r_ = load(text);						\
	ok(r_ == -EINVAL && err_at(line, phrase),			\
	   "line %d: %s (%s)", line, phrase, err);			\
	hci_tconf_free(&conf);						\
} while (0)

/* One line alone through hci_tconf_line: its return and the conf. */
static int one(const char *line)
{
	hci_tconf_free(&conf);
	hci_tconf_defaults(&conf);
	err[0] = '\0';
	return hci_tconf_line(&conf, line, err, sizeof(err));
}

static bool near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

static const char full[] =
	"# hcithrottle, a full file\n"
	"version = 1\n"
	"interval = 0.5s            # half a second\n"
	"\tbackend=qmp\n"
	"device = loop0\n"
	"device = /dev/nvme0n1\n"
	"\n"
	"rule = /tenants/*=container\n"
	"rule = /vms/a=vm:fleet\n"
	"container = container:db p99=2ms min_iops=5000\n"
	"container = container:web*   p99=1.5x\n"
	"container = container:*  min_iops=100 p99=1500us\n"
	"vm = vm:big* floor_iops=500 floor_bps=10M\n"
	"vm = vm:* floor_bps=4096\n"
	"qmp = vm:guest1 /run/guest1.qmp drive0\n"
	"qmp =   vm:guest2\t/run/q/guest2.sock  virtio-disk1   # two\n"
	"decrease = 0.25\n"
	"increase = 1\n"
	"healthy_intervals = 7\n"
	"state = /var/lib/hcithrottle/state\n"
	"log = /var/log/hcithrottle/decisions.csv\n"
	"   # indented comment\n";

static void test_full(void)
{
	const struct hci_ttarget *t;

	is_int(load(full), 0, "full file loads (%s)", err);
	is_int(conf.interval_ms, 500, "interval 0.5s = 500 ms");
	is_int(conf.backend, HCI_BACKEND_QMP, "backend qmp");
	is_int(conf.ndevices, 2, "two devices");
	is_str(conf.devices[0], "loop0", "device by name");
	is_str(conf.devices[1], "/dev/nvme0n1", "device by /dev path, stored as given");
	is_int(conf.rules.n, 2, "two rules");
	is_str(conf.rules.v[0].pattern, "/tenants/*", "rule 1 pattern");
	is_str(conf.rules.v[0].cls, "container", "rule 1 class");
	is_str(conf.rules.v[0].name, "", "rule 1 has no fixed name");
	is_str(conf.rules.v[1].cls, "vm", "rule 2 class");
	is_str(conf.rules.v[1].name, "fleet", "rule 2 name");
	is_int(conf.ntargets, 3, "three container targets");
	is_str(conf.targets[0].pattern, "container:db", "target 1 pattern");
	ok(near(conf.targets[0].p99_us, 2000), "target 1 p99 2ms = 2000 us");
	ok(conf.targets[0].p99_rel == 0, "target 1 not relative");
	ok(near(conf.targets[0].min_iops, 5000), "target 1 min_iops 5000");
	is_str(conf.targets[1].pattern, "container:web*", "target 2 pattern");
	ok(near(conf.targets[1].p99_rel, 1.5), "target 2 p99 1.5x");
	ok(conf.targets[1].p99_us == 0 && conf.targets[1].min_iops == 0,
	   "target 2 has no absolute p99 and no min_iops");
	ok(near(conf.targets[2].p99_us, 1500) && near(conf.targets[2].min_iops, 100),
	   "target 3: attributes in any order");
	is_int(conf.nfloors, 2, "two vm floors");
	is_str(conf.floors[0].pattern, "vm:big*", "floor 1 pattern");
	ok(near(conf.floors[0].iops, 500), "floor 1 iops 500");
	ok(near(conf.floors[0].bps, 10.0 * 1024 * 1024), "floor 1 bps 10M = 10 MiB/s");
	ok(conf.floors[1].iops == 0 && near(conf.floors[1].bps, 4096),
	   "floor 2: plain bytes, no iops floor");
	is_int(conf.nqmp, 2, "two qmp lines");
	is_str(conf.qmp[0].origin, "vm:guest1", "qmp 1 origin");
	is_str(conf.qmp[0].socket, "/run/guest1.qmp", "qmp 1 socket");
	is_str(conf.qmp[0].drive, "drive0", "qmp 1 drive");
	is_str(conf.qmp[1].origin, "vm:guest2", "qmp 2 origin (tabs, extra blanks)");
	is_str(conf.qmp[1].socket, "/run/q/guest2.sock", "qmp 2 socket");
	is_str(conf.qmp[1].drive, "virtio-disk1", "qmp 2 drive, comment stripped");
	ok(near(conf.decrease, 0.25), "decrease 0.25");
	ok(near(conf.increase, 1), "increase 1 (the upper bound is allowed)");
	is_int(conf.healthy_intervals, 7, "healthy_intervals 7");
	is_str(conf.state_path, "/var/lib/hcithrottle/state", "state path");
	is_str(conf.log_path, "/var/log/hcithrottle/decisions.csv", "log path");

	t = hci_tconf_target(&conf, "container:db");
	ok(t == &conf.targets[0], "container:db -> its own target");
	t = hci_tconf_target(&conf, "container:web3");
	ok(t == &conf.targets[1], "container:web3 -> the web* target");
	t = hci_tconf_target(&conf, "container:cache");
	ok(t == &conf.targets[2], "anything else -> the catch-all");
	ok(hci_tconf_target(&conf, "vm:db") == NULL, "a vm has no container target");
	ok(hci_tconf_floor(&conf, "vm:bigone") == &conf.floors[0], "vm:bigone -> vm:big*");
	ok(hci_tconf_floor(&conf, "vm:small") == &conf.floors[1], "vm:small -> vm:*");
	ok(hci_tconf_floor(&conf, "container:bigone") == NULL, "a container has no floor");
	hci_tconf_free(&conf);
	ok(conf.rules.v == NULL && conf.rules.n == 0, "free releases the rules");
}

static void test_defaults(void)
{
	is_int(load("device = loop0\n"), 0, "a device alone is a whole config (%s)", err);
	is_int(conf.interval_ms, 200, "default interval 200 ms");
	is_int(conf.backend, HCI_BACKEND_CGROUP, "default backend cgroup");
	ok(conf.decrease == 0.5, "default decrease 0.5");
	ok(conf.increase == 0.1, "default increase 0.1");
	is_int(conf.healthy_intervals, 5, "default healthy_intervals 5");
	is_str(conf.state_path, "/run/hcithrottle/state", "default state path");
	is_str(conf.log_path, "", "no decision log by default");
	ok(conf.ntargets == 0 && conf.nfloors == 0 && conf.nqmp == 0 && conf.rules.n == 0,
	   "no targets, floors, qmp or rules by default");
	hci_tconf_free(&conf);

	is_int(load("device = sda # no newline at the end"), 0, "last line without a newline");
	is_str(conf.devices[0], "sda", "its value is read");
	hci_tconf_free(&conf);
	is_int(load("backend = none\ndevice = vda\n\n\n"), 0, "backend none");
	is_int(conf.backend, HCI_BACKEND_NONE, "backend none is kept");
	hci_tconf_free(&conf);
}

/* What the test files too big to write out are built in. */
static char big[2048];

/* head, len copies of c, then tail: a value or comment too long for its field */
static const char *long_line(const char *head, char c, size_t len, const char *tail)
{
	size_t n = (size_t)snprintf(big, sizeof(big), "%s", head);

	memset(big + n, c, len);
	snprintf(big + n + len, sizeof(big) - n - len, "%s", tail);
	return big;
}

/* head, then count lines of fmt, each with its number from 0 */
__attribute__((format(printf, 2, 0)))
static const char *many_lines(const char *head, const char *fmt, int count)
{
	int n = snprintf(big, sizeof(big), "%s", head);

	for (int i = 0; i < count; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, fmt, i);
	return big;
}

/* Files, lines and keys: the errors before any value is read. */
static void test_file_errors(void)
{
	/* the file itself */
	snprintf(tmpl, sizeof(tmpl), "/nonexistent/hcithrottle.conf");
	ok(hci_tconf_load(tmpl, &conf, err, sizeof(err)) == -ENOENT &&
	   strstr(err, "/nonexistent/hcithrottle.conf") &&
	   strstr(err, strerror(ENOENT)), "missing file: -ENOENT with strerror (%s)", err);
	hci_tconf_free(&conf);
	ok(hci_tconf_load("/tmp", &conf, err, sizeof(err)) == -EISDIR &&
	   strstr(err, "'/tmp'") && strstr(err, strerror(EISDIR)),
	   "a directory: -EISDIR (%s)", err);
	hci_tconf_free(&conf);
	BAD("", 0, "no device = line");
	BAD("# only comments\ninterval = 1s\n", 0, "no device = line");
	BAD("device = loop0\nbackend = qmp\n", 0, "backend = qmp needs at least one qmp = line");
	BAD(long_line("device = loop0\n# ", 'a', 1500, ""), 2, "line longer than");

	/* line syntax and keys */
	BAD("device = loop0\njust words\n", 2, "is not KEY = VALUE");
	BAD("device = loop0\n= 5\n", 2, "is not KEY = VALUE");
	BAD("device = loop0\n\nfrobnicate = 3\n", 3, "unknown key 'frobnicate'");
	BAD("device = loop0\nInterval = 1s\n", 2, "unknown key 'Interval'");
	BAD("device = loop0\ninterval =   # nothing\n", 2, "interval: empty value");
	BAD("interval = 1s\ndevice = loop0\ninterval = 2s\n", 3, "duplicate key 'interval'");
	BAD("device = loop0\nstate = /a\nlog = /b\nstate = /a\n", 4, "duplicate key 'state'");
	BAD("device = loop0\nversion = 1\nversion = 1\n", 3, "duplicate key 'version'");
}

static void test_value_errors(void)
{
	/* scalar values */
	BAD("version = 2\ndevice = loop0\n", 1, "unsupported version '2'");
	BAD("version = 1.0\ndevice = loop0\n", 1, "unsupported version");
	BAD("device = loop0\ninterval = 5ms\n", 2, "out of range 10ms..10s");
	BAD("device = loop0\ninterval = 11s\n", 2, "out of range 10ms..10s");
	/* a bare number could mean ms or s: refused, whatever the number */
	BAD("device = loop0\ninterval = 9\n", 2, "invalid interval '9': want a duration with its unit");
	BAD("device = loop0\ninterval = 100\n", 2, "invalid interval '100': want a duration with its unit");
	BAD("device = loop0\ninterval = 250\n", 2, "invalid interval '250'");
	BAD("device = loop0\ninterval = 1e3\n", 2, "invalid interval '1e3'");
	BAD("device = loop0\ninterval = 0.5\n", 2, "invalid interval '0.5'");
	BAD("device = loop0\ninterval = 2\n", 2, "invalid interval '2'");
	BAD("device = loop0\ninterval = 10.5ms\n", 2, "not a whole number of milliseconds");
	BAD("device = loop0\ninterval = 1m\n", 2, "invalid interval '1m'");
	BAD("device = loop0\ninterval = -1s\n", 2, "invalid interval");
	BAD("device = loop0\ninterval = nan\n", 2, "invalid interval");
	BAD("device = loop0\ninterval = 1e999\n", 2, "invalid interval");
	BAD("device = loop0\ninterval = 1 s\n", 2, "invalid interval");
	BAD("device = loop0\nbackend = blkio\n", 2, "unknown backend 'blkio'");
	BAD("device = loop0\ndecrease = 1\n", 2, "invalid decrease '1'");
	BAD("device = loop0\ndecrease = 0\n", 2, "invalid decrease");
	BAD("device = loop0\ndecrease = 0.5x\n", 2, "invalid decrease");
	BAD("device = loop0\nincrease = 0\n", 2, "invalid increase '0'");
	BAD("device = loop0\nincrease = 1.01\n", 2, "invalid increase");
	BAD("device = loop0\nhealthy_intervals = 0\n", 2, "invalid healthy_intervals '0'");
	BAD("device = loop0\nhealthy_intervals = 1001\n", 2, "want 1..1000");
	BAD("device = loop0\nhealthy_intervals = -1\n", 2, "invalid healthy_intervals");
	BAD("device = loop0\nhealthy_intervals = 99999999999999999999999\n", 2,
	    "invalid healthy_intervals");
	BAD("device = loop0\nstate = run/state\n", 2, "state 'run/state' is not an absolute path");
	BAD("device = loop0\nlog = decisions.csv\n", 2, "log 'decisions.csv' is not an absolute path");
	BAD(long_line("device = loop0\nlog = /", 'l', 300, ""), 2, "longer than 255 bytes");
}

static void test_device_errors(void)
{
	/* devices */
	BAD("device = loop0 loop1\n", 1, "no spaces");
	BAD("device = /tmp/loop0\n", 1, "want a disk name");
	BAD("device = /dev/\n", 1, "want a disk name");
	BAD("device = mapper/vg\n", 1, "want a disk name");
	BAD("device = loop0\ndevice = loop0\n", 2, "device 'loop0' given twice");
	BAD(long_line("device = ", 'd', 64, ""), 1, "longer than 63 bytes");
	is_int(load(long_line("device = ", 'd', 63, "")), 0, "a 63-byte device name fits");
	hci_tconf_free(&conf);
	BAD(many_lines("", "device = loop%d\n", HCI_TCONF_MAX + 1), HCI_TCONF_MAX + 1,
	    "too many device lines (at most 32)");
	is_int(load(many_lines("", "device = loop%d\n", HCI_TCONF_MAX)), 0,
	       "HCI_TCONF_MAX devices are fine");
	is_int(conf.ndevices, HCI_TCONF_MAX, "all of them kept");
	hci_tconf_free(&conf);

	/* rules: hci_rule_parse's messages */
	BAD("device = loop0\nrule = /x=pets\n", 2, "unknown class 'pets'");
	BAD("device = loop0\nrule = nonsense\n", 2, "is not PATTERN=CLASS[:NAME]");
}

static void test_container_errors(void)
{
	char pat[400];

	/* containers */
	BAD("device = loop0\ncontainer = vm:db p99=2ms\n", 2,
	    "container pattern 'vm:db' must be container:GLOB");
	BAD("device = loop0\ncontainer = db p99=2ms\n", 2, "must be container:GLOB");
	BAD("device = loop0\ncontainer = container: p99=2ms\n", 2, "must be container:GLOB");
	BAD("device = loop0\ncontainer = container:db\n", 2, "needs p99= and/or min_iops=");
	BAD("device = loop0\ncontainer = container:db p50=2ms\n", 2, "unknown attribute 'p50'");
	BAD("device = loop0\ncontainer = container:db p99 = 2ms\n", 2, "'p99' is not NAME=VALUE");
	BAD("device = loop0\ncontainer = container:db p99=\n", 2, "is not NAME=VALUE");
	BAD("device = loop0\ncontainer = container:db p99=2ms p99=3ms\n", 2, "p99 given twice");
	BAD("device = loop0\ncontainer = container:db min_iops=1 min_iops=2\n", 2,
	    "min_iops given twice");
	BAD("device = loop0\ncontainer = container:db p99=2\n", 2, "invalid p99 '2'");
	BAD("device = loop0\ncontainer = container:db p99=2m\n", 2, "invalid p99 '2m'");
	BAD("device = loop0\ncontainer = container:db p99=0ms\n", 2, "must be above 0");
	BAD("device = loop0\ncontainer = container:db p99=0.9x\n", 2, "below 1x");
	BAD("device = loop0\ncontainer = container:db p99=x\n", 2, "invalid p99 'x'");
	BAD("device = loop0\ncontainer = container:db p99=1.5xx\n", 2, "invalid p99");
	BAD("device = loop0\ncontainer = container:db p99=0x2x\n", 2, "invalid p99");
	BAD("device = loop0\ncontainer = container:db min_iops=-5\n", 2, "invalid min_iops '-5'");
	BAD("device = loop0\ncontainer = container:db min_iops=5k\n", 2, "invalid min_iops");
	memset(pat, 'p', sizeof(pat));
	memcpy(pat, "container:", 10);
	pat[sizeof(pat) - 1] = '\0';
	snprintf(big, sizeof(big), "device = loop0\ncontainer = %s p99=1ms\n", pat);
	BAD(big, 2, "container pattern longer than 255 bytes");
	BAD(many_lines("device = loop0\n", "container = container:c%d p99=1ms\n", HCI_TCONF_MAX + 1),
	    HCI_TCONF_MAX + 2, "too many container lines (at most 32)");
}

static void test_vm_qmp_errors(void)
{
	/* vm floors */
	BAD("device = loop0\nvm = container:x floor_iops=1\n", 2, "vm pattern 'container:x' must be vm:GLOB");
	BAD("device = loop0\nvm = vm floor_iops=1\n", 2, "must be vm:GLOB");
	BAD("device = loop0\nvm = vm:* floor=1\n", 2, "unknown attribute 'floor'");
	BAD("device = loop0\nvm = vm:* floor_bps=10T\n", 2, "invalid floor_bps '10T'");
	BAD("device = loop0\nvm = vm:* floor_bps=10MB\n", 2, "invalid floor_bps");
	BAD("device = loop0\nvm = vm:* floor_iops=ten\n", 2, "invalid floor_iops 'ten'");
	BAD("device = loop0\nvm = vm:* floor_iops=1 floor_iops=1\n", 2, "floor_iops given twice");
	BAD(many_lines("device = loop0\n", "vm = vm:v%d\n", HCI_TCONF_MAX + 1), HCI_TCONF_MAX + 2,
	    "too many vm lines (at most 32)");

	/* qmp */
	BAD("device = loop0\nqmp = vm:a /run/a.qmp\n", 2, "qmp wants exactly vm:NAME SOCKET DRIVE");
	BAD("device = loop0\nqmp = vm:a /run/a.qmp d0 extra\n", 2, "qmp wants exactly");
	BAD("device = loop0\nqmp = container:a /run/a.qmp d0\n", 2, "qmp origin 'container:a' must be vm:NAME");
	BAD("device = loop0\nqmp = vm: /run/a.qmp d0\n", 2, "must be vm:NAME");
	BAD("device = loop0\nqmp = vm:* /run/a.qmp d0\n", 2, "must name one VM");
	BAD("device = loop0\nqmp = vm:a run/a.qmp d0\n", 2, "qmp socket 'run/a.qmp' is not an absolute path");
	BAD("device = loop0\nqmp = vm:a /a d0\nqmp = vm:a /b d1\n", 3, "qmp for vm:a given twice");
	BAD(long_line("device = loop0\nqmp = vm:a /run/a.qmp ", 'q', 64, ""), 2, "qmp drive");
	BAD(long_line("device = loop0\nqmp = vm:a /", 's', 256, " d0\n"), 2, "qmp socket");
	BAD(many_lines("device = loop0\nbackend = qmp\n", "qmp = vm:g%d /q d\n", HCI_TCONF_MAX + 1),
	    HCI_TCONF_MAX + 3, "too many qmp lines (at most 32)");
}

/*
 * A container or vm line that can never apply (the first match wins) is
 * refused at its own line: the same pattern again, any line after a
 * catch-all of its class, a literal name an earlier glob matches.
 */
static void test_unreachable(void)
{
	static const struct { const char *first, *later; } never[] = {
		{ "db", "db" }, { "*", "db" }, { "*", "web*" }, { "*", "*" }, { "**", "x?" },
		{ "d*", "db" }, { "db?", "db1" }, { "[a-c]x", "bx" }, { "web*", "web*" },
	};
	static const struct { const char *first, *later; } fine[] = {
		{ "db", "db2" }, { "db", "*" }, { "d*", "?b" }, { "db?", "db12" },
		{ "web1", "web*" },
	};
	char text[256], want[200];

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		snprintf(text, sizeof(text), "device = loop0\ncontainer = container:%s p99=1ms\n"
			 "container = container:%s min_iops=5\n", never[i].first, never[i].later);
		snprintf(want, sizeof(want), "container 'container:%s' never applies: the earlier "
			 "container 'container:%s'", never[i].later, never[i].first);
		BAD(text, 3, want);
		snprintf(text, sizeof(text), "device = loop0\nvm = vm:%s floor_iops=1\n"
			 "# a comment\nvm = vm:%s floor_bps=1M\n", never[i].first, never[i].later);
		snprintf(want, sizeof(want), "vm 'vm:%s' never applies: the earlier vm 'vm:%s'",
			 never[i].later, never[i].first);
		BAD(text, 4, want);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		snprintf(text, sizeof(text), "device = loop0\ncontainer = container:%s p99=1ms\n"
			 "container = container:%s min_iops=5\nvm = vm:%s\nvm = vm:%s\n",
			 fine[i].first, fine[i].later, fine[i].first, fine[i].later);
		ok(load(text) == 0 && conf.ntargets == 2 && conf.nfloors == 2,
		   "%s then %s: both can apply, both kept (%s)", fine[i].first, fine[i].later, err);
		hci_tconf_free(&conf);
	}
	/* each class on its own: a vm line never shadows a container line */
	ok(load("device = loop0\ncontainer = container:* p99=1ms\nvm = vm:* floor_iops=1\n") == 0,
	   "container:* and vm:* do not shadow each other (%s)", err);
	hci_tconf_free(&conf);
}

/* The line of each device, for the run's "FILE:LINE: device ..." error. */
static void test_device_lines(void)
{
	ok(load("# devices\ndevice = loop0\n\ninterval = 1s\ndevice = /dev/loop1\n") == 0 &&
	   conf.ndevices == 2 && conf.device_line[0] == 2 && conf.device_line[1] == 5,
	   "device lines 2 and 5 recorded (%d, %d)", conf.device_line[0], conf.device_line[1]);
	hci_tconf_free(&conf);
}

static void test_forms(void)
{
	static const struct { const char *v; int ms; } iv[] = {
		{ "200ms", 200 }, { "1s", 1000 }, { "0.5s", 500 }, { "250ms", 250 },
		{ "10ms", 10 }, { "10s", 10000 }, { "0.3s", 300 }, { "15000us", 15 },
		{ "1e3ms", 1000 }, { ".1s", 100 },
	};
	static const struct { const char *v; double us, rel; } p99[] = {
		{ "2ms", 2000, 0 }, { "1500us", 1500, 0 }, { "0.002s", 2000, 0 },
		{ "1.5x", 0, 1.5 }, { "1x", 0, 1 }, { "0.25ms", 250, 0 }, { "3x", 0, 3 },
	};
	static const struct { const char *v; double b; } sz[] = {
		{ "0", 0 }, { "1000", 1000 }, { "1K", 1024 }, { "4k", 4096 },
		{ "10M", 10485760 }, { "1.5M", 1572864 }, { "2G", 2147483648.0 },
	};
	char line[128];

	for (size_t i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		snprintf(line, sizeof(line), "interval = %s", iv[i].v);
		ok(one(line) == 0 && conf.interval_ms == (unsigned int)iv[i].ms,
		   "interval %s = %d ms (%s)", iv[i].v, iv[i].ms, err);
	}
	for (size_t i = 0; i < sizeof(p99) / sizeof(p99[0]); i++) {
		snprintf(line, sizeof(line), "container = container:x p99=%s", p99[i].v);
		ok(one(line) == 0 && conf.ntargets == 1 &&
		   near(conf.targets[0].p99_us, p99[i].us) &&
		   near(conf.targets[0].p99_rel, p99[i].rel),
		   "p99=%s: %g us, %gx (%s)", p99[i].v, p99[i].us, p99[i].rel, err);
	}
	for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
		snprintf(line, sizeof(line), "vm = vm:x floor_bps=%s", sz[i].v);
		ok(one(line) == 0 && conf.nfloors == 1 && near(conf.floors[0].bps, sz[i].b),
		   "floor_bps=%s = %.0f bytes/s (%s)", sz[i].v, sz[i].b, err);
	}
	ok(one("container = container:x min_iops=0.5") == 0 && near(conf.targets[0].min_iops, 0.5),
	   "fractional min_iops");
	ok(one("vm = vm:x floor_iops=0") == 0 && conf.floors[0].iops == 0,
	   "floor_iops 0 (no floor)");
	ok(one("vm = vm:x") == 0 && conf.nfloors == 1 && conf.floors[0].iops == 0 &&
	   conf.floors[0].bps == 0, "a vm line without floors");

	/* hci_tconf_line alone: comments, blanks, no FILE:LINE prefix */
	is_int(one(""), 0, "empty line");
	is_int(one("   \t "), 0, "blank line");
	is_int(one("# interval = 5"), 0, "comment line");
	ok(one("interval = 20ms# tight") == 0 && conf.interval_ms == 20, "comment right after a value");
	ok(one("  interval=30ms  ") == 0 && conf.interval_ms == 30, "no blanks around '='");
	ok(one("rule = /a/*=vm") == 0 && conf.rules.n == 1 && !strcmp(conf.rules.v[0].pattern, "/a/*"),
	   "rule value keeps its own '='");
	ok(one("increase = 0.5") == 0 && conf.increase == 0.5, "increase 0.5");
	ok(one("decrease = .9") == 0 && near(conf.decrease, 0.9), "decrease .9");
	ok(one("healthy_intervals = 1000") == 0 && conf.healthy_intervals == 1000,
	   "healthy_intervals 1000");
	ok(one("version = 1") == 0, "version 1");
	ok(one("bogus = 1") == -EINVAL && !strcmp(err, "unknown key 'bogus'"),
	   "a line's error has no FILE:LINE (%s)", err);
	hci_tconf_free(&conf);
}

static void test_match(void)
{
	ok(hci_tconf_match("container:db*", "container:db1"), "container:db* ~ container:db1");
	ok(hci_tconf_match("container:db*", "container:db"), "container:db* ~ container:db");
	ok(!hci_tconf_match("container:db*", "container:web1"), "container:db* !~ container:web1");
	ok(!hci_tconf_match("container:db*", "vm:db1"), "the class must match");
	ok(!hci_tconf_match("vm:*", "vmx:a"), "the class matches exactly, not as a prefix");
	ok(!hci_tconf_match("v:*", "vm:a"), "a shorter class does not match");
	ok(hci_tconf_match("vm", "vm:guest1"), "'vm' matches every vm");
	ok(hci_tconf_match("vm:*", "vm:guest1"), "'vm:*' matches every vm");
	ok(!hci_tconf_match("vm", "container:guest1"), "'vm' matches no container");
	ok(hci_tconf_match("vm:guest1", "vm:guest1"), "an exact name");
	ok(!hci_tconf_match("vm:guest1", "vm:guest10"), "an exact name is not a prefix");
	ok(hci_tconf_match("vm:g?est[0-9]", "vm:guest7"), "? and [] globs");
	ok(hci_tconf_match("host:*", "host:/system.slice/a.service"), "'*' crosses '/' in names");
	ok(hci_tconf_match("container:a:b*", "container:a:bc"), "a ':' in the name part");
	ok(!hci_tconf_match("vm:*", "vm"), "an origin without ':' matches nothing");

	hci_tconf_defaults(&conf);
	ok(hci_tconf_target(&conf, "container:x") == NULL, "no targets: NULL");
	ok(hci_tconf_floor(&conf, "vm:x") == NULL, "no floors: NULL");
	/* globs that overlap without covering: both accepted, the first wins */
	ok(hci_tconf_line(&conf, "container = container:d* p99=9ms", err, sizeof(err)) == 0 &&
	   hci_tconf_line(&conf, "container = container:?b p99=1ms", err, sizeof(err)) == 0 &&
	   hci_tconf_line(&conf, "vm = vm:b* floor_iops=1", err, sizeof(err)) == 0 &&
	   hci_tconf_line(&conf, "vm = vm:*g floor_iops=2", err, sizeof(err)) == 0,
	   "overlapping globs accepted (%s)", err);
	ok(hci_tconf_target(&conf, "container:db") == &conf.targets[0],
	   "first match wins: container:d* before container:?b");
	ok(hci_tconf_floor(&conf, "vm:big") == &conf.floors[0],
	   "first match wins: vm:b* before vm:*g");
	hci_tconf_free(&conf);
}

int main(void)
{
	test_full();
	test_defaults();
	test_file_errors();
	test_value_errors();
	test_device_errors();
	test_container_errors();
	test_vm_qmp_errors();
	test_forms();
	test_match();
	test_unreachable();
	test_device_lines();
	return done_testing();
}
