/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The columns of serial ports. */
#include <errno.h>
#include <stdlib.h>

#include "columns.h"
#include "macro.h"

enum {
	COL_PATH,
	COL_NAME,
	COL_PORT,
	COL_IRQ,
	COL_UART_TYPE,
	COL_CONSOLE,
	COL_USB,
	COL_DRIVER,
};

static const struct column_info infos[] = {
    [COL_PATH] = {"PATH", 12, 0, VALUE_STRING, true, "device node, /dev/ttyS1"},
    [COL_NAME] = {"NAME", 8, 0, VALUE_STRING, true, "kernel name, ttyS1"},
    [COL_PORT] = {"PORT", 6, 0, VALUE_STRING, true,
		  "I/O port base in hex (0x2f8); none for memory-mapped and USB ports"},
    [COL_IRQ] = {"IRQ", 3, SCOLS_FL_RIGHT, VALUE_NUMBER, true, "interrupt line"},
    [COL_UART_TYPE] = {"UART_TYPE", 2, SCOLS_FL_RIGHT, VALUE_NUMBER, true,
		       "8250 UART type number (4 = 16550A); none for USB ports"},
    [COL_CONSOLE] = {"CONSOLE", 3, 0, VALUE_BOOL, true,
		     "a host console (console= on the kernel command line)"},
    [COL_USB] = {"USB", 6, 0, VALUE_STRING, true,
		 "port path of the USB device behind a USB serial port"},
    [COL_DRIVER] = {"DRIVER", 8, 0, VALUE_STRING, true, "driver of the port's device"},
};

static const size_t defaults[] = {
    COL_PATH, COL_PORT, COL_IRQ, COL_CONSOLE, COL_USB, COL_DRIVER,
};

_Static_assert(ELEMENTSOF(infos) <= COLUMNS_MAX, "a column set holds every column");

static int get(void *device, size_t column, struct value *v)
{
	struct passthru_serial_port *port = device;
	unsigned u;

	switch (column) {
	case COL_PATH:
		return value_set_string(v, passthru_serial_port_get_path(port));
	case COL_NAME:
		return value_set_string(v, passthru_serial_port_get_name(port));
	case COL_PORT:
		if (passthru_serial_port_get_io_port(port, &u) < 0)
			return 0;
		return value_set_printf(v, "0x%x", u);
	case COL_IRQ:
		if (passthru_serial_port_get_irq(port, &u) >= 0)
			value_set_number(v, u);
		return 0;
	case COL_UART_TYPE:
		if (passthru_serial_port_get_uart_type(port, &u) >= 0)
			value_set_number(v, u);
		return 0;
	case COL_CONSOLE:
		value_set_bool(v, passthru_serial_port_is_console(port));
		return 0;
	case COL_USB:
		return value_set_string(v, passthru_serial_port_get_usb_port(port));
	case COL_DRIVER:
		return value_set_string(v, passthru_serial_port_get_driver(port));
	}
	return 0;
}

const struct column_class serial_columns = {
    .name = "serial",
    .title = "serial ports",
    .scan_dir = "/sys/class/tty",
    .infos = infos,
    .n_infos = ELEMENTSOF(infos),
    .defaults = defaults,
    .n_defaults = ELEMENTSOF(defaults),
    .get = get,
};
