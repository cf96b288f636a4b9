/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: one VF (vf.c), the parts the store and apply need.
 */
#pragma once

#include "internal.h"
#include "vf-settings.h"

/* The parts of a passthru_vf the store needs. */
struct passthru_ctx *vf_context(struct passthru_vf *vf);
const struct vf_settings *vf_get_settings(const struct passthru_vf *vf);
/* Replaces the settings to send, checked as the setters check them. */
int vf_set_settings(struct passthru_vf *vf, const struct vf_settings *settings);
