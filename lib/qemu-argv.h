/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to lib/: the QEMU command line of a plan (qemu-argv.c). */
#pragma once

#include "qemu.h"

/* vd's argv (passthru_vm_devices_get_qemu_argv()) from its placed devices. */
int vm_devices_build_argv(struct passthru_vm_devices *vd);
