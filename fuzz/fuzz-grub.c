/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GRUB_CMDLINE_LINUX editor on arbitrary /etc/default/grub text. Beyond not crashing: an
 * edit that succeeds gives a file that parses, meets every requirement, and that a second edit
 * leaves byte for byte as it is (what makes `passthru setup --apply` idempotent); a refusal
 * names a line of the input; the strict and the lenient parser agree on what they accept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grub.h"
#include "internal.h"

static const struct param_req reqs[] = {
    {PARAM_REQ_SET, "intel_iommu", "on", 0},
    {PARAM_REQ_NOT, "amd_iommu", "off", 0},
    {PARAM_REQ_SET, "iommu", "pt", 0},
    {PARAM_REQ_SET, "vfio_iommu_type1.allow_unsafe_interrupts", "1", 0},
    {PARAM_REQ_SET, "default_hugepagesz", "1G", 0},
    {PARAM_REQ_HUGEPAGES, "hugepagesz", "1G", 8},
    {PARAM_REQ_MEMBER, "rd.driver.blacklist", "nouveau", 0},
    {PARAM_REQ_SET, "nouveau.modeset", "0", 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct grub_default *g = NULL;
	struct grub_error err = {0};
	char *out = NULL, *again = NULL;
	size_t lines = 1;
	int r, r2;

	if (size > 65536)
		return 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';

	r = grub_default_parse(text, size, false, &g, &err);
	if (r == -EBADMSG && (err.line < 1 || err.line > lines || !err.reason))
		abort();
	if (r < 0 && r != -EBADMSG && r != -ENOMEM)
		abort();
	/* Whatever the strict parser accepts, the lenient one accepts too. */
	if (r >= 0) {
		struct grub_default *l = NULL;

		if (grub_default_parse(text, size, true, &l, &err) < 0)
			abort();
		grub_default_free(l);
	}
	grub_default_free(g);

	r = grub_default_edit(text, size, reqs, ELEMENTSOF(reqs), &out, &err);
	if (r == -EBADMSG || r == -EDOM) {
		if (err.line < 1 || err.line > lines || !err.reason || out)
			abort();
		return 0;
	}
	if (r < 0)
		return 0;
	if (r == 0 && (strlen(out) != size || memcmp(out, text, size) != 0))
		abort();
	r2 = grub_default_edit(out, strlen(out), reqs, ELEMENTSOF(reqs), &again, &err);
	if (r2 != 0 || strcmp(again, out) != 0)
		abort();
	if (grub_default_check(out, strlen(out), reqs, ELEMENTSOF(reqs), NULL, NULL) != 1)
		abort();
	free(out);
	free(again);
	return 0;
}
