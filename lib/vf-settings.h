/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the settings of one VF (vf-settings.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

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

/* "mac 02:11:22:33:44:55 vlan 10 qos 3 spoofchk on ..." in the order of the request. */
int vf_settings_summary(const struct vf_settings *settings, char **ret);

/*
 * Parses the fields "mac=M vlan=V qos=Q proto=P spoofchk=on|off trust=on|off max-tx-rate=R"
 * (each token one field; tokens are changed) into *ret. -EBADMSG for an unknown or repeated
 * key, a bad value, or a qos or proto without a vlan.
 */
int vf_settings_parse_fields(char **tokens, size_t n, struct vf_settings *ret);
/* Writes " key=value" for each setting in that order: what vf_settings_parse_fields() reads. */
void vf_settings_write_fields(const struct vf_settings *s, FILE *f);
