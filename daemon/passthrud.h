/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthrud: the host service. One sd-event loop: the HTTP server (libmicrohttpd without
 * threads of its own, its epoll fd watched by the loop), the kernel's uevents and the event
 * stream all run there, so the state (inventory, allocations, reservations) has one owner and
 * two allocations never see the same free device. Only the takeovers (binds and unbinds, which
 * may take seconds) run in a worker thread, one at a time; the devices they are for are reserved
 * in the loop before they start, and the request that waits for one is suspended meanwhile.
 * Files:
 *   main.c         options, the socket, start-up (repair, adoption), the loop, sd_notify
 *   http.c         libmicrohttpd glue, peer credentials, routing, JSON answers
 *   inventory.c    the PCI functions as the library reads them, refreshed one by one
 *   uevents.c      the kernel's uevents (NETLINK_KOBJECT_UEVENT through libudev)
 *   allocation.c   allocate and release: groups, selectors, the takeover, holders
 *   worker.c       the takeover worker thread
 *   store.c        the allocations in SQLite (WAL), one transaction per change
 *   events.c       the server-sent-events stream
 *   metrics.c      Prometheus text
 *   request.c      the POST body's parser (no I/O; fuzzed)
 *   kubernetes*.c  the Kubernetes resources (kubernetes.d) whose devices the kubelet owns;
 *                  kubernetes-plugin.c is the kubelet's device plugin over gRPC
 * passthrud uses libpassthru through its public API only.
 */
#pragma once

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#include "kubernetes-config.h"
#include "passthru.h"
#include "request.h"

struct sd_event;
struct sd_event_source;
struct MHD_Daemon;
struct MHD_Connection;
struct sqlite3;
struct udev;
struct udev_monitor;
struct kubelet;
struct kube_watch;

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
static inline void json_putp(struct json_object **p)
{
	json_object_put(*p);
}
#define _cleanup_json_ _cleanup_(json_putp)

/*
 * One device as the service shows it: a PCI function, a USB device or a serial port. USB
 * devices and serial ports are passed through by QEMU itself (usb-host, a serial chardev) with
 * no driver change: they have no IOMMU group (-1), and details holds what passthru list --json
 * shows of them.
 */
struct device {
	char *address; /* canonical: "0000:02:00.0", "1-2.3", "/dev/ttyS1" */
	enum device_kind kind;
	char *type;		  /* "NIC", ..., "USB", "serial" */
	char *driver;		  /* NULL: none */
	int vendor_id, device_id; /* -1: unreadable */
	int group;		  /* -1: no IOMMU group */
	int numa_node;		  /* -1: no affinity or unknown */
	bool non_endpoint; /* stays with the host: passthru_pci_device_is_endpoint() false */
	/* USB and serial: never allocated (hubs: usb-host takes no hub; host consoles). */
	bool host_only;
	struct json_object *details; /* USB and serial: the list --json fields */
};

struct inventory {
	struct device *v; /* the PCI functions, sorted by address */
	size_t n;
	struct device *ports; /* the USB devices (by bus and port path), then the serial ports */
	size_t n_ports;
};

struct allocation {
	long id;
	char *owner;
	int64_t created;    /* seconds since the epoch */
	bool adopted;	    /* found held by a running process at start-up */
	char **devices;	    /* sorted, NULL-terminated */
	int *device_groups; /* the IOMMU group of each device */
	size_t n_devices;
	int *groups; /* the distinct IOMMU groups, sorted */
	size_t n_groups;
	/*
	 * A reservation whose devices are being bound (id < 0, not in the database yet): its
	 * devices are taken, it is not listed. releasing: a release to the host drivers runs.
	 */
	bool pending, releasing;
};

struct allocations {
	struct allocation *v;
	size_t n;
};

/* A ring of the latest events, for the stream's clients. */
#define EVENTS_KEPT 256
struct event_client;
struct events {
	char *ring[EVENTS_KEPT]; /* "id: N\nevent: T\ndata: {...}\n\n" */
	uint64_t next;		 /* the id of the next event; ring[id % EVENTS_KEPT] */
	struct event_client *clients;
	unsigned n_clients;
	struct sd_event_source *ping;
	bool closing; /* the service stops: streams end */
};

#define LATENCY_BUCKETS 10
struct metrics {
	uint64_t requests[6]; /* by status class: [2] 2xx ... [5] 5xx, [0] other */
	uint64_t latency_buckets[LATENCY_BUCKETS]; /* cumulative at scrape, counted here plain */
	uint64_t latency_count;
	double latency_sum;
	uint64_t refusals; /* guard and other takeover refusals answered with 422 */
	uint64_t binds, bind_failures;
	double bind_seconds_sum;
	uint64_t uevents;
	uint64_t allocations_made, allocations_released;
};

/*
 * An answer that comes later: a request whose handler returned 0 waits (its connection
 * suspended) until answer() is called, in the loop, with the status and the body (taken).
 */
struct later {
	void (*answer)(struct later *l, unsigned status, struct json_object *body);
};

/* A takeover for the worker (worker.c). */
struct takeover_job {
	struct daemon *d;
	enum passthru_takeover_op op;
	unsigned flags;
	char **addresses; /* NULL-terminated, owned */
	unsigned timeout_ms;
	/* Set by the worker: its context, the takeover, the first failure (or 0). */
	struct passthru_ctx *ctx;
	struct passthru_takeover *t;
	int r;
	bool executed; /* r is the execution's; else the plan's (or before) */
	double seconds;
	/* In the loop when it is over, or -ECANCELED when it never ran: takes the job. */
	void (*done)(struct daemon *d, struct takeover_job *job);
	/* For done: the allocation (its id) and the request that waits. */
	long allocation;
	struct later *later;
	struct takeover_job *next;
};

struct worker {
	int efd; /* the thread's "done", watched by the loop */
	struct sd_event_source *source;
	struct takeover_job *running, *head, *tail; /* the running one, the queue */
	struct takeover_job *failed;		    /* could not start: answered next */
	struct sd_event_source *failed_source;
	pthread_t thread;
};

struct daemon {
	struct passthru_ctx *ctx;
	passthru_log_fn log_fn; /* also the workers' contexts' */
	bool real_root;		/* the context's root is "/" */
	struct sd_event *event;

	int listen_fd;
	char *socket_path; /* set when the service made the socket (and removes it) */
	gid_t read_gid;	   /* members may read; -1 when the group does not exist */
	gid_t write_gid;   /* members may also allocate and release; -1: root only */
	char *read_group;

	struct MHD_Daemon *mhd;
	struct sd_event_source *mhd_io, *mhd_timer;
	/* malloc_trim() once the requests pause (http.c) */
	struct sd_event_source *trim_timer;

	struct udev *udev;
	struct udev_monitor *monitor;
	struct sd_event_source *monitor_source;

	struct sqlite3 *db;
	char *state_dir;

	struct inventory inv;
	struct allocations allocs;
	struct events events;
	struct metrics metrics;
	unsigned bind_timeout_ms;
	struct worker worker;
	long next_pending;	 /* the id of the next reservation: -1, -2, ... */
	bool http_resumed;	 /* a waiting request got its answer: MHD must run */
	struct kube_config kube; /* the resources of kubernetes.d */
	struct kubelet *kubelet; /* the device plugin; NULL when it cannot be served */
	/* inotify on kubernetes.d: changes apply at once */
	struct kube_watch *kube_watch;
};

/* inventory.c */
int inventory_scan(struct passthru_ctx *ctx, struct inventory *inv);
void inventory_done(struct inventory *inv);
/* The inventory's order of two canonical addresses: PCI, then USB, then serial. */
int device_address_cmp(const char *a, const char *b);
/* By canonical address, PCI, USB or serial. */
struct device *inventory_find(const struct inventory *inv, const char *address);
/*
 * Reads one device again (by canonical address, of any kind). Returns 1 when it changed or
 * appeared, 0 when it is as it was, 2 when it is gone (and was known), a negative errno when it
 * cannot be read.
 */
int inventory_refresh(struct passthru_ctx *ctx, struct inventory *inv, const char *address);
const char *device_state(const struct daemon *d, const struct device *dev,
			 const struct allocation **ret_owner);
struct json_object *device_to_json(const struct daemon *d, const struct device *dev);

/* uevents.c */
int uevents_start(struct daemon *d);
void uevents_stop(struct daemon *d);

/* store.c */
int store_open(struct sd_event *event, const char *state_dir, struct sqlite3 **ret);
int store_load(struct sqlite3 *db, struct allocations *ret);
/* Inserts a (sets a->id) in one transaction. -EEXIST when a device is already allocated. */
int store_insert(struct sqlite3 *db, struct allocation *a);
int store_delete(struct sqlite3 *db, long id);
void store_close(struct sqlite3 *db);

/* allocation.c */
void allocation_done(struct allocation *a);
/* Adds a device (in the inventory's order of addresses) and its group (-1: none). */
int allocation_add_device(struct allocation *a, const char *address, int group);
void allocations_done(struct allocations *all);
struct allocation *allocation_find(const struct allocations *all, long id);
const struct allocation *allocation_of_device(const struct allocations *all, const char *address);
struct json_object *allocation_to_json(const struct allocation *a);
/*
 * The handlers: they return the HTTP status and the JSON body (which the caller puts), or 0
 * when a takeover runs first: later->answer() is then called with them.
 */
unsigned allocation_create(struct daemon *d, const char *body, size_t len, struct json_object **ret,
			   struct later *later);
/* Gives the devices back to the pool, or with to_host to their host drivers. */
unsigned allocation_release(struct daemon *d, long id, bool to_host, struct json_object **ret,
			    struct later *later);
/* Start-up: allocations for groups that a running process (a VM) holds but none records. */
int allocations_adopt(struct daemon *d);

/* worker.c */
int worker_start(struct daemon *d);
/* Queues job (taken); its done callback runs in the loop. */
void worker_submit(struct daemon *d, struct takeover_job *job);
/* Waits for the running takeover, cancels the queued ones: every done callback has run. */
void worker_stop(struct daemon *d);
void takeover_job_free(struct takeover_job *job);

/* events.c */
void events_emit(struct daemon *d, const char *type, struct json_object *data);
/* Answers GET /v1/events on c; last_id is the Last-Event-ID header or NULL. */
int events_serve(struct daemon *d, struct MHD_Connection *c, const char *last_id);
void events_done(struct daemon *d);

/* metrics.c */
void metrics_request(struct metrics *m, unsigned status, double seconds);
char *metrics_render(const struct daemon *d);

/* kubernetes.c: kubernetes.d read at start and again on every change (inotify). */
int kubernetes_start(struct daemon *d);
void kubernetes_stop(struct daemon *d);
/* The inventory as kubernetes-config.c takes it (borrowing its strings); NULL on ENOMEM. */
struct kube_function *kubernetes_functions(const struct inventory *inv);
/* The Kubernetes resource whose device (IOMMU group) holds the function, else NULL. */
const char *kubernetes_owner(const struct daemon *d, const char *address);
/* {"kubelet_dir", "resources": [{"name", "registration", "devices": [...]}]} for GET /v1/kubernetes
 */
struct json_object *kubernetes_to_json(const struct daemon *d);

/* kubernetes-plugin.c: the device plugin of each resource, in the kubelet's directory dir. */
int kubelet_start(struct daemon *d, const char *dir);
void kubelet_stop(struct daemon *d);
/* d->kube changed: new resources served, removed ones not, ListAndWatch gets new lists. */
void kubelet_config_changed(struct daemon *d);
/* The inventory changed: ListAndWatch streams get the new lists. */
void kubelet_inventory_changed(struct daemon *d);
/* The registration of resource ri, as a sentence ("registered with the kubelet ..."). */
const char *kubelet_registration(const struct daemon *d, size_t ri);

/* http.c */
int http_start(struct daemon *d);
void http_stop(struct daemon *d);
/* {"error": error, "hint": hint} */
struct json_object *error_json(const char *error, const char *hint);
