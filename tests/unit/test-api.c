/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The conventions written at the top of include/passthru.h, checked through libpassthru.so
 * itself (this test links the shared library, not the internal archive): the old names are the
 * new functions, and out-of-range answers are the same in every collection.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "passthru.h"
#include "test.h"

static void test_old_names(void)
{
	CHECK(passthru_pci_scan == passthru_pci_list_scan);
	CHECK(passthru_usb_scan == passthru_usb_list_scan);
	CHECK(passthru_serial_scan == passthru_serial_list_scan);
	CHECK(passthru_types_load == passthru_type_list_load);
	CHECK(passthru_check_run == passthru_check_report_new);
	CHECK(passthru_guard_check_pci == passthru_guard_list_check_pci);
	CHECK(passthru_guard_check_serial == passthru_guard_list_check_serial);
	CHECK(passthru_vm_devices_get_count == passthru_vm_devices_count);
}

static void test_out_of_range(void)
{
	const char *const *details;

	/* Counts of NULL. */
	CHECK_INT(passthru_pci_list_count(NULL), 0);
	CHECK_INT(passthru_usb_list_count(NULL), 0);
	CHECK_INT(passthru_serial_list_count(NULL), 0);
	CHECK_INT(passthru_type_list_count(NULL), 0);
	CHECK_INT(passthru_guard_list_count(NULL), 0);
	CHECK_INT(passthru_check_report_count(NULL), 0);
	CHECK_INT(passthru_vm_devices_count(NULL), 0);

	/* Pointers NULL, enums -EINVAL, string arrays empty. */
	CHECK(passthru_pci_list_get(NULL, 0) == NULL);
	CHECK(passthru_usb_list_get(NULL, 0) == NULL);
	CHECK(passthru_serial_list_get(NULL, 0) == NULL);
	CHECK(passthru_type_list_get(NULL, 0) == NULL);
	CHECK(passthru_guard_list_get_reason(NULL, 0) == NULL);
	CHECK_INT((int)passthru_guard_list_get_kind(NULL, 0), -EINVAL);
	CHECK(passthru_check_report_get_id(NULL, 0) == NULL);
	CHECK_INT((int)passthru_check_report_get_status(NULL, 0), -EINVAL);
	details = passthru_check_report_get_details(NULL, 0);
	CHECK(details != NULL && details[0] == NULL);
	CHECK(passthru_vm_devices_get_host(NULL, 0) == NULL);
	CHECK_INT((int)passthru_vm_devices_get_kind(NULL, 0), -EINVAL);
	CHECK(!passthru_vm_devices_is_attached(NULL, 0));
}

static void test_on_a_host(void)
{
	struct passthru_ctx *ctx = NULL;
	struct passthru_check_report *rep = NULL;
	struct passthru_pci_list *pci = NULL;
	char root[] = "/tmp/test-api.XXXXXX";
	size_t n;

	/* An empty root: no PCI devices, every check still answers. */
	CHECK(mkdtemp(root) != NULL);
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	if (!ctx) {
		rmdir(root);
		return;
	}
	CHECK_INT(passthru_pci_list_scan(ctx, &pci), 0);
	CHECK_INT(passthru_pci_list_count(pci), 0);
	CHECK(passthru_pci_list_get(pci, 0) == NULL);
	CHECK_INT(passthru_check_report_new(ctx, NULL, &rep), 0);
	n = passthru_check_report_count(rep);
	CHECK(n > 0);
	CHECK(passthru_check_report_get_id(rep, n - 1) != NULL);
	CHECK(passthru_check_report_get_id(rep, n) == NULL);
	CHECK_INT((int)passthru_check_report_get_status(rep, n), -EINVAL);
	passthru_check_report_unref(rep);
	passthru_pci_list_unref(pci);
	passthru_ctx_unref(ctx);
	CHECK_INT(rmdir(root), 0);
}

int main(void)
{
	test_old_names();
	test_out_of_range();
	test_on_a_host();
	TEST_DONE();
}
