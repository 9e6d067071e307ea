/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One command-line convention for every program and subcommand.
 *
 * 1. Subcommands come from a table, as bpftool's cmd_select() does: a
 *    struct hci_cmd array ended by { NULL }, each entry a name, the
 *    function that runs it (argv[0] is the command word) and a one-line
 *    doc. hci_cmd_select() runs the one argv[0] names; hci_cmd_names()
 *    writes "run, status or reset" for messages, hci_cmd_list() the
 *    command list for a help text.
 * 2. Information requests are answered the same way everywhere, and exit 0:
 *    -h/--help (and the word "help" where a command may stand), --usage and
 *    -V/--version. An argp parser puts HCI_ARGP_INFO_OPTIONS in its options
 *    and calls hci_argp_info() on keys it does not take itself;
 *    hci_info_word() classifies a bare word.
 *    A program defines argp_program_version; argp_program_bug_address, the
 *    same for all, is defined in cmd.c.
 * 3. Parsers return, they never exit: argp_parse() runs with ARGP_NO_EXIT
 *    (and ARGP_NO_HELP when HCI_ARGP_INFO_OPTIONS supplies -h), and a parse
 *    function returns 0 (go on), HCI_PARSE_INFO (help or version printed:
 *    exit 0) or -errno with a message in the caller's err buffer. The
 *    caller, in main(), ends with hci_parse_exit(): "Error: <message>" on
 *    stderr and exit status 2. A program whose messages were argp_error()'s
 *    keeps them byte for byte with hci_usage_error() ("PROG: message" and
 *    argp's "Try `PROG --help' or `PROG --usage'" line), still called by
 *    the caller, still exit 2.
 * Library code below main() never exits either (lib/ is shared by a daemon).
 */
#ifndef HCI_CORE_CMD_H
#define HCI_CORE_CMD_H
#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct hci_cmd {
	const char *name;
	int (*run)(int argc, char **argv, void *ctx);
	const char *doc;	/* one line, for hci_cmd_list() */
};

/* what a parser returns when it printed help, usage or the version */
#define HCI_PARSE_INFO 1
/* the argp key of --usage (-h and -V are their letters) */
#define HCI_OPT_USAGE 0x7f01

/* -h/--help, --usage, -V/--version, in argp's last group (-1) */
#define HCI_ARGP_INFO_OPTIONS						\
	{ "help", 'h', NULL, 0, "Show this help", -1 },			\
	{ "usage", HCI_OPT_USAGE, NULL, 0, "Show a short usage message", -1 }, \
	{ "version", 'V', NULL, 0, "Show the version and format versions", -1 }

enum hci_info {
	HCI_INFO_NONE,
	HCI_INFO_HELP,		/* help, -h, --help */
	HCI_INFO_USAGE,		/* --usage */
	HCI_INFO_VERSION,	/* -V, --version */
};

enum hci_info hci_info_word(const char *word);
/*
 * An argp parser's first call: when key is -h, --usage or -V, print the
 * answer on stdout (the version is argp_program_version), set *status to
 * HCI_PARSE_INFO and return true.
 */
bool hci_argp_info(int key, struct argp_state *state, int *status);

const struct hci_cmd *hci_cmd_find(const struct hci_cmd *cmds, const char *name);
/*
 * Run the command argv[0] names with (argc, argv, ctx) and return its
 * status; -ENOENT with "unknown command 'x': want a, b or c" in err, or
 * -EINVAL with "a command is needed: a, b or c" when argc is 0.
 */
int hci_cmd_select(const struct hci_cmd *cmds, int argc, char **argv, void *ctx,
		   char *err, size_t errlen);
/* "a", "a or b", "a, b or c": the table's names, for messages */
void hci_cmd_names(const struct hci_cmd *cmds, char *buf, size_t len);
/* "  NAME     doc" per command, for a help text */
void hci_cmd_list(FILE *f, const struct hci_cmd *cmds);

/*
 * main()'s end of a parse that did not return 0: prints "Error: err" for
 * rc < 0 (when err says something) and returns the exit status: 0 after
 * HCI_PARSE_INFO (any rc > 0), else 2.
 */
int hci_parse_exit(int rc, const char *err);
/*
 * argp_error()'s two lines, for programs whose messages were argp's: argp
 * prints them, so the "Try ..." line wraps as argp wraps it.
 */
void hci_usage_error(FILE *f, const char *prog, const char *msg);
#endif
