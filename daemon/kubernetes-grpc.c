// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gRPC over HTTP/2 on unix sockets with nghttp2, in passthrud's loop (see kubernetes-grpc.h).
 * Both sides use one connection type: the server's connections carry many calls, a client's
 * carries its one call. nghttp2 callbacks never free a connection: they mark it dead, and the
 * I/O handler frees it when nghttp2 has returned.
 */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "kubernetes-grpc.h"

struct conn;

struct grpc_call {
	struct conn *conn;
	struct grpc_call *next;
	int32_t id;
	char *path;
	uint8_t *in; /* the DATA received */
	size_t n_in;
	bool in_too_big, handled;
	uint8_t *out; /* DATA to send: out[out_at..n_out) */
	size_t n_out, out_at;
	bool out_eof;	    /* nothing comes after out */
	bool submitted;	    /* HEADERS and the data provider are submitted */
	bool deferred;	    /* the provider said DEFERRED: resume it */
	bool send_trailers; /* server: grpc-status after the data */
	int trailer_status;
	char *trailer_message;
	/* client: the answer's status */
	bool got_status;
	int status;
	char *message;
};

struct conn {
	struct conn *next;
	struct grpc_server *server; /* NULL on a client's connection */
	struct grpc_client *client;
	int fd;
	sd_event_source *io;
	nghttp2_session *session;
	struct grpc_call *calls;
	bool in_recv, dead;
};

struct grpc_server {
	sd_event *event;
	int fd;
	sd_event_source *accept_source;
	grpc_handler_fn handler;
	grpc_call_closed_fn closed;
	void *userdata;
	struct conn *conns;
};

struct grpc_client {
	struct conn *conn;
	sd_event_source *timer;
	grpc_client_message_fn each; /* a server stream: each message as it comes */
	grpc_client_done_fn done;
	void *userdata;
	bool finished;
};

#define NV(n, v, vlen)                                                                             \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vlen), NGHTTP2_NV_FLAG_NONE        \
	}

static void call_free(struct grpc_call *c)
{
	free(c->path);
	free(c->in);
	free(c->out);
	free(c->trailer_message);
	free(c->message);
	free(c);
}

static struct grpc_call *conn_find(struct conn *conn, int32_t id)
{
	for (struct grpc_call *c = conn->calls; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void conn_unlink_call(struct conn *conn, struct grpc_call *call)
{
	for (struct grpc_call **p = &conn->calls; *p; p = &(*p)->next)
		if (*p == call) {
			*p = call->next;
			return;
		}
}

/* Appends one framed message (flag 0, big-endian length) to the call's output. */
static int call_append(struct grpc_call *c, const uint8_t *msg, size_t len)
{
	uint8_t *v;

	if (len > GRPC_MESSAGE_MAX)
		return -EMSGSIZE;
	if (c->out_at == c->n_out)
		c->out_at = c->n_out = 0;
	v = realloc(c->out, c->n_out + 5 + len);
	if (!v)
		return -ENOMEM;
	c->out = v;
	v += c->n_out;
	v[0] = 0;
	v[1] = (uint8_t)(len >> 24);
	v[2] = (uint8_t)(len >> 16);
	v[3] = (uint8_t)(len >> 8);
	v[4] = (uint8_t)len;
	if (len)
		memcpy(v + 5, msg, len);
	c->n_out += 5 + len;
	return 0;
}

/* grpc-message is percent-encoded: everything but printable ASCII other than '%'. */
static char *percent_encode(const char *s)
{
	char *e = malloc(strlen(s) * 3 + 1), *p = e;

	if (!e)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch < 0x7f && ch != '%')
			*p++ = (char)ch;
		else
			p += sprintf(p, "%%%02X", ch);
	}
	*p = '\0';
	return e;
}

static void submit_trailers(nghttp2_session *session, struct grpc_call *c)
{
	char status[16];
	nghttp2_nv nv[2];
	size_t n = 0;

	snprintf(status, sizeof(status), "%d", c->trailer_status);
	nv[n++] = (nghttp2_nv)NV("grpc-status", status, strlen(status));
	if (c->trailer_message)
		nv[n++] =
		    (nghttp2_nv)NV("grpc-message", c->trailer_message, strlen(c->trailer_message));
	nghttp2_submit_trailer(session, c->id, nv, n);
}

static ssize_t data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	struct grpc_call *c = source->ptr;
	size_t left = c->n_out - c->out_at, n = left < length ? left : length;

	if (n) {
		memcpy(buf, c->out + c->out_at, n);
		c->out_at += n;
	}
	if (c->out_at < c->n_out)
		return (ssize_t)n;
	if (!c->out_eof) {
		if (n)
			return (ssize_t)n;
		c->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	*flags |= NGHTTP2_DATA_FLAG_EOF;
	if (c->send_trailers) {
		*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		submit_trailers(session, c);
	}
	return (ssize_t)n;
}

static void conn_flush(struct conn *conn);

/* The server's answer HEADERS with the data provider, once. */
static int call_submit(struct grpc_call *c)
{
	nghttp2_nv nv[] = {
	    NV(":status", "200", 3),
	    NV("content-type", "application/grpc", 16),
	};
	nghttp2_data_provider dp = {.source.ptr = c, .read_callback = data_read};
	int r;

	if (c->submitted) {
		if (c->deferred) {
			c->deferred = false;
			nghttp2_session_resume_data(c->conn->session, c->id);
		}
		return 0;
	}
	r = nghttp2_submit_response(c->conn->session, c->id, nv, 2, &dp);
	if (r < 0)
		return -EIO;
	c->submitted = true;
	return 0;
}

int grpc_call_reply(struct grpc_call *c, const uint8_t *msg, size_t len)
{
	int r = call_append(c, msg, len);

	if (r < 0)
		return grpc_call_fail(c, GRPC_INTERNAL, "cannot make the answer");
	c->out_eof = true;
	c->send_trailers = true;
	c->trailer_status = GRPC_OK;
	r = call_submit(c);
	conn_flush(c->conn);
	return r;
}

int grpc_call_send(struct grpc_call *c, const uint8_t *msg, size_t len)
{
	int r = call_append(c, msg, len);

	if (r < 0)
		return r;
	r = call_submit(c);
	conn_flush(c->conn);
	return r;
}

int grpc_call_fail(struct grpc_call *c, int status, const char *message)
{
	char code[16];
	char *m = percent_encode(message);
	int r;

	c->trailer_status = status;
	free(c->trailer_message);
	c->trailer_message = m;
	if (c->submitted) {
		/* A stream already answered: its trailers carry the error. */
		c->out_eof = true;
		c->send_trailers = true;
		r = call_submit(c);
	} else {
		nghttp2_nv nv[] = {
		    NV(":status", "200", 3),
		    NV("content-type", "application/grpc", 16),
		    NV("grpc-status", code, 0),
		    NV("grpc-message", m ?: "", m ? strlen(m) : 0),
		};

		snprintf(code, sizeof(code), "%d", status);
		nv[2].valuelen = strlen(code);
		c->submitted = true;
		r = nghttp2_submit_response(c->conn->session, c->id, nv, 4, NULL) < 0 ? -EIO : 0;
	}
	conn_flush(c->conn);
	return r;
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
		       void *user_data)
{
	struct conn *conn = user_data;
	ssize_t n = send(conn->fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? NGHTTP2_ERR_WOULDBLOCK
							 : NGHTTP2_ERR_CALLBACK_FAILURE;
	return n;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct conn *conn = user_data;
	struct grpc_call *c;

	if (!conn->server || frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	c->conn = conn;
	c->id = frame->hd.stream_id;
	c->next = conn->calls;
	conn->calls = c;
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user_data)
{
	struct conn *conn = user_data;
	struct grpc_call *c = conn_find(conn, frame->hd.stream_id);

	if (!c)
		return 0;
	if (conn->server && namelen == 5 && memcmp(name, ":path", 5) == 0) {
		free(c->path);
		c->path = strndup((const char *)value, valuelen);
	} else if (!conn->server && namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
		c->got_status = true;
		c->status = atoi((const char *)value);
	} else if (!conn->server && namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
		free(c->message);
		c->message = strndup((const char *)value, valuelen);
	}
	return 0;
}

/* A server stream's client: hands over each complete message and keeps the rest. */
static void client_deliver(struct grpc_client *cl, struct grpc_call *c)
{
	size_t at = 0;

	while (c->n_in - at >= 5 && c->in[at] == 0) {
		size_t n = (size_t)c->in[at + 1] << 24 | (size_t)c->in[at + 2] << 16 |
			   (size_t)c->in[at + 3] << 8 | c->in[at + 4];

		if (n > GRPC_MESSAGE_MAX) {
			c->in_too_big = true;
			return;
		}
		if (c->n_in - at - 5 < n)
			break;
		cl->each(cl->userdata, c->in + at + 5, n);
		at += 5 + n;
	}
	memmove(c->in, c->in + at, c->n_in - at);
	c->n_in -= at;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			 const uint8_t *data, size_t len, void *user_data)
{
	struct conn *conn = user_data;
	struct grpc_call *c = conn_find(conn, stream_id);
	uint8_t *v;

	if (!c || c->in_too_big)
		return 0;
	if (c->n_in + len > GRPC_MESSAGE_MAX + 5) {
		c->in_too_big = true;
		return 0;
	}
	v = realloc(c->in, c->n_in + len);
	if (!v) {
		c->in_too_big = true;
		return 0;
	}
	memcpy(v + c->n_in, data, len);
	c->in = v;
	c->n_in += len;
	if (!conn->server && conn->client && conn->client->each)
		client_deliver(conn->client, c);
	return 0;
}

/* The one message of a call's DATA; false when the DATA are not exactly one message. */
static bool call_message(const struct grpc_call *c, const uint8_t **msg, size_t *len)
{
	size_t n;

	if (c->n_in < 5 || c->in[0] != 0)
		return false;
	n = (size_t)c->in[1] << 24 | (size_t)c->in[2] << 16 | (size_t)c->in[3] << 8 | c->in[4];
	if (n != c->n_in - 5)
		return false;
	*msg = c->in + 5;
	*len = n;
	return true;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct conn *conn = user_data;
	struct grpc_call *c;
	const uint8_t *msg;
	size_t len;

	if (!conn->server || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
	    (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS))
		return 0;
	c = conn_find(conn, frame->hd.stream_id);
	if (!c || c->handled)
		return 0;
	c->handled = true;
	if (c->in_too_big)
		grpc_call_fail(c, GRPC_INVALID_ARGUMENT, "the request is too big");
	else if (!c->path)
		grpc_call_fail(c, GRPC_INVALID_ARGUMENT, "the request has no :path");
	else if (!call_message(c, &msg, &len))
		grpc_call_fail(c, GRPC_INVALID_ARGUMENT,
			       "the request is not one uncompressed gRPC message");
	else
		conn->server->handler(conn->server->userdata, c, c->path, msg, len);
	return 0;
}

static void client_finish(struct grpc_client *cl, int status, const char *message,
			  const uint8_t *msg, size_t len);

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *user_data)
{
	struct conn *conn = user_data;
	struct grpc_call *c = conn_find(conn, stream_id);

	if (!c)
		return 0;
	conn_unlink_call(conn, c);
	if (conn->server) {
		if (c->handled)
			conn->server->closed(conn->server->userdata, c);
	} else if (conn->client) {
		const uint8_t *msg = NULL;
		size_t len = 0;

		if (!c->got_status)
			client_finish(conn->client, GRPC_UNAVAILABLE,
				      "the answer has no grpc-status", NULL, 0);
		else if (c->status != GRPC_OK)
			client_finish(conn->client, c->status, c->message ?: "", NULL, 0);
		else if (conn->client->each && c->n_in == 0)
			client_finish(conn->client, GRPC_OK, "", NULL, 0);
		else if (conn->client->each || !call_message(c, &msg, &len))
			client_finish(conn->client, GRPC_INTERNAL,
				      "the answer is not one gRPC message", NULL, 0);
		else
			client_finish(conn->client, GRPC_OK, "", msg, len);
		conn->dead = true;
	}
	call_free(c);
	return 0;
}

static void conn_free(struct conn *conn)
{
	struct grpc_call *c;

	if (!conn)
		return;
	while ((c = conn->calls)) {
		conn->calls = c->next;
		if (conn->server && c->handled)
			conn->server->closed(conn->server->userdata, c);
		call_free(c);
	}
	nghttp2_session_del(conn->session);
	sd_event_source_disable_unref(conn->io);
	if (conn->fd >= 0)
		close(conn->fd);
	free(conn);
}

static void server_drop_conn(struct grpc_server *s, struct conn *conn)
{
	for (struct conn **p = &s->conns; *p; p = &(*p)->next)
		if (*p == conn) {
			*p = conn->next;
			break;
		}
	conn_free(conn);
}

static void conn_flush(struct conn *conn)
{
	if (conn->in_recv || conn->dead)
		return;
	if (nghttp2_session_send(conn->session) != 0)
		conn->dead = true;
	else
		sd_event_source_set_io_events(
		    conn->io, EPOLLIN | (nghttp2_session_want_write(conn->session) ? EPOLLOUT : 0));
}

static void conn_done(struct conn *conn)
{
	if (conn->server)
		server_drop_conn(conn->server, conn);
	else if (conn->client) {
		struct grpc_client *cl = conn->client;

		client_finish(cl, GRPC_UNAVAILABLE, "the connection ended", NULL, 0);
		cl->conn = NULL;
		sd_event_source_disable_unref(cl->timer);
		conn_free(conn);
		free(cl);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *conn = userdata;
	uint8_t buf[16384];

	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn->dead = true;
		} else if (n > 0) {
			conn->in_recv = true;
			if (nghttp2_session_mem_recv(conn->session, buf, (size_t)n) < 0)
				conn->dead = true;
			conn->in_recv = false;
		}
	}
	conn_flush(conn);
	if (!conn->dead && !nghttp2_session_want_read(conn->session) &&
	    !nghttp2_session_want_write(conn->session))
		conn->dead = true;
	if (conn->dead)
		conn_done(conn);
	return 0;
}

static int conn_new(sd_event *event, int fd, bool server_side, struct conn **ret)
{
	nghttp2_session_callbacks *cbs;
	struct conn *conn = calloc(1, sizeof(*conn));
	int r;

	if (!conn)
		return -ENOMEM;
	conn->fd = fd;
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		free(conn);
		return -ENOMEM;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	r = server_side ? nghttp2_session_server_new(&conn->session, cbs, conn)
			: nghttp2_session_client_new(&conn->session, cbs, conn);
	nghttp2_session_callbacks_del(cbs);
	if (r != 0) {
		free(conn);
		return -ENOMEM;
	}
	r = sd_event_add_io(event, &conn->io, fd, EPOLLIN, on_io, conn);
	if (r < 0) {
		conn->fd = -1;
		conn_free(conn);
		return r;
	}
	nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, NULL, 0);
	*ret = conn;
	return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct grpc_server *s = userdata;
	struct conn *conn;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (cfd < 0)
		return 0;
	if (conn_new(s->event, cfd, true, &conn) < 0) {
		close(cfd);
		return 0;
	}
	conn->server = s;
	conn->next = s->conns;
	s->conns = conn;
	conn_flush(conn);
	return 0;
}

int grpc_server_new(sd_event *event, int listen_fd, grpc_handler_fn handler,
		    grpc_call_closed_fn closed, void *userdata, struct grpc_server **ret)
{
	struct grpc_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		close(listen_fd);
		return -ENOMEM;
	}
	*s = (struct grpc_server){.event = event,
				  .fd = listen_fd,
				  .handler = handler,
				  .closed = closed,
				  .userdata = userdata};
	r = sd_event_add_io(event, &s->accept_source, listen_fd, EPOLLIN, on_accept, s);
	if (r < 0) {
		grpc_server_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void grpc_server_free(struct grpc_server *s)
{
	if (!s)
		return;
	while (s->conns)
		server_drop_conn(s, s->conns);
	sd_event_source_disable_unref(s->accept_source);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static void client_finish(struct grpc_client *cl, int status, const char *message,
			  const uint8_t *msg, size_t len)
{
	if (cl->finished)
		return;
	cl->finished = true;
	cl->done(cl->userdata, status, message, msg, len);
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct grpc_client *cl = userdata;

	client_finish(cl, GRPC_UNAVAILABLE, "no answer in time", NULL, 0);
	grpc_client_cancel(cl);
	return 0;
}

void grpc_client_cancel(struct grpc_client *cl)
{
	if (!cl)
		return;
	sd_event_source_disable_unref(cl->timer);
	conn_free(cl->conn);
	free(cl);
}

int grpc_client_call(sd_event *event, const char *socket_path, const char *path, const uint8_t *msg,
		     size_t len, unsigned timeout_ms, grpc_client_done_fn done, void *userdata,
		     struct grpc_client **ret)
{
	return grpc_client_stream(event, socket_path, path, msg, len, timeout_ms, NULL, done,
				  userdata, ret);
}

int grpc_client_stream(sd_event *event, const char *socket_path, const char *path,
		       const uint8_t *msg, size_t len, unsigned timeout_ms,
		       grpc_client_message_fn each, grpc_client_done_fn done, void *userdata,
		       struct grpc_client **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct grpc_client *cl;
	struct grpc_call *c;
	uint64_t now;
	int fd, r;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	cl = calloc(1, sizeof(*cl));
	c = calloc(1, sizeof(*c));
	if (!cl || !c) {
		free(cl);
		free(c);
		close(fd);
		return -ENOMEM;
	}
	cl->each = each;
	cl->done = done;
	cl->userdata = userdata;
	r = conn_new(event, fd, false, &cl->conn);
	if (r < 0) {
		close(fd);
		free(cl);
		free(c);
		return r;
	}
	cl->conn->client = cl;
	c->conn = cl->conn;
	r = call_append(c, msg, len);
	if (r < 0) {
		call_free(c);
		grpc_client_cancel(cl);
		return r;
	}
	c->out_eof = true;
	{
		nghttp2_nv nv[] = {
		    NV(":method", "POST", 4),
		    NV(":scheme", "http", 4),
		    NV(":path", path, strlen(path)),
		    NV(":authority", "localhost", 9),
		    NV("content-type", "application/grpc", 16),
		    NV("te", "trailers", 8),
		};
		nghttp2_data_provider dp = {.source.ptr = c, .read_callback = data_read};

		c->id = nghttp2_submit_request(cl->conn->session, NULL, nv, 6, &dp, NULL);
	}
	if (c->id < 0) {
		call_free(c);
		grpc_client_cancel(cl);
		return -EIO;
	}
	c->submitted = true;
	cl->conn->calls = c;
	sd_event_now(event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(event, &cl->timer, CLOCK_MONOTONIC, now + timeout_ms * 1000ULL, 0,
			      on_client_timeout, cl);
	if (r < 0) {
		grpc_client_cancel(cl);
		return r;
	}
	conn_flush(cl->conn);
	*ret = cl;
	return 0;
}
