/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF link settings over rtnetlink. A NIC's PF driver owns its VFs' MAC address, VLAN, spoof
 * checking, trust and rate limits; they are set with a request on the PF's interface carrying
 * IFLA_VFINFO_LIST -> IFLA_VF_INFO -> one attribute per setting, and read back with
 * RTM_GETLINK and RTEXT_FILTER_VF.
 *
 * The request is built to be byte for byte what iproute2's `ip link set DEV vf N ...` sends
 * (tests/fixtures/vf-netlink holds its captured messages), because that is the form every
 * driver has been exercised with:
 * - RTM_NEWLINK without NLM_F_CREATE (the kernel sets up an existing link with it as with
 *   RTM_SETLINK), NLM_F_REQUEST | NLM_F_ACK;
 * - nests without NLA_F_NESTED, which libmnl sets and the kernel ignores here;
 * - the settings in the order mac, vlan, spoofchk, trust, then the rate last;
 * - an 802.1Q VLAN as the old IFLA_VF_VLAN, only 802.1ad as IFLA_VF_VLAN_LIST;
 * - the rate as IFLA_VF_RATE with both limits (the minimum read from the driver first).
 * The socket sets NETLINK_EXT_ACK, so a refusal comes with the kernel's (or driver's) reason.
 *
 * rtnetlink reaches the running kernel only: below a sysroot other than "/" nothing is sent.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "vf-netlink.h"

/* ------------------------------------------------------------------------------------------ */
/* Building requests                                                                          */

/* A nest as iproute2 makes it: libmnl adds NLA_F_NESTED, which iproute2 does not send. */
static struct nlattr *nest_start(struct nlmsghdr *nlh, size_t size, uint16_t type)
{
	struct nlattr *a = mnl_attr_nest_start_check(nlh, size, type);

	if (a)
		a->nla_type = type;
	return a;
}

static struct nlmsghdr *put_link_header(void *buf, size_t size, uint16_t type, uint16_t flags,
					uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)))
		return NULL;
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int vf_netlink_build_set(void *buf, size_t size, uint32_t seq, int ifindex, unsigned vf,
			 const struct vf_settings *s)
{
	struct nlmsghdr *nlh;
	struct nlattr *list, *info;

	if (!s->has_mac && !s->has_vlan && !s->has_spoofchk && !s->has_trust && !s->has_rate)
		return -EINVAL;
	nlh = put_link_header(buf, size, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex);
	if (!nlh)
		return -ENOBUFS;
	list = nest_start(nlh, size, IFLA_VFINFO_LIST);
	info = list ? nest_start(nlh, size, IFLA_VF_INFO) : NULL;
	if (!info)
		return -ENOBUFS;

	if (s->has_mac) {
		struct ifla_vf_mac m;

		memset(&m, 0, sizeof(m));
		m.vf = vf;
		memcpy(m.mac, s->mac, 6);
		if (!mnl_attr_put_check(nlh, size, IFLA_VF_MAC, sizeof(m), &m))
			return -ENOBUFS;
	}
	if (s->has_vlan && s->proto == ETH_P_8021AD_VALUE) {
		struct ifla_vf_vlan_info v;
		struct nlattr *vlist;

		memset(&v, 0, sizeof(v));
		v.vf = vf;
		v.vlan = s->vlan;
		v.qos = s->qos;
		v.vlan_proto = htons(s->proto);
		vlist = nest_start(nlh, size, IFLA_VF_VLAN_LIST);
		if (!vlist || !mnl_attr_put_check(nlh, size, IFLA_VF_VLAN_INFO, sizeof(v), &v))
			return -ENOBUFS;
		mnl_attr_nest_end(nlh, vlist);
	} else if (s->has_vlan) {
		struct ifla_vf_vlan v;

		memset(&v, 0, sizeof(v));
		v.vf = vf;
		v.vlan = s->vlan;
		v.qos = s->qos;
		if (!mnl_attr_put_check(nlh, size, IFLA_VF_VLAN, sizeof(v), &v))
			return -ENOBUFS;
	}
	if (s->has_spoofchk) {
		struct ifla_vf_spoofchk c = {.vf = vf, .setting = s->spoofchk};

		if (!mnl_attr_put_check(nlh, size, IFLA_VF_SPOOFCHK, sizeof(c), &c))
			return -ENOBUFS;
	}
	if (s->has_trust) {
		struct ifla_vf_trust t = {.vf = vf, .setting = s->trust};

		if (!mnl_attr_put_check(nlh, size, IFLA_VF_TRUST, sizeof(t), &t))
			return -ENOBUFS;
	}
	if (s->has_rate) {
		struct ifla_vf_rate r = {
		    .vf = vf, .min_tx_rate = s->min_tx_rate, .max_tx_rate = s->max_tx_rate};

		if (!mnl_attr_put_check(nlh, size, IFLA_VF_RATE, sizeof(r), &r))
			return -ENOBUFS;
	}
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

int vf_netlink_build_get(void *buf, size_t size, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = put_link_header(buf, size, RTM_GETLINK, NLM_F_REQUEST, seq, ifindex);

	if (!nlh)
		return -ENOBUFS;
	/* VF statistics are large and not what we show. */
	if (!mnl_attr_put_u32_check(nlh, size, IFLA_EXT_MASK,
				    RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing the driver's report                                                                */

/* Copies an attribute's payload when it holds at least size bytes. */
static bool payload_get(const struct nlattr *a, void *dst, size_t size)
{
	if (mnl_attr_get_payload_len(a) < size)
		return false;
	memcpy(dst, mnl_attr_get_payload(a), size);
	return true;
}

static void parse_vf_info(const struct nlattr *info, struct vf_report *v, bool *has_vf)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, info)
	{
		switch (mnl_attr_get_type(a)) {
		case IFLA_VF_MAC: {
			struct ifla_vf_mac m;

			if (!payload_get(a, &m, sizeof(m)))
				break;
			v->vf = m.vf;
			*has_vf = true;
			snprintf(v->mac, sizeof(v->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m.mac[0],
				 m.mac[1], m.mac[2], m.mac[3], m.mac[4], m.mac[5]);
			v->has_mac = true;
			break;
		}
		case IFLA_VF_VLAN: {
			struct ifla_vf_vlan vl;

			/* The list, when there is one, tells the protocol too: it wins. */
			if (v->has_vlan || !payload_get(a, &vl, sizeof(vl)))
				break;
			v->vf = vl.vf;
			*has_vf = true;
			v->vlan = vl.vlan;
			v->qos = vl.qos;
			v->proto = ETH_P_8021Q_VALUE;
			v->has_vlan = true;
			break;
		}
		case IFLA_VF_VLAN_LIST: {
			const struct nlattr *e;

			mnl_attr_for_each_nested(e, a)
			{
				struct ifla_vf_vlan_info vi;

				if (mnl_attr_get_type(e) != IFLA_VF_VLAN_INFO ||
				    !payload_get(e, &vi, sizeof(vi)))
					continue;
				v->vf = vi.vf;
				*has_vf = true;
				v->vlan = vi.vlan;
				v->qos = vi.qos;
				v->proto = ntohs(vi.vlan_proto);
				v->has_vlan = true;
				break;
			}
			break;
		}
		case IFLA_VF_RATE: {
			struct ifla_vf_rate r;

			if (!payload_get(a, &r, sizeof(r)))
				break;
			v->vf = r.vf;
			*has_vf = true;
			v->min_tx_rate = r.min_tx_rate;
			v->max_tx_rate = r.max_tx_rate;
			v->has_rate = true;
			break;
		}
		case IFLA_VF_SPOOFCHK: {
			struct ifla_vf_spoofchk c;

			if (!payload_get(a, &c, sizeof(c)))
				break;
			v->vf = c.vf;
			*has_vf = true;
			/* The kernel fills in -1 for a driver that does not say. */
			if (c.setting <= 1) {
				v->spoofchk = c.setting;
				v->has_spoofchk = true;
			}
			break;
		}
		case IFLA_VF_TRUST: {
			struct ifla_vf_trust t;

			if (!payload_get(a, &t, sizeof(t)))
				break;
			v->vf = t.vf;
			*has_vf = true;
			if (t.setting <= 1) {
				v->trust = t.setting;
				v->has_trust = true;
			}
			break;
		}
		case IFLA_VF_LINK_STATE: {
			struct ifla_vf_link_state l;

			if (!payload_get(a, &l, sizeof(l)))
				break;
			v->vf = l.vf;
			*has_vf = true;
			if (l.link_state < __IFLA_VF_LINK_STATE_MAX) {
				v->link_state = l.link_state;
				v->has_link_state = true;
			}
			break;
		}
		default:
			break;
		}
	}
}

static int cmp_report(const void *a, const void *b)
{
	const struct vf_report *x = a, *y = b;

	return x->vf < y->vf ? -1 : x->vf > y->vf;
}

int vf_netlink_parse_link(const void *msg, size_t len, struct vf_report **ret, size_t *ret_n)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *a;
	_cleanup_free_ struct vf_report *vfs = NULL;
	size_t n = 0;

	if (len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len > len ||
	    nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < MNL_ALIGN(sizeof(struct ifinfomsg)))
		return -EBADMSG;

	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
	{
		const struct nlattr *info;

		if (mnl_attr_get_type(a) != IFLA_VFINFO_LIST)
			continue;
		mnl_attr_for_each_nested(info, a)
		{
			struct vf_report v = {0};
			bool has_vf = false;

			if (mnl_attr_get_type(info) != IFLA_VF_INFO)
				continue;
			parse_vf_info(info, &v, &has_vf);
			/* Every setting carries the VF number: without any, it is nobody's. */
			if (!has_vf)
				continue;
			if (n % 16 == 0) {
				struct vf_report *nv = realloc(vfs, (n + 16) * sizeof(*vfs));

				if (!nv)
					return -ENOMEM;
				vfs = nv;
			}
			vfs[n++] = v;
		}
	}
	if (n > 1)
		qsort(vfs, n, sizeof(*vfs), cmp_report);
	*ret = TAKE_PTR(vfs);
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Talking to the kernel                                                                      */

static void mnl_socket_closep(struct mnl_socket **nl)
{
	if (*nl)
		mnl_socket_close(*nl);
}

/* The kernel's message in an error's extended ack TLVs, when there is one. */
static char *extack_message(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*err), payload = mnl_nlmsg_get_payload_len(nlh);
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	/* Without NLM_F_CAPPED the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (err->msg.nlmsg_len < MNL_NLMSG_HDRLEN)
			return NULL;
		offset += MNL_ALIGN(err->msg.nlmsg_len - MNL_NLMSG_HDRLEN);
	}
	if (offset >= payload)
		return NULL;
	mnl_attr_for_each(a, nlh, offset)
	{
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
			const char *s = mnl_attr_get_str(a);

			return *s ? escape_for_message(s, 512) : NULL;
		}
	}
	return NULL;
}

int vf_netlink_talk(void *request, size_t len, bool want_reply, void **ret_reply,
		    size_t *ret_reply_len, char **ret_extack)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	const struct nlmsghdr *req = request;
	struct timeval tv = {.tv_sec = 10};
	unsigned portid;
	int one = 1;

	*ret_extack = NULL;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	/* Kernels before 4.12 have no extended acks: errors then come without a message. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	/* rtnetlink answers at once; a receive that waits this long will not get one. */
	(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, request, len) < 0)
		return -errno;

	for (;;) {
		_cleanup_free_ char *buf = NULL;
		const struct nlmsghdr *nlh;
		ssize_t n;
		int left;

		/* Learn the datagram's size first: a PF with many VFs sends a large one. */
		n = recv(mnl_socket_get_fd(nl), NULL, 0, MSG_PEEK | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (n > 16 * 1024 * 1024)
			return -EMSGSIZE;
		buf = malloc(n > 0 ? (size_t)n : 1);
		if (!buf)
			return -ENOMEM;
		n = recv(mnl_socket_get_fd(nl), buf, (size_t)n, 0);
		if (n < 0)
			return -errno;
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (!mnl_nlmsg_portid_ok(nlh, portid) ||
			    !mnl_nlmsg_seq_ok(nlh, req->nlmsg_seq))
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
					return -EBADMSG;
				if (err->error < 0) {
					*ret_extack = extack_message(nlh);
					return err->error;
				}
				if (!want_reply)
					return 0;
				/* An ack without the answer we asked for. */
				return -ENODATA;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return -ENODATA;
			if (want_reply) {
				void *copy = malloc(nlh->nlmsg_len);

				if (!copy)
					return -ENOMEM;
				memcpy(copy, nlh, nlh->nlmsg_len);
				*ret_reply = copy;
				*ret_reply_len = nlh->nlmsg_len;
				return 0;
			}
		}
	}
}
