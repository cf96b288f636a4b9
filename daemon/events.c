/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GET /v1/events: server-sent events. Every change of a device ("device") or an allocation
 * ("allocation") gets an id and goes into a ring of the last EVENTS_KEPT; each client has a
 * cursor into it. A client with nothing to read is suspended (MHD_suspend_connection) and
 * resumed when an event comes, so an idle stream costs nothing but its socket. A client that
 * reconnects with Last-Event-ID resumes where it was, as long as the ring still holds it.
 * Every 20 s each client gets a comment line: a peer that went away is noticed then.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "passthrud.h"

#define EVENT_CLIENTS_MAX 64
#define PING_USEC	  (20 * 1000000ULL)

struct event_client {
	struct daemon *d;
	struct MHD_Connection *c;
	uint64_t cursor;   /* the id of the next event to send */
	size_t offset;	   /* bytes of that event already sent */
	const char *extra; /* a comment to send before the next event (static) */
	size_t extra_offset;
	bool suspended;
	struct event_client *prev, *next;
};

static void resume(struct event_client *ec)
{
	if (ec->suspended) {
		ec->suspended = false;
		MHD_resume_connection(ec->c);
	}
}

void events_emit(struct daemon *d, const char *type, struct json_object *data)
{
	struct events *ev = &d->events;
	char **slot = &ev->ring[ev->next % EVENTS_KEPT];
	char *text;

	if (asprintf(&text, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)ev->next, type,
		     data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE)
			  : "null") < 0) {
		json_object_put(data);
		return;
	}
	json_object_put(data);
	free(*slot);
	*slot = text;
	ev->next++;
	for (struct event_client *ec = ev->clients; ec; ec = ec->next)
		resume(ec);
}

static size_t put(char *buf, size_t max, const char *text, size_t *offset)
{
	size_t left = strlen(text) - *offset, n = left < max ? left : max;

	memcpy(buf, text + *offset, n);
	*offset += n;
	return n;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct event_client *ec = cls;
	struct events *ev = &ec->d->events;
	size_t n;

	if (ev->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (ec->extra) {
		n = put(buf, max, ec->extra, &ec->extra_offset);
		if (ec->extra_offset == strlen(ec->extra))
			ec->extra = NULL;
		return (ssize_t)n;
	}
	/* Fell behind by more than the ring holds: skip what is gone, say so. */
	if (ev->next > EVENTS_KEPT && ec->cursor < ev->next - EVENTS_KEPT) {
		ec->cursor = ev->next - EVENTS_KEPT;
		ec->offset = 0;
		ec->extra = ": events were lost\n\n";
		ec->extra_offset = 0;
		return reader(cls, pos, buf, max);
	}
	if (ec->cursor < ev->next) {
		const char *text = ev->ring[ec->cursor % EVENTS_KEPT];

		n = put(buf, max, text, &ec->offset);
		if (ec->offset == strlen(text)) {
			ec->cursor++;
			ec->offset = 0;
		}
		return (ssize_t)n;
	}
	ec->suspended = true;
	MHD_suspend_connection(ec->c);
	return 0;
}

static void client_free(void *cls)
{
	struct event_client *ec = cls;
	struct events *ev = &ec->d->events;

	if (ec->prev)
		ec->prev->next = ec->next;
	else
		ev->clients = ec->next;
	if (ec->next)
		ec->next->prev = ec->prev;
	ev->n_clients--;
	free(ec);
}

static int on_ping(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	for (struct event_client *ec = d->events.clients; ec; ec = ec->next)
		if (!ec->extra) {
			ec->extra = ": ping\n\n";
			ec->extra_offset = 0;
			resume(ec);
		}
	sd_event_source_set_time(s, usec + PING_USEC);
	return 0;
}

int events_serve(struct daemon *d, struct MHD_Connection *c, const char *last_id)
{
	struct event_client *ec;
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (d->events.n_clients >= EVENT_CLIENTS_MAX)
		return -EBUSY;
	ec = calloc(1, sizeof(*ec));
	if (!ec)
		return -ENOMEM;
	*ec = (struct event_client){
	    .d = d, .c = c, .cursor = d->events.next, .extra = "retry: 1000\n\n"};
	if (last_id) {
		char *end;
		unsigned long long id = strtoull(last_id, &end, 10);

		if (*last_id && !*end && id < d->events.next)
			ec->cursor = id + 1;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, ec, client_free);
	if (!resp) {
		free(ec);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	ec->next = d->events.clients;
	if (ec->next)
		ec->next->prev = ec;
	d->events.clients = ec;
	d->events.n_clients++;
	/* An event stream lives as long as its client wants; the ping finds dead ones. */
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0U);
	if (!d->events.ping) {
		uint64_t now;

		sd_event_now(d->event, CLOCK_MONOTONIC, &now);
		sd_event_add_time(d->event, &d->events.ping, CLOCK_MONOTONIC, now + PING_USEC,
				  1000000, on_ping, d);
	}
	ok = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ok == MHD_YES ? 0 : -EIO;
}

/* Before MHD stops: every suspended stream must be resumed to be closed. */
void events_done(struct daemon *d)
{
	d->events.closing = true;
	for (struct event_client *ec = d->events.clients; ec; ec = ec->next)
		resume(ec);
	d->events.ping = sd_event_source_unref(d->events.ping);
	for (size_t i = 0; i < EVENTS_KEPT; i++) {
		free(d->events.ring[i]);
		d->events.ring[i] = NULL;
	}
}
