/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Descriptors the caller opened: writing a whole buffer. */
#pragma once

#include <stddef.h>

/* Writes all len bytes of data to fd, again after EINTR and short writes. 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len);
