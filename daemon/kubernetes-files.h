/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading kubernetes.d below a root (see kubernetes-config.h for the format). */
#pragma once

#include "kubernetes-config.h"

#define KUBE_CONFIG_DIR "/etc/passthru/kubernetes.d"

/*
 * Parses every *.conf of KUBE_CONFIG_DIR below sysroot ("/" or a fixture root), in name order,
 * into cfg; messages name the host path ("/etc/passthru/kubernetes.d/a.conf:3: ..."). A missing
 * directory gives no resource; an unreadable file is a problem. Returns 0, or a negative errno
 * when the directory cannot be read or on -ENOMEM.
 */
int kube_config_load(const char *sysroot, struct kube_config *cfg);
