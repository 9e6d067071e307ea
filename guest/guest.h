/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef HCI_GUEST_H
#define HCI_GUEST_H
/* hcitrace guest ...: argv[0] is "guest". Returns the exit status. */
int hci_guest_main(int argc, char **argv);
#endif
