/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hcitrace report FILE (report_file.c): a record file, read back. */
#ifndef HCI_REPORT_FILE_H
#define HCI_REPORT_FILE_H
/* The subcommand (argv[0] is "report"); its exit status */
int cmd_report(int argc, char **argv, void *ctx);
#endif
