/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The columns of USB devices. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "columns.h"
#include "macro.h"

enum {
	COL_PORT,
	COL_BUSNUM,
	COL_DEVNUM,
	COL_VENDOR_ID,
	COL_PRODUCT_ID,
	COL_VENDOR_NAME,
	COL_PRODUCT_NAME,
	COL_CLASS,
	COL_SPEED,
	COL_MANUFACTURER,
	COL_PRODUCT,
	COL_SERIAL,
	COL_DRIVERS,
	COL_HUB,
	COL_ROOT_HUB,
	COL_PROBLEMS,
	COL_ID,
	COL_NAME,
};

static const struct column_info infos[] = {
    [COL_PORT] = {"PORT", 6, 0, VALUE_STRING, true,
		  "port path (1-2.3), usbN for a root hub; stable across re-plugging"},
    [COL_BUSNUM] = {"BUSNUM", 3, SCOLS_FL_RIGHT, VALUE_NUMBER, true, "bus number"},
    [COL_DEVNUM] = {"DEVNUM", 3, SCOLS_FL_RIGHT, VALUE_NUMBER, true,
		    "device number on the bus; changes on re-plugging"},
    [COL_VENDOR_ID] = {"VENDOR_ID", 4, 0, VALUE_STRING, true, "vendor ID, 4 hex digits"},
    [COL_PRODUCT_ID] = {"PRODUCT_ID", 4, 0, VALUE_STRING, true, "product ID, 4 hex digits"},
    [COL_VENDOR_NAME] = {"VENDOR_NAME", 0.2, SCOLS_FL_TRUNC, VALUE_STRING, true,
			 "vendor name from the USB ID database"},
    [COL_PRODUCT_NAME] = {"PRODUCT_NAME", 0.3, SCOLS_FL_TRUNC, VALUE_STRING, true,
			  "product name from the USB ID database"},
    [COL_CLASS] = {"CLASS", 2, 0, VALUE_STRING, true, "device class (bDeviceClass), 2 hex digits"},
    [COL_SPEED] = {"SPEED", 4, SCOLS_FL_RIGHT, VALUE_STRING, true, "negotiated speed in Mbit/s"},
    [COL_MANUFACTURER] = {"MANUFACTURER", 0.2, SCOLS_FL_TRUNC, VALUE_STRING, true,
			  "the device's manufacturer string"},
    [COL_PRODUCT] = {"PRODUCT", 0.2, SCOLS_FL_TRUNC, VALUE_STRING, true,
		     "the device's product string"},
    [COL_SERIAL] = {"SERIAL", 0.1, SCOLS_FL_TRUNC, VALUE_STRING, true,
		    "the device's serial number string"},
    [COL_DRIVERS] = {"DRIVERS", 0.1, 0, VALUE_STRV, true,
		     "drivers bound to the device's interfaces"},
    [COL_HUB] = {"HUB", 3, 0, VALUE_BOOL, true, "a hub"},
    [COL_ROOT_HUB] = {"ROOT_HUB", 3, 0, VALUE_BOOL, true, "a root hub (the host controller's own)"},
    [COL_PROBLEMS] = {"PROBLEMS", 0.2, SCOLS_FL_TRUNC, VALUE_STRV, true,
		      "attributes that could not be read"},
    [COL_ID] = {"ID", 9, 0, VALUE_STRING, false, "vendor:product IDs"},
    [COL_NAME] = {"NAME", 0.4, SCOLS_FL_TRUNC, VALUE_STRING, false,
		  "vendor and product names, else the device's own strings"},
};

static const size_t defaults[] = {
    COL_PORT, COL_BUSNUM, COL_DEVNUM, COL_ID, COL_NAME, COL_DRIVERS, COL_HUB,
};

static int hex16(struct value *v, int (*get)(struct passthru_usb_device *, uint16_t *),
		 struct passthru_usb_device *dev)
{
	uint16_t id;

	if (get(dev, &id) < 0)
		return 0;
	return value_set_printf(v, "%04x", id);
}

static int name(struct value *v, struct passthru_usb_device *dev)
{
	const char *vendor = passthru_usb_device_get_vendor_name(dev);
	const char *product = passthru_usb_device_get_product_name(dev);

	/* The database first: device strings are whatever the firmware says. */
	if (!vendor)
		vendor = passthru_usb_device_get_manufacturer(dev);
	if (!product)
		product = passthru_usb_device_get_product(dev);
	if (vendor && product)
		return value_set_printf(v, "%s %s", vendor, product);
	return value_set_string(v, vendor ? vendor : product);
}

_Static_assert(ELEMENTSOF(infos) <= COLUMNS_MAX, "a column set holds every column");

static int get(void *device, size_t column, struct value *v)
{
	struct passthru_usb_device *dev = device;
	uint16_t vid, pid;
	uint8_t class;
	unsigned u;

	switch (column) {
	case COL_PORT:
		return value_set_string(v, passthru_usb_device_get_port(dev));
	case COL_BUSNUM:
		if (passthru_usb_device_get_busnum(dev, &u) >= 0)
			value_set_number(v, u);
		return 0;
	case COL_DEVNUM:
		if (passthru_usb_device_get_devnum(dev, &u) >= 0)
			value_set_number(v, u);
		return 0;
	case COL_VENDOR_ID:
		return hex16(v, passthru_usb_device_get_vendor_id, dev);
	case COL_PRODUCT_ID:
		return hex16(v, passthru_usb_device_get_product_id, dev);
	case COL_VENDOR_NAME:
		return value_set_string(v, passthru_usb_device_get_vendor_name(dev));
	case COL_PRODUCT_NAME:
		return value_set_string(v, passthru_usb_device_get_product_name(dev));
	case COL_CLASS:
		if (passthru_usb_device_get_class(dev, &class) < 0)
			return 0;
		return value_set_printf(v, "%02x", class);
	case COL_SPEED:
		return value_set_string(v, passthru_usb_device_get_speed(dev));
	case COL_MANUFACTURER:
		return value_set_string(v, passthru_usb_device_get_manufacturer(dev));
	case COL_PRODUCT:
		return value_set_string(v, passthru_usb_device_get_product(dev));
	case COL_SERIAL:
		return value_set_string(v, passthru_usb_device_get_serial(dev));
	case COL_DRIVERS:
		value_set_strv(v, passthru_usb_device_get_drivers(dev));
		return 0;
	case COL_HUB:
		value_set_bool(v, passthru_usb_device_is_hub(dev));
		return 0;
	case COL_ROOT_HUB:
		value_set_bool(v, passthru_usb_device_is_root_hub(dev));
		return 0;
	case COL_PROBLEMS:
		value_set_strv(v, passthru_usb_device_get_problems(dev));
		return 0;
	case COL_ID:
		if (passthru_usb_device_get_vendor_id(dev, &vid) < 0 ||
		    passthru_usb_device_get_product_id(dev, &pid) < 0)
			return 0;
		return value_set_printf(v, "%04x:%04x", vid, pid);
	case COL_NAME:
		return name(v, dev);
	}
	return 0;
}

const struct column_class usb_columns = {
    .name = "usb",
    .title = "USB devices",
    .scan_dir = "/sys/bus/usb/devices",
    .infos = infos,
    .n_infos = ELEMENTSOF(infos),
    .defaults = defaults,
    .n_defaults = ELEMENTSOF(defaults),
    .get = get,
};
