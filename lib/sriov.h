/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private pieces of SR-IOV: VF link requests over rtnetlink (vf-netlink.c) and the
 * persisted settings under /etc/passthru/vf.d (vf-config.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* PFs (sriov.c)                                                                              */

/*
 * Opens a PF's sysfs directory and writes its canonical address to ret_address. -EINVAL for a
 * malformed address, -ENODEV when absent, -EOPNOTSUPP for a VF or a function without SR-IOV.
 */
int pf_open_dir(struct passthru_ctx *ctx, const char *pf,
		char ret_address[PASSTHRU_PCI_ADDRESS_LEN + 1]);
/* Counts the PF's virtfnN links: the VFs it has now. */
unsigned pf_count_vfs(int pf_dirfd);
/* The address of VF index from the PF's virtfnN link. */
int pf_vf_address(int pf_dirfd, unsigned index, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1]);
/* Only the limit of the wait for another passthru's lock (0: 30 s); the writes' stays. */
void sriov_set_lock_timeout(struct passthru_sriov *s, unsigned msec);
/*
 * passthru_sriov_apply_persisted() for passthru_apply_persisted(): each change of a VF count
 * waits for another passthru's lock at most lock_timeout_ms (0: 30 s) and tells lock_wait
 * (with userdata) who holds it.
 */
int sriov_apply_persisted(struct passthru_ctx *ctx, unsigned flags, unsigned lock_timeout_ms,
			  passthru_takeover_wait_fn lock_wait, passthru_sriov_report_fn fn,
			  void *userdata);

/* ------------------------------------------------------------------------------------------ */
/* VF link requests (vf-netlink.c)                                                            */

#define ETH_P_8021Q_VALUE  0x8100
#define ETH_P_8021AD_VALUE 0x88a8

/* The settings of one VF to send; what is not "has_" stays as the driver has it. */
struct vf_settings {
	bool has_mac, has_vlan, has_spoofchk, has_trust, has_rate;
	uint8_t mac[6];
	unsigned vlan, qos;
	/* ETH_P_8021Q_VALUE or ETH_P_8021AD_VALUE. */
	uint16_t proto;
	bool spoofchk, trust;
	unsigned min_tx_rate, max_tx_rate;
};

/* Largest request or answer we build or accept in one piece. */
#define VF_NETLINK_BUFFER_SIZE 32768

/*
 * Builds the RTM_NEWLINK request that sets vf's settings on the interface ifindex, exactly as
 * iproute2's `ip link set DEV vf N ...` does (see vf-netlink.c), into buf. Returns the length,
 * -EINVAL when nothing is set, -ENOBUFS when buf is too small.
 */
int vf_netlink_build_set(void *buf, size_t size, uint32_t seq, int ifindex, unsigned vf,
			 const struct vf_settings *settings);
/* Builds the RTM_GETLINK request for ifindex with IFLA_EXT_MASK RTEXT_FILTER_VF. */
int vf_netlink_build_get(void *buf, size_t size, uint32_t seq, int ifindex);

/* One VF as the driver reports it; has_ flags say what was reported. */
struct vf_report {
	unsigned vf;
	bool has_mac, has_vlan, has_spoofchk, has_trust, has_rate, has_link_state;
	char mac[18];
	unsigned vlan, qos;
	uint16_t proto;
	bool spoofchk, trust;
	unsigned min_tx_rate, max_tx_rate;
	unsigned link_state;
};

/*
 * Parses one RTM_NEWLINK message (the answer to the request above) into the VFs of its
 * IFLA_VFINFO_LIST, sorted by VF number. No list gives none. -EBADMSG for a malformed message.
 */
int vf_netlink_parse_link(const void *msg, size_t len, struct vf_report **ret, size_t *ret_n);

/*
 * Sends a request on a fresh NETLINK_ROUTE socket with extended acks on and waits for its
 * answer: with want_reply, the first message of the answer (a copy, in *ret_reply); else the
 * ack. A negative errno from the kernel comes with its extended ack message in *ret_extack when
 * it sent one (NULL otherwise).
 */
int vf_netlink_talk(void *request, size_t len, bool want_reply, void **ret_reply,
		    size_t *ret_reply_len, char **ret_extack);

/*
 * The PF's network interface: the first entry of /sys/bus/pci/devices/PF/net/ by name, and its
 * ifindex. -ENOLINK when it has none.
 */
int pf_netdev(struct passthru_ctx *ctx, const char *pf, char **ret_name, int *ret_ifindex);

/* The parts of a passthru_vf the store needs. */
struct passthru_ctx *vf_context(struct passthru_vf *vf);
const struct vf_settings *vf_get_settings(const struct passthru_vf *vf);
/* Replaces the settings to send, checked as the setters check them. */
int vf_set_settings(struct passthru_vf *vf, const struct vf_settings *settings);

/* "mac 02:11:22:33:44:55 vlan 10 qos 3 spoofchk on ..." in the order of the request. */
int vf_settings_summary(const struct vf_settings *settings, char **ret);

/* ------------------------------------------------------------------------------------------ */
/* Persisted settings: /etc/passthru/vf.d/ADDRESS.conf (vf-config.c)                          */

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
/* Replaces the file of c->address atomically. */
int vf_config_save(struct passthru_ctx *ctx, const struct vf_config *c);
/*
 * The stored entry of dev's address when it is for dev (same identity), else a new empty one
 * for dev: a file left by another device at the address is replaced.
 */
int vf_config_for_device(struct passthru_ctx *ctx, struct passthru_pci_device *dev,
			 struct vf_config **ret);
