/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: persisted settings, /etc/passthru/vf.d/ADDRESS.conf (vf-config.c).
 */
#pragma once

#include <stdbool.h>

#include "internal.h"
#include "vf-settings.h"

#define VF_CONFIG_DIR "/etc/passthru/vf.d"

struct vf_config_vf {
	unsigned index;
	struct vf_settings settings;
};

/*
 * One PF's file:
 *     device 8086:1572:8086:0000
 *     vfs 4 autoprobe=off vfio
 *     vf 0 mac=02:11:22:33:44:55 vlan=10 qos=3 proto=802.1Q spoofchk=on trust=off max-tx-rate=100
 */
struct vf_config {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	/* "vvvv:dddd:ssss:ssss". */
	char id[20];
	bool has_numvfs;
	unsigned numvfs;
	/* -1 when not given. */
	int autoprobe;
	bool bind_vfio;
	/* Sorted by index, unique. */
	struct vf_config_vf *vfs;
	size_t n_vfs;
};

void vf_config_free(struct vf_config *c);
static inline void vf_config_freep(struct vf_config **c)
{
	vf_config_free(*c);
}
#define _cleanup_vf_config_ _cleanup_(vf_config_freep)

/*
 * Parses a file's text; -EBADMSG with *ret_line (1-based, 0 for the file as a whole) on the
 * first malformed line; a file without a device line is malformed.
 */
int vf_config_parse(const char *text, size_t len, struct vf_config **ret, unsigned *ret_line);
int vf_config_format(const struct vf_config *c, char **ret);
/* Merges settings into the entry of VF index (made when missing). */
int vf_config_put_vf(struct vf_config *c, unsigned index, const struct vf_settings *settings);

/*
 * Reads the file of pf; -ENOENT when there is none. Logs a malformed file's line.
 */
int vf_config_load(struct passthru_ctx *ctx, const char *pf, struct vf_config **ret);
/* Reads the file of address, without logging; on -EBADMSG *ret_line says where. */
int vf_config_read(struct passthru_ctx *ctx, const char *address, struct vf_config **ret,
		   unsigned *ret_line);
/* Replaces the file of c->address atomically. */
int vf_config_save(struct passthru_ctx *ctx, const struct vf_config *c);
/*
 * The stored entry of dev's address when it is for dev (same identity), else a new empty one
 * for dev: a file left by another device at the address is replaced.
 */
int vf_config_for_device(struct passthru_ctx *ctx, struct passthru_pci_device *dev,
			 struct vf_config **ret);
