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
