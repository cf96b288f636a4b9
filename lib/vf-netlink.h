/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: VF link requests over rtnetlink (vf-netlink.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "vf-settings.h"

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
