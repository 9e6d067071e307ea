// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The stop flag every program's loop polls, and the handler that sets it. */
#include <signal.h>
#include "signals.h"

volatile sig_atomic_t hci_exiting;

void hci_on_stop_signal(int sig)
{
	if (hci_exiting) {
		/* a second Ctrl-C means "now" */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	hci_exiting = sig;
}

void hci_stop_on_signals(void)
{
	signal(SIGINT, hci_on_stop_signal);
	signal(SIGTERM, hci_on_stop_signal);
}
