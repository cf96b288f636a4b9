/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Serial ports and host consoles: the pure parsers, private to lib/ (tests and fuzzers). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest tty name we accept; the kernel's own limit (tty_struct.name) is 64 with the NUL. */
#define SERIAL_NAME_MAX 63

/*
 * Checks a serial port name as a user gives it, "/dev/ttyS1" or "ttyS1", and returns the
 * bare name ("ttyS1") inside text. -EINVAL unless the name is one path component of letters,
 * digits, '_' and '-', at most SERIAL_NAME_MAX long.
 */
int tty_name_parse(const char *text, const char **ret);

enum console_kind {
	/* A tty by name: console=ttyS0,115200n8. */
	CONSOLE_NAME,
	/* An 8250 UART by address: console=uart8250,io,0x3f8 (the port's "port"). */
	CONSOLE_UART_IO,
	/* console=uart8250,mmio32,0xfe215040 (the port's "iomem_base"). */
	CONSOLE_UART_MMIO,
};

struct console_spec {
	enum console_kind kind;
	/* CONSOLE_NAME: "ttyS0". */
	char *name;
	/* CONSOLE_UART_*: the port's I/O port or MMIO address. */
	uint64_t address;
};

/* The host's consoles, in the order they were given (the last console= is the primary). */
struct consoles {
	struct console_spec *v;
	size_t n;
};

void consoles_done(struct consoles *c);

/*
 * Adds the consoles of every console= of a kernel command line (split by cmdline_parse(), up
 * to "--", after which parameters belong to init). Virtual terminals (tty, tty0, tty1...) and
 * "null" are no serial ports and are left out; "/dev/ttyS0" is taken for "ttyS0" although the
 * kernel does not accept it; a braille console's "brl," prefix is dropped. Duplicates are added
 * once. Returns 0 or -ENOMEM; malformed console= values are skipped.
 */
int consoles_parse_cmdline(struct consoles *c, const char *cmdline);

/* Adds the names of /sys/class/tty/console/active ("tty0 ttyS0"), with the same filtering. */
int consoles_parse_active(struct consoles *c, const char *active);

/*
 * True when the port is one of the consoles: by name, or by the address of an 8250 UART
 * (io_port / mmio_base 0 when the port has none).
 */
bool consoles_match(const struct consoles *c, const char *name, uint64_t io_port,
		    uint64_t mmio_base);
