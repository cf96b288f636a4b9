/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Modalias lookups in the host's module index through libkmod, like modprobe and lspci -k.
 * One kmod context per passthru context, made on first use, with its indexes loaded once:
 * a listing looks up every device. A lookup costs tens of microseconds (aliases are glob
 * patterns) while a host has few distinct modaliases (all VFs of a PF share one), so answers
 * are cached per modalias.
 */
#include <libkmod.h>
#include <stdarg.h>

#include "modules.h"

struct answer {
	char *modalias;
	char **names;
};

struct modules {
	/* NULL when the host has no module directory: every lookup is empty. */
	struct kmod_ctx *kmod;
	/* Open addressing, linear probing; size a power of two, at most half full. */
	struct answer *answers;
	size_t size, count;
};

static void modules_free(void *p)
{
	struct modules *m = p;

	for (size_t i = 0; i < m->size; i++) {
		free(m->answers[i].modalias);
		strv_free(m->answers[i].names);
	}
	free(m->answers);
	kmod_unref(m->kmod);
	free(m);
}

static size_t string_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	return (size_t)(h ^ (h >> 32));
}

static struct answer *answer_slot(struct answer *answers, size_t size, const char *modalias)
{
	size_t i = string_hash(modalias) & (size - 1);

	while (answers[i].modalias && strcmp(answers[i].modalias, modalias) != 0)
		i = (i + 1) & (size - 1);
	return &answers[i];
}

/* Takes names; on failure the answer is simply not cached. */
static void answer_add(struct modules *m, const char *modalias, char **names)
{
	struct answer *a;

	if ((m->count + 1) * 2 > m->size) {
		size_t nsize = m->size ? m->size * 2 : 64;
		struct answer *n = calloc(nsize, sizeof(*n));

		if (!n) {
			strv_free(names);
			return;
		}
		for (size_t i = 0; i < m->size; i++)
			if (m->answers[i].modalias)
				*answer_slot(n, nsize, m->answers[i].modalias) = m->answers[i];
		free(m->answers);
		m->answers = n;
		m->size = nsize;
	}
	a = answer_slot(m->answers, m->size, modalias);
	a->modalias = strdup(modalias);
	if (!a->modalias) {
		strv_free(names);
		return;
	}
	a->names = names;
	m->count++;
}

static int strv_copy(char *const *v, char ***ret)
{
	_cleanup_strv_free_ char **copy = calloc(strv_length(v) + 1, sizeof(char *));

	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; v && v[i]; i++) {
		copy[i] = strdup(v[i]);
		if (!copy[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(copy);
	return 0;
}

void kmod_log_forward(void *data, int priority _unused_, const char *file _unused_,
		      int line _unused_, const char *fn _unused_, const char *format, va_list args)
{
	struct passthru_ctx *ctx = data;
	_cleanup_free_ char *message = NULL;

	if (vasprintf(&message, format, args) < 0)
		return;
	strip_trailing(message);
	log_debug(ctx, "libkmod: %s", message);
}

static void strv_free_array(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

static struct modules *modules_get(struct passthru_ctx *ctx)
{
	/* libkmod's default configuration directories, taken below the root. */
	static const char *const config_dirs[] = {
	    "/etc/modprobe.d",
	    "/run/modprobe.d",
	    "/usr/local/lib/modprobe.d",
	    "/lib/modprobe.d",
	};
	struct modules *m = ctx_slot_get(ctx, CTX_SLOT_KMOD);
	_cleanup_free_ char *dir = NULL, *host_dir = NULL;
	char *config[ELEMENTSOF(config_dirs) + 1] = {NULL};
	const char *release;
	bool rooted;
	int r;

	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	ctx_slot_set(ctx, CTX_SLOT_KMOD, m, modules_free);

	release = passthru_ctx_get_kernel_release(ctx);
	if (!release) {
		log_debug(ctx, "kernel release unknown, no kernel modules");
		return m;
	}
	if (asprintf(&host_dir, "/lib/modules/%s", release) < 0) {
		host_dir = NULL;
		return m;
	}
	if (!root_exists(ctx, host_dir)) {
		log_debug(ctx, "%s does not exist, no kernel modules", host_dir);
		return m;
	}
	if (root_path(ctx, host_dir, &dir) < 0)
		return m;

	/*
	 * modprobe.d can define aliases too; below a root other than "/" they must come from
	 * the root, not from the machine running us.
	 */
	rooted = strcmp(passthru_ctx_get_sysroot(ctx), "/") != 0;
	if (rooted)
		for (size_t i = 0; i < ELEMENTSOF(config_dirs); i++)
			if (root_path(ctx, config_dirs[i], &config[i]) < 0) {
				strv_free_array(config, i);
				return m;
			}

	m->kmod = kmod_new(dir, rooted ? (const char *const *)config : NULL);
	strv_free_array(config, ELEMENTSOF(config_dirs));
	if (!m->kmod) {
		log_debug(ctx, "cannot set up libkmod for %s", dir);
		return m;
	}
	kmod_set_log_fn(m->kmod, kmod_log_forward, ctx);
	kmod_set_log_priority(m->kmod, passthru_ctx_get_log_priority(ctx));

	/* Without the binary indexes libkmod still answers, opening them on every lookup. */
	r = kmod_load_resources(m->kmod);
	if (r < 0)
		log_debug(ctx, "cannot load the module index of %s: %s", dir, strerror(-r));
	return m;
}

/* The lookup itself; *ret is never NULL on success. */
static int lookup(struct passthru_ctx *ctx, struct modules *m, const char *modalias, char ***ret)
{
	struct kmod_list *list = NULL, *entry;
	_cleanup_strv_free_ char **names = NULL;
	int r;

	if (m->kmod) {
		r = kmod_module_new_from_lookup(m->kmod, modalias, &list);
		if (r < 0) {
			log_debug(ctx, "module lookup of %s failed: %s", modalias, strerror(-r));
			list = NULL;
		}
		kmod_list_foreach(entry, list)
		{
			struct kmod_module *mod = kmod_module_get_module(entry);
			const char *name = kmod_module_get_name(mod);

			if (name && !strv_contains(names, name))
				r = strv_push(&names, name);
			else
				r = 0;
			kmod_module_unref(mod);
			if (r < 0) {
				kmod_module_unref_list(list);
				return r;
			}
		}
		kmod_module_unref_list(list);
	}
	if (strv_ensure(&names) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(names);
	return 0;
}

int modules_for_modalias(struct passthru_ctx *ctx, const char *modalias, char ***ret)
{
	struct modules *m;
	char **names = NULL;
	int r;

	if (!modalias || !ret)
		return -EINVAL;
	m = modules_get(ctx);
	if (!m)
		return -ENOMEM;
	if (m->size > 0) {
		struct answer *a = answer_slot(m->answers, m->size, modalias);

		if (a->modalias)
			return strv_copy(a->names, ret);
	}
	r = lookup(ctx, m, modalias, &names);
	if (r < 0)
		return r;
	r = strv_copy(names, ret);
	answer_add(m, modalias, names);
	return r;
}
