/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI address parser: the forms users write (32-bit domains included), and everything it
 * must refuse.
 */
#include <errno.h>

#include "test.h"
#include "passthru.h"

static void ok(const char *text, const char *canonical)
{
	char out[PASSTHRU_PCI_ADDRESS_LEN + 1] = "untouched";

	CHECK_INT(passthru_pci_address_parse(text, out), 0);
	CHECK_STR(out, canonical);
}

static void bad(const char *text)
{
	char out[PASSTHRU_PCI_ADDRESS_LEN + 1] = "untouched";

	CHECK_INT(passthru_pci_address_parse(text, out), -EINVAL);
	/* ret is written only on success. */
	CHECK_STR(out, "untouched");
}

int main(void)
{
	ok("0000:42:00.0", "0000:42:00.0");
	ok("42:00.0", "0000:42:00.0");
	ok("0000:00:1F.6", "0000:00:1f.6");
	ok("ABCD:EF:1f.7", "abcd:ef:1f.7");
	ok("ff:00.1", "0000:ff:00.1");
	/* 32-bit domains (Intel VMD, Hyper-V): the kernel prints them with "%04x". */
	ok("10000:00:04.0", "10000:00:04.0");
	ok("1000A:E1:00.0", "1000a:e1:00.0");
	ok("ffffffff:ff:1f.7", "ffffffff:ff:1f.7");

	bad(NULL);
	bad("");
	bad("42:00");
	bad("42.00.0");
	bad("0:42:00.0");
	bad("00000:42:00.0");
	bad("010000:00:04.0");	  /* the kernel's names have no leading zero beyond four digits */
	bad("100000000:00:04.0"); /* wider than 32 bits */
	bad("10000:00:04");
	bad("10000:0:04.0");
	bad("0000:042:00.0");
	bad("0000:42:0.0");
	bad("0000:42:00.00");
	bad("0000:42:20.0"); /* device is 5 bits */
	bad("0000:42:00.8"); /* function is 3 bits */
	bad("0000:42:00.0 ");
	bad(" 0000:42:00.0");
	bad("0000:42:00.0\n");
	bad("0000-42:00.0");
	bad("0000:42-00.0");
	bad("000g:42:00.0");
	bad("0x00:42:00.0");
	bad("+000:42:00.0");
	bad("../../../../e");
	bad("0000:42:00.0/../../x");
	TEST_DONE();
}
