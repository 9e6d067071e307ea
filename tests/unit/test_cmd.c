// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for lib/core/cmd.c: the command table and the exit rules. */
#include <errno.h>
#include <stdlib.h>
#include "core/cmd.h"
#include "tap.h"

/* printed by -V: a TAP comment, so it does not disturb the plan */
const char *argp_program_version = "# hcitest 1.0";

static int ran_argc;
static const char *ran_name;

static int cmd_fake(int argc, char **argv, void *ctx)
{
	ran_argc = argc;
	ran_name = argv[0];
	return *(int *)ctx;
}

static const struct hci_cmd cmds[] = {
	{ "run", cmd_fake, "the service" },
	{ "status", cmd_fake, "what runs" },
	{ "reset", cmd_fake, "remove limits" },
	{ NULL },
};

static void test_select(void)
{
	char err[128], *argv[] = { "status", "-v", NULL };
	int want = 7;

	is_int(hci_cmd_select(cmds, 2, argv, &want, err, sizeof(err)), 7, "runs the command");
	is_str(ran_name, "status", "with argv[0] the command word");
	is_int(ran_argc, 2, "and its arguments");
	argv[0] = "stop";
	is_int(hci_cmd_select(cmds, 2, argv, &want, err, sizeof(err)), -ENOENT, "unknown");
	is_str(err, "unknown command 'stop': want run, status or reset", "says which exist");
	is_int(hci_cmd_select(cmds, 0, argv, &want, err, sizeof(err)), -EINVAL, "none");
	is_str(err, "a command is needed: run, status or reset", "asks for one");
	ok(hci_cmd_find(cmds, "reset") == &cmds[2], "find");
	ok(!hci_cmd_find(cmds, NULL), "find NULL");
}

static void test_names(void)
{
	const struct hci_cmd one[] = { { "guest", cmd_fake, NULL }, { NULL } };
	const struct hci_cmd two[] = { { "a", cmd_fake, NULL }, { "b", cmd_fake, NULL }, { NULL } };
	char buf[64], tiny[8];

	hci_cmd_names(one, buf, sizeof(buf));
	is_str(buf, "guest", "one name");
	hci_cmd_names(two, buf, sizeof(buf));
	is_str(buf, "a or b", "two names");
	hci_cmd_names(cmds, tiny, sizeof(tiny));
	is_str(tiny, "run, st", "truncated, still a string");
}

static void test_list(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	hci_cmd_list(f, cmds);
	fclose(f);
	is_str(buf, "  run      the service\n  status   what runs\n  reset    remove limits\n",
	       "command list");
	free(buf);
}

static void test_info(void)
{
	is_int(hci_info_word("help"), HCI_INFO_HELP, "help");
	is_int(hci_info_word("-h"), HCI_INFO_HELP, "-h");
	is_int(hci_info_word("--help"), HCI_INFO_HELP, "--help");
	is_int(hci_info_word("--usage"), HCI_INFO_USAGE, "--usage");
	is_int(hci_info_word("-V"), HCI_INFO_VERSION, "-V");
	is_int(hci_info_word("--version"), HCI_INFO_VERSION, "--version");
	is_int(hci_info_word("run"), HCI_INFO_NONE, "a command is not");
	is_int(hci_info_word(NULL), HCI_INFO_NONE, "nothing is not");
	is_int(hci_parse_exit(HCI_PARSE_INFO, ""), 0, "help exits 0");
	is_int(hci_parse_exit(-EINVAL, ""), 2, "an error exits 2");
}

struct pstate {
	int status;
	FILE *err;
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct pstate *ps = state->input;

	(void)arg;
	if (key == ARGP_KEY_INIT)
		state->err_stream = ps->err;
	if (hci_argp_info(key, state, &ps->status))
		return 0;
	if (key == 'x') {
		argp_error(state, "bad -x");
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_option test_opts[] = {
	{ "x", 'x', NULL, 0, "fail", 0 },
	HCI_ARGP_INFO_OPTIONS,
	{ 0 },
};
static const struct argp test_argp_def = { .options = test_opts, .parser = parse_opt };

/* hci_usage_error() must print what argp_error() prints for prog, byte for byte */
static void usage_error_is_argp_error(char *prog, const char *what)
{
	char *argv[] = { prog, "-x", NULL }, *got = NULL, *want = NULL;
	size_t glen = 0, wlen = 0;
	struct pstate ps = { .err = open_memstream(&got, &glen) };
	FILE *w = open_memstream(&want, &wlen);
	error_t e;

	e = argp_parse(&test_argp_def, 2, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, &ps);
	fclose(ps.err);
	hci_usage_error(w, prog, "bad -x");
	fclose(w);
	is_int(e, EINVAL, "argp_parse returns the parser's error");
	is_str(want, got, what);
	free(got);
	free(want);
}

static void test_argp(void)
{
	char *argv[] = { "prog sub", "-V", NULL };
	struct pstate ps = { .err = stderr };
	error_t e;

	usage_error_is_argp_error("prog sub", "hci_usage_error is argp_error's text");
	/* 2 x 31 characters of name: argp wraps the "Try ..." line */
	usage_error_is_argp_error("hcithrottle a-long-command-name",
				  "... with a name long enough for argp to wrap");
	e = argp_parse(&test_argp_def, 2, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, &ps);
	is_int(e, 0, "-V parses");
	is_int(ps.status, HCI_PARSE_INFO, "-V is an information request");
}

int main(void)
{
	test_select();
	test_names();
	test_list();
	test_info();
	test_argp();
	return done_testing();
}
