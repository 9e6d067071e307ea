/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Messages to the user: "Error: ..." on stderr (bpftool's style), and the
 * verbosity that -v sets for every program (libbpf's log follows it).
 */
#ifndef HCI_CORE_LOG_H
#define HCI_CORE_LOG_H

void hci_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hci_set_verbosity(int v);
int hci_verbosity(void);
#endif
