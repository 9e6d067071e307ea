/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * SIGINT/SIGTERM: the first asks to stop (hci_exiting = the signal), a
 * second one means now (the default action). hci_stop_on_signals installs it.
 */
#ifndef HCI_CORE_SIGNALS_H
#define HCI_CORE_SIGNALS_H
#include <signal.h>

extern volatile sig_atomic_t hci_exiting;
void hci_on_stop_signal(int sig);
void hci_stop_on_signals(void);
#endif
