// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The /metrics server on libmicrohttpd (httpd.h says what it promises).
 *
 * libmicrohttpd runs one internal thread over epoll: a connection that
 * trickles its request costs that thread a wakeup per byte, not a blocked
 * read, so one slowloris does not stall other scrapes, and none of it
 * touches the program's loop. The text in force is a reference-counted
 * copy: a response streams from it (MHD_create_response_from_callback) and
 * drops it when done, so publishing never waits for a reader.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "httpd.h"

struct text {
	atomic_uint refs;
	size_t len;
	char buf[];
};

/* one open connection, and when its request must be answered by */
struct conn {
	struct conn *prev, *next;
	int fd;
	bool cut;
	double deadline;	/* CLOCK_MONOTONIC seconds */
};

struct hci_httpd {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	struct text *cur;	/* under lock; NULL until the first publish */
	struct conn conns;	/* under lock: the list's head */
	atomic_ulong served, refused, cut;
	bool verbose;
	char where[80];
};

static void text_put(struct text *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1)
		free(t);
}

static ssize_t text_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	const struct text *t = cls;
	size_t n;

	if (pos >= t->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = t->len - (size_t)pos < max ? t->len - (size_t)pos : max;
	memcpy(buf, t->buf + pos, n);
	return (ssize_t)n;
}

static void text_free(void *cls)
{
	text_put(cls);
}

/* a short plain-text answer for what is not served */
static enum MHD_Result refuse(struct hci_httpd *h, struct MHD_Connection *c,
			      unsigned int status, const char *msg)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	atomic_fetch_add(&h->refused, 1);
	r = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_GET);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **req_cls)
{
	struct hci_httpd *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct text *t;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_cls;
	if (strcmp(url, "/metrics"))
		return refuse(h, c, MHD_HTTP_NOT_FOUND, "Not found: only /metrics is served\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return refuse(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET is served\n");
	pthread_mutex_lock(&h->lock);
	t = h->cur;
	if (t)
		atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&h->lock);
	if (!t)
		return refuse(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "No metrics yet\n");
	r = MHD_create_response_from_callback(t->len, 64 * 1024, text_read, t, text_free);
	if (!r) {
		text_put(t);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HCI_HTTPD_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		atomic_fetch_add(&h->served, 1);
	return ret;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A connection's start and end, on libmicrohttpd's thread: the list the
 * publisher sweeps. libmicrohttpd says CLOSED before it closes the socket,
 * so no fd in the list has been closed, let alone reused.
 */
static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct hci_httpd *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c = *socket_ctx;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return;		/* unwatched: only the idle timeout applies */
		c->fd = ci->connect_fd;
		c->deadline = mono_s() + HCI_HTTPD_REQUEST_S;
		pthread_mutex_lock(&h->lock);
		c->next = h->conns.next;
		c->prev = &h->conns;
		h->conns.next->prev = c;
		h->conns.next = c;
		pthread_mutex_unlock(&h->lock);
		*socket_ctx = c;
	} else if (c) {
		pthread_mutex_lock(&h->lock);
		c->prev->next = c->next;
		c->next->prev = c->prev;
		pthread_mutex_unlock(&h->lock);
		free(c);
		*socket_ctx = NULL;
	}
}

/* an answer sent: the connection's next request gets its own time */
static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct hci_httpd *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	(void)req_cls;
	(void)toe;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = ci ? ci->socket_context : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&h->lock);
	c->deadline = mono_s() + HCI_HTTPD_REQUEST_S;
	pthread_mutex_unlock(&h->lock);
}

/* under h->lock: connections past their deadline, shut down (not closed) */
static void sweep(struct hci_httpd *h)
{
	double now = mono_s();

	for (struct conn *c = h->conns.next; c != &h->conns; c = c->next) {
		if (c->cut || now < c->deadline)
			continue;
		shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
		atomic_fetch_add(&h->cut, 1);
	}
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	const struct hci_httpd *h = cls;

	if (!h->verbose)
		return;
	fprintf(stderr, "httpd: ");
	vfprintf(stderr, fmt, ap);
}

/* "ADDR:PORT" of what was bound (the port asked for may have been 0) */
static void name_where(struct hci_httpd *h, const struct sockaddr_storage *ss, socklen_t len)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	char host[64] = "?";

	getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), NULL, 0,
		    NI_NUMERICHOST);
	snprintf(h->where, sizeof(h->where), ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, di ? (unsigned int)di->port : 0);
}

static struct MHD_Daemon *start_daemon(struct hci_httpd *h, struct sockaddr_storage *ss)
{
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;
	sigset_t all, old;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the thread inherits this mask: signals go to the program's loop */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HCI_HTTPD_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HCI_HTTPD_MAX_CONNS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HCI_HTTPD_MAX_PER_IP,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
			     MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
			     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

struct hci_httpd *hci_httpd_start(const char *spec, bool verbose, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct hci_httpd *h;
	socklen_t len;

	if (hci_httpd_addr(spec, &ss, &len, err, errlen))
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "--listen: out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->conns.next = h->conns.prev = &h->conns;
	h->verbose = verbose;
	errno = 0;
	h->d = start_daemon(h, &ss);
	if (!h->d) {
		snprintf(err, errlen, "--listen %s: cannot serve there%s%s (in use, or not "
			 "an address of this host?)", spec, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	name_where(h, &ss, len);
	return h;
}

int hci_httpd_publish(struct hci_httpd *h, const char *text, size_t len)
{
	struct text *t = malloc(sizeof(*t) + len), *old;

	if (!t)
		return -ENOMEM;
	atomic_init(&t->refs, 1);
	t->len = len;
	memcpy(t->buf, text, len);
	pthread_mutex_lock(&h->lock);
	old = h->cur;
	h->cur = t;
	sweep(h);
	pthread_mutex_unlock(&h->lock);
	text_put(old);
	return 0;
}

const char *hci_httpd_where(const struct hci_httpd *h)
{
	return h->where;
}

unsigned int hci_httpd_port(const struct hci_httpd *h)
{
	const char *colon = strrchr(h->where, ':');

	return colon ? (unsigned int)strtoul(colon + 1, NULL, 10) : 0;
}

void hci_httpd_counts(struct hci_httpd *h, unsigned long *served, unsigned long *refused)
{
	*served = atomic_load(&h->served);
	*refused = atomic_load(&h->refused);
}

unsigned long hci_httpd_cut(struct hci_httpd *h)
{
	return atomic_load(&h->cut);
}

void hci_httpd_stop(struct hci_httpd *h)
{
	if (!h)
		return;
	/* joins the thread; the responses it still held drop their texts */
	MHD_stop_daemon(h->d);
	text_put(h->cur);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
