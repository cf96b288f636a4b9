/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses as users write them. The kernel names a function "DDDD:BB:DD.F" (domain, bus,
 * device, function; lower-case hex); lspci leaves out domain 0, so "42:00.0" is accepted too.
 * The domain is 32 bits wide and printed with "%04x": Intel VMD and Hyper-V give domains from
 * 0x10000 up, named with five to eight digits and never a leading zero ("10000:00:04.0").
 * Anything else is refused rather than guessed at: an address picks the device we are about
 * to take away from the host.
 */
#include "pci.h"

/* Exactly n hex digits at *p; advances past them. */
static int hex_field(const char **p, unsigned n, unsigned *ret)
{
	unsigned v = 0;

	for (unsigned i = 0; i < n; i++) {
		int d = unhexchar((*p)[i]);

		if (d < 0)
			return -EINVAL;
		v = v * 16 + (unsigned)d;
	}
	*p += n;
	*ret = v;
	return 0;
}

int pci_address_parse_fields(const char *text, unsigned *ret_domain, unsigned *ret_bus,
			     unsigned *ret_dev, unsigned *ret_fn)
{
	unsigned domain = 0, bus, dev, fn;
	const char *p = text;
	size_t len;

	if (!text)
		return -EINVAL;
	/*
	 * The short form is "BB:DD.F"; the long one adds four to eight digits of domain and a
	 * ':'. Wider than four digits, the domain is written as "%04x" prints it, without
	 * leading zeros, so that every domain has one spelling.
	 */
	len = strlen(text);
	if (len >= PCI_ADDRESS_SHORT_LEN + 5 && len <= PASSTHRU_PCI_ADDRESS_LEN) {
		unsigned digits = (unsigned)(len - PCI_ADDRESS_SHORT_LEN - 1);

		if (digits > 4 && text[0] == '0')
			return -EINVAL;
		if (hex_field(&p, digits, &domain) < 0 || *p++ != ':')
			return -EINVAL;
	} else if (len != PCI_ADDRESS_SHORT_LEN)
		return -EINVAL;
	if (hex_field(&p, 2, &bus) < 0 || *p++ != ':')
		return -EINVAL;
	if (hex_field(&p, 2, &dev) < 0 || *p++ != '.')
		return -EINVAL;
	if (hex_field(&p, 1, &fn) < 0 || *p != '\0')
		return -EINVAL;
	/* Five bits of device, three of function. */
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	*ret_domain = domain;
	*ret_bus = bus;
	*ret_dev = dev;
	*ret_fn = fn;
	return 0;
}

int pci_address_compare(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

bool pci_address_same_slot(const char *a, const char *b)
{
	const char *fa = strrchr(a, '.'), *fb = strrchr(b, '.');

	return fa && fb && fa - a == fb - b && strncmp(a, b, (size_t)(fa - a)) == 0;
}

_public_ int passthru_pci_address_parse(const char *text, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1])
{
	unsigned domain, bus, dev, fn;
	int r;

	r = pci_address_parse_fields(text, &domain, &bus, &dev, &fn);
	if (r < 0)
		return r;
	if (!ret)
		return -EINVAL;
	snprintf(ret, PASSTHRU_PCI_ADDRESS_LEN + 1, "%04x:%02x:%02x.%u", domain, bus, dev, fn);
	return 0;
}
