/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One VF of a NIC's PF (struct passthru_vf): its link settings, set and read over
 * rtnetlink (vf-netlink.c) on the PF's interface, and saved in the PF's file (vf-config.c); and
 * the list of what the driver reports about the VFs.
 */
#include <linux/if_link.h>
#include <time.h>

#include "executor-vf.h"
#include "pf.h"
#include "takeover.h"
#include "vf.h"
#include "vf-config.h"
#include "vf-netlink.h"

/* Reads what the driver reports about the VFs of ifindex. */
static int read_reports(struct passthru_ctx *ctx, const struct vf_link_ops *ops, int ifindex,
			struct vf_report **ret, size_t *ret_n)
{
	int r = ops->get(ops->userdata, ifindex, ret, ret_n);

	if (r < 0)
		log_debug(ctx, "RTM_GETLINK of ifindex %d: %s", ifindex, strerror(-r));
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* One VF                                                                                     */

struct passthru_vf {
	unsigned refcount;
	struct passthru_ctx *ctx;
	char pf[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	unsigned index;
	char *netdev;
	int ifindex;
	struct vf_settings settings;
	/* The executor's: each write of a repair that comes first, the wait for the lock. */
	unsigned timeout_ms;
	unsigned lock_timeout_ms;
	passthru_takeover_wait_fn wait_fn;
	void *wait_userdata;
	char *summary;
	char *error;
};

_public_ int passthru_vf_new(struct passthru_ctx *ctx, const char *pf, unsigned index,
			     struct passthru_vf **ret)
{
	_cleanup_close_ int dfd = -1;
	struct passthru_vf *vf;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1], vf_address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	_cleanup_free_ char *netdev = NULL;
	int ifindex = 0, r;

	if (!ctx || !pf || !ret)
		return -EINVAL;
	dfd = pf_open_dir(ctx, pf, address);
	if (dfd < 0)
		return dfd;
	r = pf_vf_address(dfd, index, vf_address);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : r;
	r = pf_netdev(ctx, address, &netdev, &ifindex);
	if (r < 0)
		return r;

	vf = calloc(1, sizeof(*vf));
	if (!vf)
		return -ENOMEM;
	vf->refcount = 1;
	vf->ctx = passthru_ctx_ref(ctx);
	memcpy(vf->pf, address, sizeof(vf->pf));
	memcpy(vf->address, vf_address, sizeof(vf->address));
	vf->index = index;
	vf->netdev = TAKE_PTR(netdev);
	vf->ifindex = ifindex;
	vf->timeout_ms = DEFAULT_TIMEOUT_MS;
	vf->lock_timeout_ms = LOCK_TIMEOUT_MS;
	*ret = vf;
	return 0;
}

static void vf_free(struct passthru_vf *vf)
{
	free(vf->netdev);
	free(vf->summary);
	free(vf->error);
	passthru_ctx_unref(vf->ctx);
	free(vf);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_vf, passthru_vf, vf_free);

_public_ const char *passthru_vf_get_pf(const struct passthru_vf *vf)
{
	return vf->pf;
}

_public_ unsigned passthru_vf_get_index(const struct passthru_vf *vf)
{
	return vf->index;
}

_public_ const char *passthru_vf_get_address(const struct passthru_vf *vf)
{
	return vf->address;
}

_public_ const char *passthru_vf_get_netdev(const struct passthru_vf *vf)
{
	return vf->netdev;
}

_public_ int passthru_vf_set_mac(struct passthru_vf *vf, const uint8_t mac[6])
{
	/* A VF's address is a station's: a group address would never be its own. */
	if (mac[0] & 1)
		return -EINVAL;
	memcpy(vf->settings.mac, mac, 6);
	vf->settings.has_mac = true;
	return 0;
}

_public_ int passthru_vf_set_vlan(struct passthru_vf *vf, unsigned vlan, unsigned qos,
				  uint16_t proto)
{
	if (proto == 0)
		proto = ETH_P_8021Q_VALUE;
	if (proto != ETH_P_8021Q_VALUE && proto != ETH_P_8021AD_VALUE)
		return -EINVAL;
	if (vlan > 4095 || qos > 7)
		return -ERANGE;
	vf->settings.vlan = vlan;
	vf->settings.qos = qos;
	vf->settings.proto = proto;
	vf->settings.has_vlan = true;
	return 0;
}

_public_ void passthru_vf_set_spoofchk(struct passthru_vf *vf, bool on)
{
	vf->settings.spoofchk = on;
	vf->settings.has_spoofchk = true;
}

_public_ void passthru_vf_set_trust(struct passthru_vf *vf, bool on)
{
	vf->settings.trust = on;
	vf->settings.has_trust = true;
}

_public_ void passthru_vf_set_max_tx_rate(struct passthru_vf *vf, unsigned mbps)
{
	vf->settings.max_tx_rate = mbps;
	vf->settings.has_rate = true;
}

_public_ void passthru_vf_set_timeout(struct passthru_vf *vf, unsigned msec)
{
	vf->timeout_ms = msec ? msec : DEFAULT_TIMEOUT_MS;
	vf->lock_timeout_ms = msec ? msec : LOCK_TIMEOUT_MS;
}

_public_ void passthru_vf_set_wait_fn(struct passthru_vf *vf, passthru_takeover_wait_fn fn,
				      void *userdata)
{
	vf->wait_fn = fn;
	vf->wait_userdata = userdata;
}

struct passthru_ctx *vf_context(struct passthru_vf *vf)
{
	return vf->ctx;
}

const struct vf_settings *vf_get_settings(const struct passthru_vf *vf)
{
	return &vf->settings;
}

int vf_set_settings(struct passthru_vf *vf, const struct vf_settings *settings)
{
	if ((settings->has_mac && (settings->mac[0] & 1)) ||
	    (settings->has_vlan &&
	     (settings->vlan > 4095 || settings->qos > 7 ||
	      (settings->proto != ETH_P_8021Q_VALUE && settings->proto != ETH_P_8021AD_VALUE))))
		return -EINVAL;
	vf->settings = *settings;
	return 0;
}

_public_ const char *passthru_vf_get_summary(struct passthru_vf *vf)
{
	free(vf->summary);
	vf->summary = NULL;
	if (vf_settings_summary(&vf->settings, &vf->summary) < 0)
		return "";
	return vf->summary;
}

_public_ int passthru_vf_apply(struct passthru_vf *vf)
{
	const struct vf_link_ops *ops = vf_link_get_ops(vf->ctx);
	struct passthru_plan_report report = {0};
	struct vf_settings s = vf->settings;
	struct executor x;
	struct exec_vf step;
	char *extack = NULL;
	bool refused = false;
	int r;

	free(vf->error);
	vf->error = NULL;
	if (!s.has_mac && !s.has_vlan && !s.has_spoofchk && !s.has_trust && !s.has_rate)
		return -EINVAL;
	if (!ops)
		return -EOPNOTSUPP;

	/* IFLA_VF_RATE sets both limits: keep the minimum the driver has, as ip does. */
	if (s.has_rate) {
		_cleanup_free_ struct vf_report *reports = NULL;
		size_t n = 0;

		s.min_tx_rate = 0;
		r = read_reports(vf->ctx, ops, vf->ifindex, &reports, &n);
		if (r < 0)
			log_debug(vf->ctx, "%s: cannot read the VF rates of %s: %s", vf->pf,
				  vf->netdev, strerror(-r));
		for (size_t i = 0; r >= 0 && i < n; i++)
			if (reports[i].vf == vf->index && reports[i].has_rate)
				s.min_tx_rate = reports[i].min_tx_rate;
		if (s.max_tx_rate && s.min_tx_rate > s.max_tx_rate) {
			if (asprintf(&vf->error,
				     "the VF's minimum rate %u Mbit/s is above the maximum %u",
				     s.min_tx_rate, s.max_tx_rate) < 0)
				vf->error = NULL;
			return -ERANGE;
		}
	}

	log_debug(vf->ctx, "%s: VF %u on %s (ifindex %d): %s", vf->pf, vf->index, vf->netdev,
		  vf->ifindex, passthru_vf_get_summary(vf));
	/* One step of the executor: the lock, the driver's settings as the undo, the journal. */
	r = executor_begin(&x, vf->ctx, vf->timeout_ms, vf->lock_timeout_ms, vf->wait_fn,
			   vf->wait_userdata, &report);
	if (r >= 0) {
		step = (struct exec_vf){
		    .pf = vf->pf, .index = vf->index, .ifindex = vf->ifindex, .settings = s};
		r = executor_run_vfs(&x, &step, 1, &extack, &refused);
		executor_end(&x);
	}
	/* A refused request says what the kernel said, as ever; anything else, what failed. */
	if (r < 0 && refused) {
		vf->error = extack;
	} else {
		free(extack);
		if (r < 0)
			vf->error = TAKE_PTR(report.error);
	}
	plan_report_done(&report);
	return r;
}

_public_ const char *passthru_vf_get_error(const struct passthru_vf *vf)
{
	return vf->error;
}

/* ------------------------------------------------------------------------------------------ */
/* What the driver reports                                                                    */

struct passthru_vf_list {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct vf_report *vfs;
	size_t n;
};

_public_ int passthru_vf_list_read(struct passthru_ctx *ctx, const char *pf,
				   struct passthru_vf_list **ret)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *netdev = NULL;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	const struct vf_link_ops *ops;
	struct passthru_vf_list *list;
	struct vf_report *vfs = NULL;
	size_t n = 0;
	int ifindex, r;

	if (!ctx || !pf || !ret)
		return -EINVAL;
	dfd = pf_open_dir(ctx, pf, address);
	if (dfd < 0)
		return dfd;
	r = pf_netdev(ctx, address, &netdev, &ifindex);
	if (r < 0)
		return r;
	ops = vf_link_get_ops(ctx);
	if (!ops)
		return -EOPNOTSUPP;
	r = read_reports(ctx, ops, ifindex, &vfs, &n);
	if (r < 0)
		return r;
	list = calloc(1, sizeof(*list));
	if (!list) {
		free(vfs);
		return -ENOMEM;
	}
	list->refcount = 1;
	list->ctx = passthru_ctx_ref(ctx);
	list->vfs = vfs;
	list->n = n;
	*ret = list;
	return 0;
}

static void vf_list_free(struct passthru_vf_list *list)
{
	free(list->vfs);
	passthru_ctx_unref(list->ctx);
	free(list);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_vf_list, passthru_vf_list, vf_list_free);

_public_ size_t passthru_vf_list_count(const struct passthru_vf_list *list)
{
	return list ? list->n : 0;
}

static const struct vf_report *report_at(const struct passthru_vf_list *list, size_t i)
{
	return list && i < list->n ? &list->vfs[i] : NULL;
}

_public_ int passthru_vf_list_get_vf(const struct passthru_vf_list *list, size_t index,
				     unsigned *ret)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	*ret = v->vf;
	return 0;
}

_public_ const char *passthru_vf_list_get_mac(const struct passthru_vf_list *list, size_t index)
{
	const struct vf_report *v = report_at(list, index);

	return v && v->has_mac ? v->mac : NULL;
}

_public_ int passthru_vf_list_get_vlan(const struct passthru_vf_list *list, size_t index,
				       unsigned *ret_vlan, unsigned *ret_qos, uint16_t *ret_proto)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_vlan)
		return -ENODATA;
	if (ret_vlan)
		*ret_vlan = v->vlan;
	if (ret_qos)
		*ret_qos = v->qos;
	if (ret_proto)
		*ret_proto = v->proto;
	return 0;
}

_public_ int passthru_vf_list_get_spoofchk(const struct passthru_vf_list *list, size_t index,
					   bool *ret)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_spoofchk)
		return -ENODATA;
	*ret = v->spoofchk;
	return 0;
}

_public_ int passthru_vf_list_get_trust(const struct passthru_vf_list *list, size_t index,
					bool *ret)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_trust)
		return -ENODATA;
	*ret = v->trust;
	return 0;
}

_public_ int passthru_vf_list_get_tx_rate(const struct passthru_vf_list *list, size_t index,
					  unsigned *ret_min, unsigned *ret_max)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_rate)
		return -ENODATA;
	if (ret_min)
		*ret_min = v->min_tx_rate;
	if (ret_max)
		*ret_max = v->max_tx_rate;
	return 0;
}

_public_ const char *passthru_vf_list_get_link_state(const struct passthru_vf_list *list,
						     size_t index)
{
	static const char *const names[] = {
	    [IFLA_VF_LINK_STATE_AUTO] = "auto",
	    [IFLA_VF_LINK_STATE_ENABLE] = "enable",
	    [IFLA_VF_LINK_STATE_DISABLE] = "disable",
	};
	const struct vf_report *v = report_at(list, index);

	if (!v || !v->has_link_state || v->link_state >= ELEMENTSOF(names))
		return NULL;
	return names[v->link_state];
}

_public_ int passthru_vf_save(struct passthru_vf *vf)
{
	_cleanup_vf_config_ struct vf_config *c = NULL;
	struct passthru_pci_device *dev = NULL;
	struct passthru_ctx *ctx = vf_context(vf);
	const struct vf_settings *s = vf_get_settings(vf);
	int r;

	if (!s->has_mac && !s->has_vlan && !s->has_spoofchk && !s->has_trust && !s->has_rate)
		return -EINVAL;
	r = passthru_pci_device_new(ctx, passthru_vf_get_pf(vf), &dev);
	if (r < 0)
		return r;
	r = vf_config_for_device(ctx, dev, &c);
	passthru_pci_device_unref(dev);
	if (r < 0)
		return r;
	r = vf_config_put_vf(c, passthru_vf_get_index(vf), s);
	if (r < 0)
		return r;
	return vf_config_save(ctx, c);
}
