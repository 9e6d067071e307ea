// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Argument parsing: positional interval/count, "--", and errors. */
#include <string.h>
#include "tap.h"
#include "core/cmd.h"
#include "trace/options.h"

#define ARGV(...) ((char *[]){ "hcitrace", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "hcitrace", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) hci_env_parse(&env, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), err, sizeof(err))

int main(void)
{
	struct hci_env env;
	char err[256];

	is_int(PARSE("2", "5"), 0, "interval and count");
	is_int(env.interval, 2, "interval 2");
	is_int(env.count, 5, "count 5");
	hci_env_free(&env);
	char *argv[] = { "hcitrace", "-d", "loop0", "--csv", "x.csv", "--", "fio", "--name=a", NULL };

	is_int(hci_env_parse(&env, 8, argv, err, sizeof(err)), 0, "-- COMMAND");
	is_str(env.cmd[0], "fio", "command starts after --");
	is_str(env.cmd[1], "--name=a", "command options are not ours");
	is_str(env.disk, "loop0", "-d before --");
	hci_env_free(&env);
	is_int(PARSE("--duration", "0.5", "-vv"), 0, "fractional duration, -vv");
	ok(env.duration == 0.5 && env.verbose == 2, "duration 0.5, verbose 2");
	hci_env_free(&env);
	ok(PARSE("--duration", "nan") < 0, "nan duration refused");
	hci_env_free(&env);
	ok(PARSE("9999999999999999999") < 0 && strstr(err, "invalid interval"), "overflow refused: %s", err);
	hci_env_free(&env);
	ok(PARSE("1", "-1") < 0, "negative count refused");
	hci_env_free(&env);
	ok(PARSE("--slots", "4096") == 0 && env.slots == 4096, "--slots power of two");
	hci_env_free(&env);
	ok(PARSE("--origin", "container:abc") == 0, "--origin class:name");
	hci_env_free(&env);
	ok(PARSE("--rule", "/a=vm", "--rule", "/b=host:x") == 0 && env.rules.n == 2, "two rules");
	hci_env_free(&env);
	/* issue 11: a rule aligned with spaces, as the docs show it */
	ok(PARSE("--rule", "/tenants/*           = container") == 0 && env.rules.n == 1 &&
	   !strcmp(env.rules.v[0].pattern, "/tenants/*") && !strcmp(env.rules.v[0].cls, "container"),
	   "--rule with spaces around '=' (%s)", err);
	hci_env_free(&env);

	/* issue 11: what argp's errors point to ("Try ... --usage") works */
	is_int(PARSE("--usage"), 1, "--usage is printed, exit 0");
	hci_env_free(&env);
	is_int(PARSE("--version"), 1, "--version is printed, exit 0");
	hci_env_free(&env);
	/* issue 12: the info options of core/cmd.h, short forms too */
	is_int(PARSE("-V"), HCI_PARSE_INFO, "-V is printed, exit 0");
	hci_env_free(&env);
	is_int(PARSE("-h"), HCI_PARSE_INFO, "-h is printed, exit 0");
	hci_env_free(&env);
	ok(PARSE("--bogus") < 0 && strstr(err, "try --help"), "an unknown option is an error: %s",
	   err);
	hci_env_free(&env);
	{
		struct hci_guest_env genv;
		char *gv[] = { "hcitrace guest", "--version", NULL };
		char *gu[] = { "hcitrace guest", "--usage", NULL };
		char *gh[] = { "hcitrace guest", "--help", NULL };

		is_int(hci_guest_env_parse(&genv, 2, gv, err, sizeof(err)), 1,
		       "guest --version is printed, exit 0");
		is_int(hci_guest_env_parse(&genv, 2, gu, err, sizeof(err)), 1,
		       "guest --usage is printed, exit 0");
		is_int(hci_guest_env_parse(&genv, 2, gh, err, sizeof(err)), 1,
		       "guest --help is printed, exit 0");
		char *gV[] = { "hcitrace guest", "-V", NULL };

		is_int(hci_guest_env_parse(&genv, 2, gV, err, sizeof(err)), HCI_PARSE_INFO,
		       "guest -V is printed, exit 0");
	}
	return done_testing();
}
