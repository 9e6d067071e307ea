// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --listen's ADDR:PORT (httpd.h): apart from the server, so the static
 * builds, which have no server, still parse and check it the same way.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "httpd.h"

/* @s as a port, 0..65535, all of it digits */
static int parse_port(const char *s, unsigned short *port)
{
	char *end;
	long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

/* split @spec into host (NULL: localhost) and port; brackets around IPv6 */
static int split(char *spec, char **host, char **port)
{
	char *colon;

	if (spec[0] == '[') {
		char *close = strchr(spec, ']');

		if (!close || close[1] != ':')
			return -1;
		*close = '\0';
		*host = spec + 1;
		*port = close + 2;
		return 0;
	}
	colon = strrchr(spec, ':');
	if (!colon) {
		*host = NULL;
		*port = spec;
		return 0;
	}
	if (strchr(spec, ':') != colon)
		return -1;	/* a bare IPv6 address: its port is ambiguous */
	*colon = '\0';
	*host = colon == spec ? NULL : spec;
	*port = colon + 1;
	return 0;
}

int hci_httpd_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		   size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char *copy = strdup(spec ? spec : ""), *host, *port_s;
	unsigned short port;
	int rc;

	if (!copy)
		return -ENOMEM;
	if (split(copy, &host, &port_s) || parse_port(port_s, &port)) {
		snprintf(err, errlen, "--listen %s: give ADDR:PORT, :PORT or PORT "
			 "(an IPv6 address in brackets, [::1]:9100)", spec);
		free(copy);
		return -EINVAL;
	}
	rc = getaddrinfo(host ? host : "127.0.0.1", NULL, &hints, &ai);
	if (rc || !ai) {
		snprintf(err, errlen, "--listen %s: %s: %s", spec, host,
			 rc ? gai_strerror(rc) : "no address");
		free(copy);
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	freeaddrinfo(ai);
	free(copy);
	return 0;
}
