/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Refusals, notes and errors of plans and their execution (see plan-report.h), and the public
 * getters of struct passthru_plan_report.
 */
#include <stdarg.h>

#include "plan-report.h"

static void address_copy(char dst[PASSTHRU_PCI_ADDRESS_LEN + 1], const char *address)
{
	snprintf(dst, PASSTHRU_PCI_ADDRESS_LEN + 1, "%s", address ?: "");
}

int plan_report_refuse(struct passthru_plan_report *r, enum passthru_refusal_kind kind,
		       const char *address, const char *format, ...)
{
	struct plan_refusal *n;
	char *reason;
	va_list ap;
	int k;

	va_start(ap, format);
	k = vasprintf(&reason, format, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	n = ARRAY_GROW(r->refusals, r->n_refusals);
	if (!n) {
		free(reason);
		return -ENOMEM;
	}
	r->n_refusals++;
	n->kind = kind;
	address_copy(n->address, address);
	n->reason = reason;
	return 0;
}

int plan_report_note(struct passthru_plan_report *r, const char *address, const char *format, ...)
{
	struct plan_note *n;
	char *text;
	va_list ap;
	int k;

	va_start(ap, format);
	k = vasprintf(&text, format, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	n = ARRAY_GROW(r->notes, r->n_notes);
	if (!n) {
		free(text);
		return -ENOMEM;
	}
	r->n_notes++;
	address_copy(n->address, address);
	n->text = text;
	return 0;
}

int plan_report_set_error(struct passthru_plan_report *r, const char *format, ...)
{
	va_list ap;
	int k;

	va_start(ap, format);
	k = free_and_strfv(&r->error, format, ap);
	va_end(ap);
	return k;
}

void plan_report_add_detail(struct passthru_plan_report *r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	(void)strv_pushfv(&r->details, format, ap);
	va_end(ap);
}

void plan_report_clear_plan(struct passthru_plan_report *r)
{
	for (size_t i = 0; i < r->n_refusals; i++)
		free(r->refusals[i].reason);
	free(r->refusals);
	r->refusals = NULL;
	r->n_refusals = 0;
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i].text);
	free(r->notes);
	r->notes = NULL;
	r->n_notes = 0;
}

void plan_report_clear_error(struct passthru_plan_report *r)
{
	free(r->error);
	r->error = NULL;
	strv_free(r->details);
	r->details = NULL;
}

void plan_report_done(struct passthru_plan_report *r)
{
	plan_report_clear_plan(r);
	plan_report_clear_error(r);
}

/* ------------------------------------------------------------------------------------------ */
/* Public getters                                                                             */

_public_ size_t passthru_plan_report_get_refusal_count(const struct passthru_plan_report *r)
{
	return r ? r->n_refusals : 0;
}

_public_ enum passthru_refusal_kind
passthru_plan_report_get_refusal_kind(const struct passthru_plan_report *r, size_t i)
{
	return r && i < r->n_refusals ? r->refusals[i].kind : (enum passthru_refusal_kind) - EINVAL;
}

_public_ const char *passthru_plan_report_get_refusal_address(const struct passthru_plan_report *r,
							      size_t i)
{
	return r && i < r->n_refusals ? r->refusals[i].address : NULL;
}

_public_ const char *passthru_plan_report_get_refusal_reason(const struct passthru_plan_report *r,
							     size_t i)
{
	return r && i < r->n_refusals ? r->refusals[i].reason : NULL;
}

_public_ size_t passthru_plan_report_get_note_count(const struct passthru_plan_report *r)
{
	return r ? r->n_notes : 0;
}

_public_ const char *passthru_plan_report_get_note_address(const struct passthru_plan_report *r,
							   size_t i)
{
	return r && i < r->n_notes ? r->notes[i].address : NULL;
}

_public_ const char *passthru_plan_report_get_note(const struct passthru_plan_report *r, size_t i)
{
	return r && i < r->n_notes ? r->notes[i].text : NULL;
}

_public_ const char *passthru_plan_report_get_error(const struct passthru_plan_report *r)
{
	return r ? r->error : NULL;
}

_public_ const char *const *
passthru_plan_report_get_error_details(const struct passthru_plan_report *r)
{
	return r && r->details ? (const char *const *)r->details : strv_empty;
}
