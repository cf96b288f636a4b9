/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF settings as users write them (the parsers, public) and as messages show them (the
 * summary).
 */
#include <ctype.h>

#include "vf-settings.h"

/* ------------------------------------------------------------------------------------------ */
/* Parsers of settings                                                                        */

_public_ int passthru_vf_parse_mac(const char *text, uint8_t ret[6])
{
	uint8_t mac[6];
	char sep;

	if (!text || strlen(text) != 17)
		return -EINVAL;
	sep = text[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = unhexchar(text[i * 3]), lo = unhexchar(text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != sep))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* A group (multicast or broadcast) address is never a station's own. */
	if (mac[0] & 1)
		return -EINVAL;
	memcpy(ret, mac, 6);
	return 0;
}

/* Decimal digits only (parse_ulong()), with -EINVAL for what is not a number, as ever. */
static int parse_decimal(const char *text, unsigned long max, unsigned long *ret)
{
	int r = parse_ulong(text, max, ret);

	return r == -EBADMSG ? -EINVAL : r;
}

_public_ int passthru_vf_parse_vlan(const char *text, unsigned *ret)
{
	unsigned long v;
	int r = parse_decimal(text, 4095, &v);

	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

_public_ int passthru_vf_parse_qos(const char *text, unsigned *ret)
{
	unsigned long v;
	int r = parse_decimal(text, 7, &v);

	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

_public_ int passthru_vf_parse_vlan_proto(const char *text, uint16_t *ret)
{
	if (!text)
		return -EINVAL;
	if (strcasecmp(text, "802.1q") == 0)
		*ret = ETH_P_8021Q_VALUE;
	else if (strcasecmp(text, "802.1ad") == 0)
		*ret = ETH_P_8021AD_VALUE;
	else
		return -EINVAL;
	return 0;
}

_public_ int passthru_vf_parse_rate(const char *text, unsigned *ret)
{
	_cleanup_free_ char *digits = NULL;
	const char *unit;
	unsigned long v, scale;
	int r;

	if (!text)
		return -EINVAL;
	for (unit = text; *unit >= '0' && *unit <= '9'; unit++)
		;
	if (*unit == '\0' || strcasecmp(unit, "m") == 0 || strcasecmp(unit, "mbit") == 0)
		scale = 1;
	else if (strcasecmp(unit, "g") == 0 || strcasecmp(unit, "gbit") == 0)
		scale = 1000;
	else
		return -EINVAL;
	digits = strndup(text, (size_t)(unit - text));
	if (!digits)
		return -ENOMEM;
	r = parse_decimal(digits, UINT32_MAX / scale, &v);
	if (r < 0)
		return r;
	*ret = (unsigned)(v * scale);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Settings as fields of a record                                                             */

static int parse_on_off(const char *s, bool *ret)
{
	if (strcmp(s, "on") == 0)
		*ret = true;
	else if (strcmp(s, "off") == 0)
		*ret = false;
	else
		return -EBADMSG;
	return 0;
}

int vf_settings_parse_fields(char **tokens, size_t n, struct vf_settings *ret)
{
	struct vf_settings s = {0};
	bool has_qos = false, has_proto = false;
	unsigned qos = 0;
	uint16_t proto = ETH_P_8021Q_VALUE;

	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(tokens[i], '=');
		const char *key = tokens[i], *value;

		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		value = eq + 1;
		if (strcmp(key, "mac") == 0 && !s.has_mac) {
			if (passthru_vf_parse_mac(value, s.mac) < 0)
				return -EBADMSG;
			s.has_mac = true;
		} else if (strcmp(key, "vlan") == 0 && !s.has_vlan) {
			if (passthru_vf_parse_vlan(value, &s.vlan) < 0)
				return -EBADMSG;
			s.has_vlan = true;
		} else if (strcmp(key, "qos") == 0 && !has_qos) {
			if (passthru_vf_parse_qos(value, &qos) < 0)
				return -EBADMSG;
			has_qos = true;
		} else if (strcmp(key, "proto") == 0 && !has_proto) {
			if (passthru_vf_parse_vlan_proto(value, &proto) < 0)
				return -EBADMSG;
			has_proto = true;
		} else if (strcmp(key, "spoofchk") == 0 && !s.has_spoofchk) {
			if (parse_on_off(value, &s.spoofchk) < 0)
				return -EBADMSG;
			s.has_spoofchk = true;
		} else if (strcmp(key, "trust") == 0 && !s.has_trust) {
			if (parse_on_off(value, &s.trust) < 0)
				return -EBADMSG;
			s.has_trust = true;
		} else if (strcmp(key, "max-tx-rate") == 0 && !s.has_rate) {
			if (passthru_vf_parse_rate(value, &s.max_tx_rate) < 0)
				return -EBADMSG;
			s.has_rate = true;
		} else {
			return -EBADMSG;
		}
	}
	/* A priority or protocol belongs to a VLAN. */
	if ((has_qos || has_proto) && !s.has_vlan)
		return -EBADMSG;
	s.qos = qos;
	s.proto = proto;
	*ret = s;
	return 0;
}

void vf_settings_write_fields(const struct vf_settings *s, FILE *f)
{
	if (s->has_mac)
		fprintf(f, " mac=%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1], s->mac[2],
			s->mac[3], s->mac[4], s->mac[5]);
	if (s->has_vlan) {
		fprintf(f, " vlan=%u", s->vlan);
		if (s->qos)
			fprintf(f, " qos=%u", s->qos);
		if (s->proto == ETH_P_8021AD_VALUE)
			fputs(" proto=802.1ad", f);
	}
	if (s->has_spoofchk)
		fprintf(f, " spoofchk=%s", s->spoofchk ? "on" : "off");
	if (s->has_trust)
		fprintf(f, " trust=%s", s->trust ? "on" : "off");
	if (s->has_rate)
		fprintf(f, " max-tx-rate=%u", s->max_tx_rate);
}

/* ------------------------------------------------------------------------------------------ */
/* Settings summaries                                                                         */

int vf_settings_summary(const struct vf_settings *s, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	const char *sep = "";
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	if (s->has_mac) {
		fprintf(f, "%smac %02x:%02x:%02x:%02x:%02x:%02x", sep, s->mac[0], s->mac[1],
			s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
		sep = " ";
	}
	if (s->has_vlan) {
		fprintf(f, "%svlan %u", sep, s->vlan);
		if (s->qos)
			fprintf(f, " qos %u", s->qos);
		if (s->proto == ETH_P_8021AD_VALUE)
			fputs(" proto 802.1ad", f);
		sep = " ";
	}
	if (s->has_spoofchk) {
		fprintf(f, "%sspoofchk %s", sep, s->spoofchk ? "on" : "off");
		sep = " ";
	}
	if (s->has_trust) {
		fprintf(f, "%strust %s", sep, s->trust ? "on" : "off");
		sep = " ";
	}
	if (s->has_rate)
		fprintf(f, "%smax-tx-rate %u", sep, s->max_tx_rate);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}
