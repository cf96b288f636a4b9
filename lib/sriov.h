/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: VF counts (sriov.c).
 */
#pragma once

#include "internal.h"

/* Only the limit of the wait for another passthru's lock (0: 30 s); the writes' stays. */
void sriov_set_lock_timeout(struct passthru_sriov *s, unsigned msec);
