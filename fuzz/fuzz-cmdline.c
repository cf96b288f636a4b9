/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel command lines: the tokenizer gives its input back byte for byte, and each requirement
 * that applies is met afterwards by a line that tokenizes the same way again. The input is
 * also read as huge page sizes and as a kernel release.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "internal.h"
#include "kver.h"

static const struct param_req reqs[] = {
    {PARAM_REQ_SET, "intel_iommu", "on", 0},
    {PARAM_REQ_NOT, "amd_iommu", "off", 0},
    {PARAM_REQ_SET, "iommu", "pt", 0},
    {PARAM_REQ_SET, "vfio-iommu-type1.allow_unsafe_interrupts", "1", 0},
    {PARAM_REQ_SET, "default_hugepagesz", "2M", 0},
    {PARAM_REQ_HUGEPAGES, "hugepagesz", "2M", 1024},
    {PARAM_REQ_MEMBER, "rd.driver.blacklist", "amdgpu", 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdline *c = NULL, *again = NULL;
	char *text, *out = NULL, *out2 = NULL, *size_text = NULL;
	unsigned long long kib;
	struct kver kv;

	if (size > 16384)
		return 0;
	text = strndup((const char *)data, size);
	if (!text)
		return 0;
	(void)kver_parse(text, &kv);
	if (cmdline_parse_size(text, &kib) >= 0) {
		unsigned long long kib2;

		/* Formatting and parsing a size again gives the same size. */
		if (cmdline_format_size(kib, &size_text) < 0 ||
		    cmdline_parse_size(size_text, &kib2) < 0 || kib2 != kib)
			abort();
		free(size_text);
	}
	if (cmdline_parse(text, &c) < 0 || cmdline_format(c, &out) < 0)
		abort();
	if (strcmp(out, text) != 0)
		abort();
	free(out);
	out = NULL;
	(void)cmdline_get(c, "iommu", NULL);

	if (cmdline_quotes_balanced(c)) {
		for (size_t i = 0; i < ELEMENTSOF(reqs); i++) {
			int r = param_req_apply(&c, 1, &reqs[i]);

			if (r == -EDOM)
				continue;
			if (r < 0 || !param_req_satisfied(&c, 1, &reqs[i]))
				abort();
		}
		/* What was written tokenizes the same and still meets what it met. */
		if (cmdline_format(c, &out) < 0 || cmdline_parse(out, &again) < 0 ||
		    cmdline_format(again, &out2) < 0 || strcmp(out, out2) != 0 ||
		    again->n_tokens != c->n_tokens)
			abort();
		for (size_t i = 0; i < ELEMENTSOF(reqs); i++)
			if (param_req_satisfied(&c, 1, &reqs[i]) !=
			    param_req_satisfied(&again, 1, &reqs[i]))
				abort();
	}
	cmdline_free(again);
	cmdline_free(c);
	free(out);
	free(out2);
	free(text);
	return 0;
}
