// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The user-facing error line and the process-wide verbosity (-v). */
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static int verbosity;

void hci_set_verbosity(int v)
{
	verbosity = v;
}

int hci_verbosity(void)
{
	return verbosity;
}

void hci_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
