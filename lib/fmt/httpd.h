/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The /metrics endpoint: libmicrohttpd in its own thread, serving the last
 * text the program published and nothing else.
 *
 * The program's loop builds a whole scrape (lib/fmt/prom.h) and publishes
 * it; publishing copies the text and swaps one pointer under a mutex, and a
 * request takes a reference to the text in force under the same mutex, so
 * the loop never waits for a client, however slow, and a client always
 * reads one complete text. Only GET /metrics is served (404 for any other
 * path, 405 for another method on /metrics).
 *
 * A slow or hostile client costs a slot for a while, never the loop's
 * time: at most HCI_HTTPD_MAX_CONNS connections are open at once, and
 * HCI_HTTPD_MAX_PER_IP from one address (more are refused at accept); one
 * that sends or reads nothing for HCI_HTTPD_TIMEOUT_S is closed; and each
 * request has HCI_HTTPD_REQUEST_S from the connection's start (or its last
 * answer's end) to its own answer's end, after which the next publish cuts
 * the connection. That last bound is what stops a slowloris, which sends a
 * byte every second and so is never idle.
 *
 * The thread blocks every signal: SIGINT and SIGTERM reach the loop.
 * The static binaries are built without libmicrohttpd: there
 * hci_httpd_start fails and says so (httpd_none.c).
 */
#ifndef HCI_FMT_HTTPD_H
#define HCI_FMT_HTTPD_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define HCI_HTTPD_TIMEOUT_S 5
#define HCI_HTTPD_REQUEST_S 10
#define HCI_HTTPD_MAX_CONNS 16
#define HCI_HTTPD_MAX_PER_IP 8
#define HCI_HTTPD_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct hci_httpd;

/*
 * ADDR:PORT as --listen takes it: "PORT" and ":PORT" are 127.0.0.1, an
 * IPv6 address goes in brackets ("[::1]:9100"), a host name is resolved.
 * PORT 0 picks a free port (hci_httpd_where says which).
 */
int hci_httpd_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		   size_t errlen);

/* Listening on @spec, or NULL with @err saying why. */
struct hci_httpd *hci_httpd_start(const char *spec, bool verbose, char *err, size_t errlen);
/*
 * The text served from now on (copied); -ENOMEM keeps the one before.
 * Also cuts the connections past their HCI_HTTPD_REQUEST_S (a shutdown()
 * each, which does not wait).
 */
int hci_httpd_publish(struct hci_httpd *h, const char *text, size_t len);
/* "127.0.0.1:9100": the address and the port bound */
const char *hci_httpd_where(const struct hci_httpd *h);
unsigned int hci_httpd_port(const struct hci_httpd *h);
/* scrapes answered with the text (200), and other requests (404, 405, 503) */
void hci_httpd_counts(struct hci_httpd *h, unsigned long *served, unsigned long *refused);
/* connections cut for taking longer than HCI_HTTPD_REQUEST_S */
unsigned long hci_httpd_cut(struct hci_httpd *h);
/* Closes every connection and ends the thread; NULL is fine. */
void hci_httpd_stop(struct hci_httpd *h);
#endif
