/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parsers of VF settings as users write them (passthru vf --mac/--vlan/--qos/--vlan-proto/
 * --max-tx-rate, and the values of /etc/passthru/vf.d). Beyond not crashing: what a parser
 * accepts is within its range, a MAC it accepts is a station's and prints back to the same
 * address, and a rate without a unit is the number itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vf-settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	uint8_t mac[6];
	unsigned u;
	uint16_t proto;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (passthru_vf_parse_mac(text, mac) == 0) {
		char back[18];

		if (mac[0] & 1)
			abort();
		snprintf(back, sizeof(back), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
			 mac[2], mac[3], mac[4], mac[5]);
		/* Same digits, whichever separator and case the input used. */
		for (int i = 0; i < 17; i++)
			if (i % 3 == 2 ? (text[i] != ':' && text[i] != '-')
				       : (text[i] | 0x20) != back[i])
				abort();
	}
	if (passthru_vf_parse_vlan(text, &u) == 0 && u > 4095)
		abort();
	if (passthru_vf_parse_qos(text, &u) == 0 && u > 7)
		abort();
	if (passthru_vf_parse_vlan_proto(text, &proto) == 0 && proto != ETH_P_8021Q_VALUE &&
	    proto != ETH_P_8021AD_VALUE)
		abort();
	if (passthru_vf_parse_rate(text, &u) == 0 && strspn(text, "0123456789") == size) {
		char back[16];

		/* Leading zeros aside, a plain number is itself. */
		snprintf(back, sizeof(back), "%u", u);
		if (strcmp(text + strspn(text, "0"), u ? back : "") != 0)
			abort();
	}
	free(text);
	return 0;
}
