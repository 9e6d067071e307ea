// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command table and the help/usage/version/error rules of cmd.h. */
#include <errno.h>
#include <string.h>
#include "cmd.h"
#include "log.h"

/* every program's --help ends with it; each program names its own version */
const char *argp_program_bug_address = "https://github.com/hcikit/hcikit/issues";

enum hci_info hci_info_word(const char *word)
{
	if (!word)
		return HCI_INFO_NONE;
	if (!strcmp(word, "help") || !strcmp(word, "-h") || !strcmp(word, "--help"))
		return HCI_INFO_HELP;
	if (!strcmp(word, "--usage"))
		return HCI_INFO_USAGE;
	if (!strcmp(word, "-V") || !strcmp(word, "--version"))
		return HCI_INFO_VERSION;
	return HCI_INFO_NONE;
}

bool hci_argp_info(int key, struct argp_state *state, int *status)
{
	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case HCI_OPT_USAGE:
		argp_state_help(state, stdout, ARGP_HELP_USAGE);
		break;
	case 'V':
		printf("%s\n", argp_program_version);
		break;
	default:
		return false;
	}
	*status = HCI_PARSE_INFO;
	return true;
}

const struct hci_cmd *hci_cmd_find(const struct hci_cmd *cmds, const char *name)
{
	for (; name && cmds->name; cmds++)
		if (!strcmp(cmds->name, name))
			return cmds;
	return NULL;
}

void hci_cmd_names(const struct hci_cmd *cmds, char *buf, size_t len)
{
	size_t n = 0, off = 0;

	while (cmds[n].name)
		n++;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		const char *sep = !i ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(buf + off, len - off, "%s%s", sep, cmds[i].name);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

int hci_cmd_select(const struct hci_cmd *cmds, int argc, char **argv, void *ctx,
		   char *err, size_t errlen)
{
	const struct hci_cmd *c = argc > 0 ? hci_cmd_find(cmds, argv[0]) : NULL;
	char names[256];

	if (c)
		return c->run(argc, argv, ctx);
	hci_cmd_names(cmds, names, sizeof(names));
	if (argc <= 0) {
		snprintf(err, errlen, "a command is needed: %s", names);
		return -EINVAL;
	}
	snprintf(err, errlen, "unknown command '%s': want %s", argv[0], names);
	return -ENOENT;
}

void hci_cmd_list(FILE *f, const struct hci_cmd *cmds)
{
	for (; cmds->name; cmds++)
		fprintf(f, "  %-8s %s\n", cmds->name, cmds->doc ? cmds->doc : "");
}

int hci_parse_exit(int rc, const char *err)
{
	if (rc > 0)
		return 0;	/* HCI_PARSE_INFO */
	if (rc < 0 && err && err[0])
		hci_errorf("%s", err);
	return 2;
}

/*
 * argp_error() itself prints, on a state that holds only what it reads: the
 * name, the stream and ARGP_NO_EXIT. Its "Try ..." line is wrapped by argp's
 * formatter (at 79 columns, or as ARGP_HELP_FMT says), which a printf of our
 * own would match only for short names.
 */
void hci_usage_error(FILE *f, const char *prog, const char *msg)
{
	static const struct argp no_options = { 0 };
	struct argp_state state = {
		.root_argp = &no_options,
		.flags = ARGP_NO_EXIT,
		.name = (char *)prog,
		.err_stream = f,
		.out_stream = f,
	};

	argp_error(&state, "%s", msg);
}
