/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names of PCI and USB ids, cached per context.
 *
 * PCI: libpci's pci.ids parser, used for names only (lspci does the same); it never touches a
 * device here, pci_init() is not even called. Loading pci.ids costs a few milliseconds, so it
 * happens on the first name asked for, not when the context is made. A root other than "/"
 * that ships its own pci.ids gets exactly that file, without udev's hwdb, so that output over
 * a fixture or a captured tree does not depend on the machine running it.
 *
 * USB: udev's hwdb, queried the way lsusb does ("usb:vXXXX*", "usb:vXXXXpYYYY*"). libudev
 * cannot be pointed at another root: below a root other than "/" the names still come from
 * the running machine's hwdb.
 *
 * Every answer, including "no name", is cached: a listing asks for the same few ids many
 * times.
 */
#include <libudev.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>

#include "names.h"

enum name_kind {
	NAME_PCI_VENDOR,
	NAME_PCI_DEVICE,
	NAME_PCI_SUBSYSTEM,
	NAME_PCI_CLASS,
	NAME_PCI_PROG_IF,
	NAME_USB_VENDOR,
	NAME_USB_PRODUCT,
};

struct name_key {
	enum name_kind kind;
	uint16_t id[4];
};

struct name_entry {
	struct name_key key;
	bool used;
	/* NULL: asked for and unknown. */
	char *name;
};

/* Open addressing with linear probing; the size is a power of two, at most half full. */
struct name_cache {
	struct name_entry *entries;
	size_t size, count;
};

static size_t key_hash(const struct name_key *k)
{
	uint64_t h = (uint64_t)k->kind;

	for (size_t i = 0; i < ELEMENTSOF(k->id); i++)
		h = (h ^ k->id[i]) * UINT64_C(0x100000001b3);
	return (size_t)(h ^ (h >> 29));
}

static bool key_equal(const struct name_key *a, const struct name_key *b)
{
	return a->kind == b->kind && memcmp(a->id, b->id, sizeof(a->id)) == 0;
}

static struct name_entry *cache_slot(struct name_cache *c, const struct name_key *k)
{
	size_t i = key_hash(k) & (c->size - 1);

	while (c->entries[i].used && !key_equal(&c->entries[i].key, k))
		i = (i + 1) & (c->size - 1);
	return &c->entries[i];
}

static struct name_entry *cache_find(struct name_cache *c, const struct name_key *k)
{
	struct name_entry *e;

	if (c->size == 0)
		return NULL;
	e = cache_slot(c, k);
	return e->used ? e : NULL;
}

/* Takes ownership of name (NULL allowed) even on failure; returns the cached string. */
static const char *cache_add(struct name_cache *c, const struct name_key *k, char *name)
{
	struct name_entry *e;

	if ((c->count + 1) * 2 > c->size) {
		size_t nsize = c->size ? c->size * 2 : 64;
		struct name_entry *old = c->entries;
		size_t osize = c->size;

		c->entries = calloc(nsize, sizeof(*c->entries));
		if (!c->entries) {
			c->entries = old;
			free(name);
			return NULL;
		}
		c->size = nsize;
		for (size_t i = 0; i < osize; i++)
			if (old[i].used)
				*cache_slot(c, &old[i].key) = old[i];
		free(old);
	}
	e = cache_slot(c, k);
	e->used = true;
	e->key = *k;
	e->name = name;
	c->count++;
	return name;
}

static void cache_free(struct name_cache *c)
{
	for (size_t i = 0; i < c->size; i++)
		free(c->entries[i].name);
	free(c->entries);
}

/* ------------------------------------------------------------------------------------------ */
/* PCI                                                                                        */

struct pci_names {
	struct pci_access *pacc;
	/* libpci could not be set up, or failed once: no more PCI names from this context. */
	bool broken;
	int lookup_flags;
	struct name_cache cache;
};

/*
 * libpci reports a malformed pci.ids (and out-of-memory) through pacc->error, which takes no
 * user data and must not return: its caller is compiled to never come back. The only way to
 * survive a broken pci.ids in a root is to jump out of it. The jump target is per thread and
 * set only around our calls into libpci, so contexts in different threads stay independent.
 */
struct pci_guard {
	jmp_buf jump;
	char message[256];
};
static __thread struct pci_guard *pci_guard_current;

static _printf_(1, 2) void pci_error_jump(char *format, ...)
{
	struct pci_guard *g = pci_guard_current;
	va_list args;

	/* Every call into libpci that can fail is guarded; nothing else calls this. */
	if (!g)
		abort();
	va_start(args, format);
	vsnprintf(g->message, sizeof(g->message), format, args);
	va_end(args);
	longjmp(g->jump, 1);
}

static _printf_(1, 2) void pci_message_ignore(char *format _unused_, ...)
{
}

/* One libpci question; answer points into buf or into libpci's tables. */
struct pci_question {
	struct pci_access *pacc;
	enum name_kind kind;
	int flags;
	uint16_t id[4];
	char buf[1024];
	const char *answer;
	char error[256];
};

static void pci_ask(struct pci_question *q)
{
	int size = (int)sizeof(q->buf);

	switch (q->kind) {
	case NAME_PCI_VENDOR:
	case NAME_PCI_CLASS:
		q->answer = pci_lookup_name(q->pacc, q->buf, size, q->flags, q->id[0]);
		break;
	case NAME_PCI_DEVICE:
	case NAME_PCI_PROG_IF:
		q->answer = pci_lookup_name(q->pacc, q->buf, size, q->flags, q->id[0], q->id[1]);
		break;
	case NAME_PCI_SUBSYSTEM:
		q->answer = pci_lookup_name(q->pacc, q->buf, size, q->flags, q->id[0], q->id[1],
					    q->id[2], q->id[3]);
		break;
	default:
		q->answer = NULL;
		break;
	}
}

/* Runs f(q) with libpci's error callback able to jump back here; false if it did. */
static bool pci_guarded(void (*f)(struct pci_question *), struct pci_question *q)
{
	struct pci_guard guard;

	pci_guard_current = &guard;
	if (setjmp(guard.jump) != 0) {
		pci_guard_current = NULL;
		strip_trailing(guard.message);
		memcpy(q->error, guard.message, sizeof(q->error));
		return false;
	}
	f(q);
	pci_guard_current = NULL;
	return true;
}

static void pci_load(struct pci_question *q)
{
	q->answer = pci_load_name_list(q->pacc) ? "" : NULL;
}

static void pci_names_free(void *p)
{
	struct pci_names *n = p;

	if (n->pacc)
		pci_cleanup(n->pacc);
	cache_free(&n->cache);
	free(n);
}

/* The root's own pci.ids, if it has one. */
static char *rooted_pci_ids(struct passthru_ctx *ctx)
{
	static const char *const candidates[] = {
	    "/usr/share/misc/pci.ids",
	    "/usr/share/hwdata/pci.ids",
	};

	for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
		char *path;

		if (!root_exists(ctx, candidates[i]))
			continue;
		if (root_path(ctx, candidates[i], &path) < 0)
			return NULL;
		return path;
	}
	return NULL;
}

static struct pci_names *pci_names_get(struct passthru_ctx *ctx)
{
	struct pci_names *n = ctx_slot_get(ctx, CTX_SLOT_PCI_NAMES);
	char *ids;

	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	ctx_slot_set(ctx, CTX_SLOT_PCI_NAMES, n, pci_names_free);

	n->pacc = pci_alloc();
	if (!n->pacc) {
		n->broken = true;
		return n;
	}
	n->pacc->error = (__typeof__(n->pacc->error))pci_error_jump;
	n->pacc->warning = pci_message_ignore;
	n->pacc->debug = pci_message_ignore;
	/* No ~/.pciids-cache: it only holds answers from DNS lookups, which we never make. */
	n->pacc->id_lookup_mode = 0;
	n->pacc->numeric_ids = 0;
	n->lookup_flags = PCI_LOOKUP_NO_NUMBERS;

	if (strcmp(passthru_ctx_get_sysroot(ctx), "/") != 0) {
		ids = rooted_pci_ids(ctx);
		if (ids) {
			pci_set_name_list_path(n->pacc, ids, 1);
			pci_set_param(n->pacc, (char *)"hwdb.disable", (char *)"1");
			n->lookup_flags |= PCI_LOOKUP_NO_HWDB;
		}
	}
	log_debug(ctx, "loading PCI names from %s", n->pacc->id_file_name);

	{
		_cleanup_free_ struct pci_question *q = calloc(1, sizeof(*q));

		if (!q)
			return n;
		q->pacc = n->pacc;
		if (!pci_guarded(pci_load, q))
			/* What was parsed before the error stays usable. */
			log_debug(ctx, "libpci: %s", q->error);
		else if (!q->answer)
			log_debug(ctx, "cannot read %s, no PCI names", n->pacc->id_file_name);
	}
	return n;
}

static const char *pci_name(struct passthru_ctx *ctx, enum name_kind kind, int flags, uint16_t a,
			    uint16_t b, uint16_t c, uint16_t d)
{
	struct name_key key = {.kind = kind, .id = {a, b, c, d}};
	struct pci_names *n = pci_names_get(ctx);
	_cleanup_free_ struct pci_question *q = NULL;
	struct name_entry *e;
	const char *result;

	if (!n || n->broken)
		return NULL;
	e = cache_find(&n->cache, &key);
	if (e)
		return e->name;

	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	*q = (struct pci_question){
	    .pacc = n->pacc,
	    .kind = kind,
	    .flags = flags | n->lookup_flags,
	    .id = {a, b, c, d},
	};
	if (!pci_guarded(pci_ask, q)) {
		/* libpci's state after a jump out of it is unknown: stop using it. */
		log_debug(ctx, "libpci: %s; no more PCI names", q->error);
		n->broken = true;
		return NULL;
	}
	result = q->answer;

	/*
	 * libpci signals an internal failure with a "<pci_lookup_name: ...>" text; an empty name
	 * (a fuzzed class with prog-if gave one) is no name either.
	 */
	if (!result || !*result || result[0] == '<')
		return cache_add(&n->cache, &key, NULL);
	if (kind == NAME_PCI_CLASS) {
		/*
		 * For an unknown subclass of a known base class libpci answers
		 * "<base class name> [bbss]"; we promise the base class name itself.
		 */
		char suffix[16];
		size_t len = strlen(result), slen;

		slen = (size_t)snprintf(suffix, sizeof(suffix), " [%04x]", a);
		if (len > slen && strcmp(result + len - slen, suffix) == 0)
			return cache_add(&n->cache, &key, strndup(result, len - slen));
	}
	return cache_add(&n->cache, &key, strdup(result));
}

const char *names_pci_vendor(struct passthru_ctx *ctx, uint16_t vendor)
{
	return pci_name(ctx, NAME_PCI_VENDOR, PCI_LOOKUP_VENDOR, vendor, 0, 0, 0);
}

const char *names_pci_device(struct passthru_ctx *ctx, uint16_t vendor, uint16_t device)
{
	return pci_name(ctx, NAME_PCI_DEVICE, PCI_LOOKUP_DEVICE, vendor, device, 0, 0);
}

const char *names_pci_subsystem(struct passthru_ctx *ctx, uint16_t vendor, uint16_t device,
				uint16_t subvendor, uint16_t subdevice)
{
	return pci_name(ctx, NAME_PCI_SUBSYSTEM, PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, vendor,
			device, subvendor, subdevice);
}

const char *names_pci_class(struct passthru_ctx *ctx, uint8_t base, uint8_t sub)
{
	return pci_name(ctx, NAME_PCI_CLASS, PCI_LOOKUP_CLASS, (uint16_t)(base << 8 | sub), 0, 0,
			0);
}

const char *names_pci_prog_if(struct passthru_ctx *ctx, uint8_t base, uint8_t sub, uint8_t prog_if)
{
	return pci_name(ctx, NAME_PCI_PROG_IF, PCI_LOOKUP_PROGIF, (uint16_t)(base << 8 | sub),
			prog_if, 0, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* USB                                                                                        */

struct usb_names {
	struct udev *udev;
	struct udev_hwdb *hwdb;
	struct name_cache cache;
};

static void usb_names_free(void *p)
{
	struct usb_names *n = p;

	udev_hwdb_unref(n->hwdb);
	udev_unref(n->udev);
	cache_free(&n->cache);
	free(n);
}

static struct usb_names *usb_names_get(struct passthru_ctx *ctx)
{
	struct usb_names *n = ctx_slot_get(ctx, CTX_SLOT_USB_NAMES);

	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	ctx_slot_set(ctx, CTX_SLOT_USB_NAMES, n, usb_names_free);
	n->udev = udev_new();
	if (n->udev)
		n->hwdb = udev_hwdb_new(n->udev);
	if (!n->hwdb)
		log_debug(ctx, "udev hwdb not available, no USB names");
	return n;
}

static const char *usb_name(struct passthru_ctx *ctx, enum name_kind kind, uint16_t vendor,
			    uint16_t product)
{
	struct name_key key = {.kind = kind, .id = {vendor, product, 0, 0}};
	struct usb_names *n = usb_names_get(ctx);
	struct udev_list_entry *entry;
	struct name_entry *e;
	const char *property;
	char modalias[32];
	char *name = NULL;

	if (!n || !n->hwdb)
		return NULL;
	e = cache_find(&n->cache, &key);
	if (e)
		return e->name;

	if (kind == NAME_USB_VENDOR) {
		snprintf(modalias, sizeof(modalias), "usb:v%04X*", vendor);
		property = "ID_VENDOR_FROM_DATABASE";
	} else {
		snprintf(modalias, sizeof(modalias), "usb:v%04Xp%04X*", vendor, product);
		property = "ID_MODEL_FROM_DATABASE";
	}
	udev_list_entry_foreach(entry, udev_hwdb_get_properties_list_entry(n->hwdb, modalias, 0))
	{
		if (strcmp(udev_list_entry_get_name(entry), property) == 0) {
			const char *value = udev_list_entry_get_value(entry);

			if (value && *value)
				name = strdup(value);
			break;
		}
	}
	return cache_add(&n->cache, &key, name);
}

const char *names_usb_vendor(struct passthru_ctx *ctx, uint16_t vendor)
{
	return usb_name(ctx, NAME_USB_VENDOR, vendor, 0);
}

const char *names_usb_product(struct passthru_ctx *ctx, uint16_t vendor, uint16_t product)
{
	return usb_name(ctx, NAME_USB_PRODUCT, vendor, product);
}
