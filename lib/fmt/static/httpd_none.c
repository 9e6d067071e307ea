// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * httpd.h for the static binaries (hcitrace-static runs inside VMs):
 * Debian ships no static libp11-kit, which libmicrohttpd's GnuTLS needs, so
 * they are linked with this file instead of httpd.c and httpd_addr.c (it
 * is outside lib/'s wildcard; the Makefile names it). --listen fails there
 * and says what to use; --prom-file works in every build.
 */
#include <errno.h>
#include <stdio.h>
#include "fmt/httpd.h"

int hci_httpd_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		   size_t errlen)
{
	(void)ss;
	(void)sslen;
	snprintf(err, errlen, "--listen %s: this static build has no HTTP server; use the "
		 "dynamic binary, or --prom-file with node_exporter's textfile collector", spec);
	return -ENOTSUP;
}

struct hci_httpd *hci_httpd_start(const char *spec, bool verbose, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	(void)verbose;
	hci_httpd_addr(spec, &ss, &len, err, errlen);
	return NULL;
}

int hci_httpd_publish(struct hci_httpd *h, const char *text, size_t len)
{
	(void)h;
	(void)text;
	(void)len;
	return -ENOTSUP;
}

const char *hci_httpd_where(const struct hci_httpd *h)
{
	(void)h;
	return "";
}

unsigned int hci_httpd_port(const struct hci_httpd *h)
{
	(void)h;
	return 0;
}

void hci_httpd_counts(struct hci_httpd *h, unsigned long *served, unsigned long *refused)
{
	(void)h;
	*served = *refused = 0;
}

unsigned long hci_httpd_cut(struct hci_httpd *h)
{
	(void)h;
	return 0;
}

void hci_httpd_stop(struct hci_httpd *h)
{
	(void)h;
}
