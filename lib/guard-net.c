/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network guards: an interface of the function that carries a default route or a host
 * address, directly or through the bond, bridge, team or VLAN above it.
 *
 * Routes come from /proc/net/route and /proc/net/ipv6_route (the main table, as the kernel
 * shows it there; policy-routing tables and the second hop of a multipath route are not in
 * these files), IPv6 addresses from /proc/net/if_inet6. IPv4 addresses have no /proc file:
 * they come from a netstate provider (guard.h), rtnetlink on the live host.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/socket.h>
#include <time.h>

#include "guard.h"
#include "sysfs-list.h"

/* bond over VLAN over bridge...: a few levels; more would be a loop. */
#define UPPER_DEPTH_MAX 8

/* ------------------------------------------------------------------------------------------ */
/* Parsers                                                                                    */

void route_table_done(struct route_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].ifname);
	free(t->v);
	*t = (struct route_table){0};
}

void addr_table_done(struct addr_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].ifname);
	free(t->v);
	*t = (struct addr_table){0};
}

/* Exactly 2 * n hex digits, most significant byte first. */
static int parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		char byte[3] = {s[2 * i], s[2 * i + 1], '\0'};
		uint64_t v;

		if (byte[0] == 'x' || byte[1] == 'x' || byte[1] == 'X' ||
		    parse_hex(byte, 0xff, &v) < 0)
			return -EBADMSG;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* A hex field without 0x, as the kernel prints them; at most max. */
static int parse_hex_field(const char *s, uint64_t max, uint64_t *ret)
{
	if (strchr(s, 'x') || strchr(s, 'X'))
		return -EBADMSG;
	return parse_hex(s, max, ret) < 0 ? -EBADMSG : 0;
}

/* An interface name as the kernel allows it: 1-15 bytes, no '/', ':' or blank. */
static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < IFNAMSIZ && !strpbrk(s, "/: \t") && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static int route_add(struct route_table *t, const char *ifname, int family, bool has_gateway,
		     const uint8_t *gateway, size_t gwlen)
{
	struct route_entry *v;
	char *name = strdup(ifname);

	if (!name)
		return -ENOMEM;
	v = ARRAY_GROW(t->v, t->n);
	if (!v) {
		free(name);
		return -ENOMEM;
	}
	t->n++;
	*v = (struct route_entry){.ifname = name, .family = family, .has_gateway = has_gateway};
	memcpy(v->gateway, gateway, gwlen);
	return 0;
}

/*
 * "Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT": addresses are the
 * __be32 as the kernel prints an integer, so the bytes in memory order are the address.
 */
static int route_line(char *line, size_t lineno, void *data)
{
	struct route_table *t = data;
	uint64_t dest, gw, flags, mask;
	char *f[16];
	int n;

	if (lineno == 1 && strncmp(line, "Iface", 5) == 0)
		return 0;
	n = split_fields(line, f, ELEMENTSOF(f));
	if (n < 0)
		return n;
	if (n != 11 || !ifname_valid(f[0]))
		return -EBADMSG;
	if (parse_hex_field(f[1], UINT32_MAX, &dest) < 0 ||
	    parse_hex_field(f[2], UINT32_MAX, &gw) < 0 ||
	    parse_hex_field(f[3], UINT32_MAX, &flags) < 0 ||
	    parse_hex_field(f[7], UINT32_MAX, &mask) < 0)
		return -EBADMSG;
	for (int i = 4; i < 11; i++) {
		long v;

		if (i != 7 && parse_long(f[i], INT32_MIN, UINT32_MAX, &v) < 0)
			return -EBADMSG;
	}
	if (dest != 0 || mask != 0 || !(flags & RTF_UP) || (flags & RTF_REJECT))
		return 0;
	{
		uint32_t g = (uint32_t)gw;
		uint8_t bytes[4];

		memcpy(bytes, &g, sizeof(bytes));
		return route_add(t, f[0], AF_INET, flags & RTF_GATEWAY, bytes, sizeof(bytes));
	}
}

int proc_net_route_parse(const char *text, struct route_table *t, size_t *ret_bad_line)
{
	return text_for_each_line(text, route_line, t, ret_bad_line);
}

/*
 * "dest plen src splen nexthop metric refcnt use flags dev", addresses as 32 hex digits in
 * network order. Unreachable defaults are listed on "lo" with RTF_REJECT.
 */
static int ipv6_route_line(char *line, size_t lineno, void *data)
{
	static const uint8_t any[16];
	struct route_table *t = data;
	uint8_t dest[16], src[16], nexthop[16];
	uint64_t plen, splen, flags;
	char *f[16];
	int n;

	n = split_fields(line, f, ELEMENTSOF(f));
	if (n < 0)
		return n;
	if (n != 10 || !ifname_valid(f[9]))
		return -EBADMSG;
	if (parse_hex_bytes(f[0], dest, 16) < 0 || parse_hex_field(f[1], 128, &plen) < 0 ||
	    parse_hex_bytes(f[2], src, 16) < 0 || parse_hex_field(f[3], 128, &splen) < 0 ||
	    parse_hex_bytes(f[4], nexthop, 16) < 0)
		return -EBADMSG;
	/* metric, refcnt, use, flags: 8 digits each; flags is the last one read. */
	for (int i = 5; i < 9; i++)
		if (strlen(f[i]) != 8 || parse_hex_field(f[i], UINT32_MAX, &flags) < 0)
			return -EBADMSG;
	if (plen != 0 || memcmp(dest, any, 16) != 0 || !(flags & RTF_UP) || (flags & RTF_REJECT))
		return 0;
	return route_add(t, f[9], AF_INET6, flags & RTF_GATEWAY, nexthop, 16);
}

int proc_net_ipv6_route_parse(const char *text, struct route_table *t, size_t *ret_bad_line)
{
	return text_for_each_line(text, ipv6_route_line, t, ret_bad_line);
}

static int addr_add(struct addr_table *t, const struct addr_entry *e)
{
	struct addr_entry *v = ARRAY_GROW(t->v, t->n);

	if (!v)
		return -ENOMEM;
	*v = *e;
	t->n++;
	return 0;
}

struct if_inet_parse {
	struct addr_table *t;
	int family;
};

/* "fe800000000000000a0027fffe123456 02 40 20 80 eth0": address, index, prefix, scope, flags. */
static int if_inet_line(char *line, size_t lineno, void *data)
{
	const struct if_inet_parse *p = data;
	struct addr_entry e = {.family = p->family};
	uint64_t index, plen, scope, flags;
	char *f[8];
	int n, r;

	n = split_fields(line, f, ELEMENTSOF(f));
	if (n < 0)
		return n;
	if (n != 6 || !ifname_valid(f[5]))
		return -EBADMSG;
	if (parse_hex_bytes(f[0], e.address, p->family == AF_INET6 ? 16 : 4) < 0 ||
	    parse_hex_field(f[1], INT32_MAX, &index) < 0 ||
	    parse_hex_field(f[2], p->family == AF_INET6 ? 128 : 32, &plen) < 0 ||
	    parse_hex_field(f[3], 0xff, &scope) < 0 || parse_hex_field(f[4], 0xff, &flags) < 0)
		return -EBADMSG;
	e.ifindex = (int)index;
	e.prefixlen = (unsigned)plen;
	e.scope = (unsigned)scope;
	e.flags = (unsigned)flags;
	e.ifname = strdup(f[5]);
	if (!e.ifname)
		return -ENOMEM;
	r = addr_add(p->t, &e);
	if (r < 0)
		free(e.ifname);
	return r;
}

int proc_net_if_inet_parse(const char *text, int family, struct addr_table *t, size_t *ret_bad_line)
{
	struct if_inet_parse p = {.t = t, .family = family};

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	return text_for_each_line(text, if_inet_line, &p, ret_bad_line);
}

/* ------------------------------------------------------------------------------------------ */
/* Providers of IPv4 addresses                                                                */

static int rtnl_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK; /* newer than our headers: not ours to read */
	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static int rtnl_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_table *t = data;
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	struct addr_entry e = {.family = AF_INET};

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), rtnl_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != 4)
		return MNL_CB_OK;
	memcpy(e.address, mnl_attr_get_payload(a), 4);
	e.ifindex = (int)ifa->ifa_index;
	e.prefixlen = ifa->ifa_prefixlen;
	e.scope = ifa->ifa_scope;
	e.flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32) >= 0)
		e.flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	/* The label is the interface's name, or "name:alias" for an old-style alias. */
	if (tb[IFA_LABEL] && mnl_attr_validate(tb[IFA_LABEL], MNL_TYPE_NUL_STRING) >= 0) {
		const char *label = mnl_attr_get_str(tb[IFA_LABEL]);

		e.ifname = strndup(label, strcspn(label, ":"));
		if (!e.ifname) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
	}
	if (addr_add(t, &e) < 0) {
		free(e.ifname);
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static void mnl_socket_closep(struct mnl_socket **nl)
{
	if (*nl)
		mnl_socket_close(*nl);
}

/* An RTM_GETADDR dump of the calling process's network namespace. */
static int rtnetlink_ipv4_addresses(struct passthru_ctx *ctx, struct addr_table *t)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	_cleanup_free_ char *buf = NULL;
	/* Dumps come in messages of up to a page or 32 KiB; a large buffer avoids truncation. */
	const size_t size = 32768;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned seq, portid;
	int r;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		r = -errno;
		log_err(ctx, "cannot open an rtnetlink socket: %s", strerror(-r));
		return r;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		log_err(ctx, "cannot bind an rtnetlink socket: %s", strerror(-r));
		return r;
	}
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = (unsigned)time(NULL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		log_err(ctx, "cannot ask rtnetlink for addresses: %s", strerror(-r));
		return r;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, size);

		if (n < 0) {
			r = -errno;
			log_err(ctx, "cannot read the addresses from rtnetlink: %s", strerror(-r));
			return r;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, rtnl_addr_cb, t);
		if (r == MNL_CB_ERROR) {
			r = errno ? -errno : -EBADMSG;
			log_err(ctx, "rtnetlink address dump failed: %s", strerror(-r));
			return r;
		}
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int parse_if_inet4(const char *text, void *table, size_t *bad)
{
	return proc_net_if_inet_parse(text, AF_INET, table, bad);
}

static int file_ipv4_addresses(struct passthru_ctx *ctx, struct addr_table *t)
{
	int r = guard_load_table(ctx, "/proc/net/if_inet4", parse_if_inet4, t);

	/* Not a kernel file: a fixture without it has no IPv4 addresses (guard.h). */
	return r == -ENOENT ? 0 : r;
}

const struct netstate_provider netstate_rtnetlink = {
    .name = "rtnetlink",
    .source = "rtnetlink's IPv4 addresses",
    .ipv4_addresses = rtnetlink_ipv4_addresses,
};

const struct netstate_provider netstate_files = {
    .name = "files",
    .source = "/proc/net/if_inet4",
    .ipv4_addresses = file_ipv4_addresses,
};

/* ------------------------------------------------------------------------------------------ */
/* Network state                                                                              */

void netstate_done(struct netstate *s)
{
	route_table_done(&s->routes);
	addr_table_done(&s->addresses);
}

static int parse_route(const char *text, void *table, size_t *bad)
{
	return proc_net_route_parse(text, table, bad);
}

static int parse_ipv6_route(const char *text, void *table, size_t *bad)
{
	return proc_net_ipv6_route_parse(text, table, bad);
}

static int parse_if_inet6(const char *text, void *table, size_t *bad)
{
	return proc_net_if_inet_parse(text, AF_INET6, table, bad);
}

/* Records the first source that could not be read; -ENOMEM goes back as it is. */
static int netstate_failed(struct netstate *s, const char *source, int error)
{
	if (error == -ENOMEM)
		return error;
	if (!s->unreadable) {
		s->unreadable = source;
		s->unreadable_error = error;
	}
	return 0;
}

/* An IPv6 file that is missing because the kernel has no IPv6 at all. */
static bool ipv6_absent(struct passthru_ctx *ctx, int error)
{
	_cleanup_close_ int fd = -1;

	if (error != -ENOENT)
		return false;
	fd = root_open_dir(ctx, "/proc/sys/net/ipv6");
	return fd == -ENOENT;
}

int netstate_load_with(struct passthru_ctx *ctx, const struct netstate_provider *provider,
		       struct netstate *ret)
{
	_cleanup_(netstate_done) struct netstate s = {0};
	static const struct {
		const char *path;
		int (*parse)(const char *text, void *table, size_t *bad);
		bool ipv6, addresses;
	} tables[] = {
	    {"/proc/net/route", parse_route, false, false},
	    {"/proc/net/ipv6_route", parse_ipv6_route, true, false},
	    {"/proc/net/if_inet6", parse_if_inet6, true, true},
	};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
		r = guard_load_table(ctx, tables[i].path, tables[i].parse,
				     tables[i].addresses ? (void *)&s.addresses
							 : (void *)&s.routes);
		if (r < 0 && tables[i].ipv6 && ipv6_absent(ctx, r)) {
			log_debug(ctx, "%s: missing, and so is IPv6", tables[i].path);
			r = 0;
		}
		if (r < 0)
			r = netstate_failed(&s, tables[i].path, r);
		if (r < 0)
			return r;
	}
	r = provider->ipv4_addresses(ctx, &s.addresses);
	if (r < 0)
		r = netstate_failed(&s, provider->source, r);
	if (r < 0)
		return r;
	log_debug(ctx, "network state (%s): %zu default routes, %zu addresses", provider->name,
		  s.routes.n, s.addresses.n);
	*ret = s;
	s = (struct netstate){0};
	return 0;
}

int netstate_load(struct passthru_ctx *ctx, struct netstate *ret)
{
	bool live = strcmp(passthru_ctx_get_sysroot(ctx), "/") == 0;

	return netstate_load_with(ctx, live ? &netstate_rtnetlink : &netstate_files, ret);
}

/* ------------------------------------------------------------------------------------------ */
/* The check                                                                                  */

struct net_check {
	struct passthru_ctx *ctx;
	struct passthru_guard_list *list;
	struct netstate state;
};

static void net_check_done(struct net_check *c)
{
	netstate_done(&c->state);
}

static int netdev_open(struct passthru_ctx *ctx, const char *name)
{
	_cleanup_free_ char *path = NULL;

	path = strf("/sys/class/net/%s", name);
	if (!path)
		return -ENOMEM;
	return root_open_dir(ctx, path);
}

/* The interface's index, -1 when unknown (only rtnetlink names addresses by index alone). */
static int netdev_ifindex(int fd)
{
	long v;

	return attr_read_long_at(fd, "ifindex", 1, INT32_MAX, &v) < 0 ? -1 : (int)v;
}

/* "bond", "bridge", the uevent's DEVTYPE ("vlan", "macvlan"...), else NULL. */
static int netdev_kind(int fd, char **ret)
{
	_cleanup_free_ char *uevent = NULL;
	const char *kind = NULL;
	char *s = NULL;

	if (faccessat(fd, "bonding", F_OK, 0) == 0)
		kind = "bond";
	else if (faccessat(fd, "bridge", F_OK, 0) == 0)
		kind = "bridge";
	else if (attr_read_at(fd, "uevent", &uevent) >= 0) {
		for (char *line = uevent; line && *line;) {
			char *eol = strchr(line, '\n');

			if (eol)
				*eol = '\0';
			if (strncmp(line, "DEVTYPE=", 8) == 0 && line[8]) {
				s = strdup(line + 8);
				if (!s)
					return -ENOMEM;
				break;
			}
			line = eol ? eol + 1 : NULL;
		}
	}
	if (kind && !(s = strdup(kind)))
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* The devices directly above an interface: its master and its upper_* links, sorted. */
static int netdev_uppers(int fd, char ***ret, char **ret_master)
{
	_cleanup_strv_free_ char **v = NULL;
	_cleanup_free_ char *master = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dfd, r;

	r = attr_link_basename_at(fd, "master", &master);
	if (r == -ENOMEM)
		return r;
	if (master && strv_push(&v, master) < 0)
		return -ENOMEM;
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((errno = 0, de = readdir(d)))
		if (strncmp(de->d_name, "upper_", 6) == 0 && de->d_name[6] &&
		    !strv_contains(v, de->d_name + 6) && strv_push(&v, de->d_name + 6) < 0)
			return -ENOMEM;
	if (errno != 0)
		return -errno;
	strv_sort(v);
	*ret = TAKE_PTR(v);
	*ret_master = TAKE_PTR(master);
	return 0;
}

static bool ipv6_is_link_local(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/*
 * Reports one use (a default route or an address) of an interface: as its own kind for the
 * function's interface, as an upper device's otherwise (relation says how they are tied).
 */
static int report_use(struct net_check *c, enum passthru_guard_kind own_kind, const char *origin,
		      const char *name, const char *relation, const char *upper_hint,
		      const char *own_hint, const char *what)
{
	if (!relation)
		return guard_list_add(c->list, own_kind, origin, own_hint, "%s %s", name, what);
	return guard_list_add(c->list, PASSTHRU_GUARD_UPPER, origin, upper_hint, "%s, which %s",
			      relation, what);
}

static int check_netdev(struct net_check *c, const char *origin, const char *name,
			const char *relation, const char *upper_hint, unsigned depth);

static int check_uppers(struct net_check *c, int fd, const char *origin, const char *name,
			const char *relation, const char *upper_hint, unsigned depth)
{
	_cleanup_strv_free_ char **uppers = NULL;
	_cleanup_free_ char *master = NULL;
	int r;

	if (depth + 1 >= UPPER_DEPTH_MAX) {
		log_debug(c->ctx, "%s: upper devices nest deeper than %d; not followed", name,
			  UPPER_DEPTH_MAX);
		return 0;
	}
	r = netdev_uppers(fd, &uppers, &master);
	if (r < 0)
		return r;
	STRV_FOREACH (u, uppers) {
		_cleanup_free_ char *kind = NULL, *rel = NULL, *hint = NULL;
		_cleanup_close_ int ufd = netdev_open(c->ctx, *u);
		bool is_master = master && strcmp(master, *u) == 0;

		if (ufd == -ENOMEM)
			return ufd;
		if (ufd >= 0 && netdev_kind(ufd, &kind) < 0)
			return -ENOMEM;

		if (depth > 0)
			rel = strf("%s, under %s%s%s", relation, kind ? kind : "", kind ? " " : "",
				   *u);
		else if (is_master && kind && strcmp(kind, "bond") == 0)
			rel = strf("%s is a slave of bond %s", name, *u);
		else if (is_master)
			rel = strf("%s is a port of %s%s%s", name, kind ? kind : "",
				   kind ? " " : "", *u);
		else
			rel =
			    strf("%s is below %s%s%s", name, kind ? kind : "", kind ? " " : "", *u);
		if (!rel)
			return -ENOMEM;
		if (depth == 0) {
			hint = is_master ? strf("ip link set %s nomaster", name)
					 : strf("ip link del %s", *u);
			if (!hint)
				return -ENOMEM;
		}
		r = check_netdev(c, origin, *u, rel, depth == 0 ? hint : upper_hint, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The default routes and addresses of one interface (the function's at depth 0, else one
 * above it), then of the devices above it.
 */
static int check_netdev(struct net_check *c, const char *origin, const char *name,
			const char *relation, const char *upper_hint, unsigned depth)
{
	_cleanup_close_ int fd = netdev_open(c->ctx, name);
	int ifindex, r;

	if (fd < 0)
		return errno_is_vanished(fd) ? 0 : fd; /* went away while we look */
	ifindex = netdev_ifindex(fd);

	for (size_t i = 0; i < c->state.routes.n; i++) {
		const struct route_entry *rt = &c->state.routes.v[i];
		_cleanup_free_ char *what = NULL, *hint = NULL;
		char gw[INET6_ADDRSTRLEN] = "";
		bool v6 = rt->family == AF_INET6;

		if (strcmp(rt->ifname, name) != 0)
			continue;
		if (rt->has_gateway && !inet_ntop(rt->family, rt->gateway, gw, sizeof(gw)))
			return -errno;
		what = strf("carries the %sdefault route%s%s", v6 ? "IPv6 " : "",
			    rt->has_gateway ? " via " : "", gw);
		hint = strf("ip %sroute del default dev %s", v6 ? "-6 " : "", name);
		if (!what || !hint)
			return -ENOMEM;
		r = report_use(c, PASSTHRU_GUARD_ROUTE, origin, name, relation, upper_hint, hint,
			       what);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < c->state.addresses.n; i++) {
		const struct addr_entry *a = &c->state.addresses.v[i];
		_cleanup_free_ char *what = NULL, *hint = NULL;
		char text[INET6_ADDRSTRLEN];

		if (a->ifname ? strcmp(a->ifname, name) != 0 : a->ifindex != ifindex)
			continue;
		/* Every interface that is up gets one; it says nothing about the host's use. */
		if (a->family == AF_INET6 && ipv6_is_link_local(a->address))
			continue;
		/* Failed duplicate address detection: the address is not in use. */
		if (a->flags & IFA_F_DADFAILED)
			continue;
		if (!inet_ntop(a->family, a->address, text, sizeof(text)))
			return -errno;
		what = strf("has the host address %s/%u", text, a->prefixlen);
		hint = strf("ip addr del %s/%u dev %s", text, a->prefixlen, name);
		if (!what || !hint)
			return -ENOMEM;
		r = report_use(c, PASSTHRU_GUARD_ADDRESS, origin, name, relation, upper_hint, hint,
			       what);
		if (r < 0)
			return r;
	}

	return check_uppers(c, fd, origin, name, relation, upper_hint, depth);
}

int guard_check_network(struct passthru_ctx *ctx, const char *devpath,
			struct passthru_guard_list *list)
{
	_cleanup_(sysfs_list_done) struct sysfs_list ifs = {0};
	_cleanup_(net_check_done) struct net_check c = {.ctx = ctx, .list = list};
	bool loaded = false;
	int r;

	/* A kernel without networking has no /sys/class/net: an empty list. */
	r = sysfs_class_list(ctx, "/sys/class/net", NULL, &ifs);
	if (r < 0) {
		const char *slash = strrchr(devpath, '/');

		return guard_add_unreadable(list, slash ? slash + 1 : devpath, "/sys/class/net", r);
	}
	for (size_t i = 0; i < ifs.n; i++) {
		if (!path_is_below(ifs.v[i].path, devpath))
			continue;
		/* Only a function with an interface costs the routes and addresses. */
		if (!loaded) {
			r = netstate_load(ctx, &c.state);
			if (r < 0)
				return r;
			loaded = true;
			/* Fail closed, and say what else is seen. */
			if (c.state.unreadable)
				r = guard_add_unreadable(list, ifs.v[i].name, c.state.unreadable,
							 c.state.unreadable_error);
			if (r < 0)
				return r;
		}
		log_debug(ctx, "interface %s is on %s", ifs.v[i].name, devpath);
		r = check_netdev(&c, ifs.v[i].name, ifs.v[i].name, NULL, NULL, 0);
		if (r < 0)
			return r;
	}
	return 0;
}
