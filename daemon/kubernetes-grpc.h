/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The little of gRPC that the kubelet's device plugin API needs, over HTTP/2 on unix sockets:
 * nghttp2 for HTTP/2 and protobuf-c for the messages, both driven by passthrud's sd-event loop
 * (no thread). The wire format (gRPC over HTTP/2):
 *   request   HEADERS :method POST, :path /PACKAGE.SERVICE/METHOD, content-type application/grpc,
 *             te trailers; DATA: messages, each a 1-byte compressed flag (0: we never compress)
 *             and a 4-byte big-endian length before the protobuf bytes; END_STREAM
 *   response  HEADERS :status 200, content-type application/grpc; DATA: messages as above;
 *             trailers grpc-status (0 OK) and grpc-message (percent-encoded); an error may
 *             be "trailers only": one HEADERS frame with :status and grpc-status, END_STREAM.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct sd_event;

/* gRPC status codes used here. */
enum {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_NOT_FOUND = 5,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

/* A gRPC message is at most this big here (the kubelet's are a few kB). */
#define GRPC_MESSAGE_MAX (4u * 1024 * 1024)

struct grpc_server;
struct grpc_call;

/*
 * Called once per request, when its message is complete (len bytes, without the 5-byte prefix).
 * The handler answers with grpc_call_reply() or grpc_call_fail(), now or later, or streams with
 * grpc_call_send(); it must not keep msg.
 */
typedef void (*grpc_handler_fn)(void *userdata, struct grpc_call *call, const char *path,
				const uint8_t *msg, size_t len);
/* Called when a call's stream is gone (the peer closed it): the call must not be used after. */
typedef void (*grpc_call_closed_fn)(void *userdata, struct grpc_call *call);

/* Serves listen_fd (a listening unix socket, owned by the server from now on). */
int grpc_server_new(struct sd_event *event, int listen_fd, grpc_handler_fn handler,
		    grpc_call_closed_fn closed, void *userdata, struct grpc_server **ret);
/* Closes the listener and every connection (streams end without trailers). NULL-safe. */
void grpc_server_free(struct grpc_server *s);

/* A unary answer: the message, then grpc-status 0. Ends the call. */
int grpc_call_reply(struct grpc_call *call, const uint8_t *msg, size_t len);
/* An error answer (trailers only). Ends the call. */
int grpc_call_fail(struct grpc_call *call, int status, const char *message);
/* One message of a server stream; the call stays open. */
int grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len);

/*
 * A unary call to the server at socket_path, answered through done: GRPC_OK with the answer's
 * message, else the status and its message (GRPC_UNAVAILABLE when the connection ends or no
 * answer comes within timeout_ms). Returns 0 and the call in *ret (done will be called, never
 * from here, and then the call is gone), or a negative errno when the socket cannot be
 * connected to (-ENOENT: nobody made it; -ECONNREFUSED: nobody listens).
 */
struct grpc_client;
typedef void (*grpc_client_done_fn)(void *userdata, int status, const char *message,
				    const uint8_t *msg, size_t len);
int grpc_client_call(struct sd_event *event, const char *socket_path, const char *path,
		     const uint8_t *msg, size_t len, unsigned timeout_ms, grpc_client_done_fn done,
		     void *userdata, struct grpc_client **ret);
/*
 * A call whose answer is a stream (ListAndWatch): each is called with every message as it
 * comes (it must not cancel the call), then done with the status and no message. timeout_ms
 * bounds the whole stream. Used by the tests' stand-in kubelet; returns as grpc_client_call().
 */
typedef void (*grpc_client_message_fn)(void *userdata, const uint8_t *msg, size_t len);
int grpc_client_stream(struct sd_event *event, const char *socket_path, const char *path,
		       const uint8_t *msg, size_t len, unsigned timeout_ms,
		       grpc_client_message_fn each, grpc_client_done_fn done, void *userdata,
		       struct grpc_client **ret);
/* Drops a call before its answer: done is not called. NULL-safe. */
void grpc_client_cancel(struct grpc_client *c);
