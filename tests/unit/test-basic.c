/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The basics layer (basic/): number parsing, string vectors, text, arrays, ref/unref. */
#include <errno.h>
#include <limits.h>

#include "array.h"
#include "parse.h"
#include "refcount.h"
#include "strv.h"
#include "test.h"
#include "text.h"

static void test_parse(void)
{
	unsigned long ul = 99;
	unsigned u = 99;

	CHECK_INT(unhexchar('0'), 0);
	CHECK_INT(unhexchar('a'), 10);
	CHECK_INT(unhexchar('F'), 15);
	CHECK_INT(unhexchar('g'), -EINVAL);
	CHECK_INT(unhexchar('\0'), -EINVAL);

	CHECK_INT(parse_ulong("4095", 4095, &ul), 0);
	CHECK_INT(ul, 4095);
	CHECK_INT(parse_ulong("007", 7, &ul), 0);
	CHECK_INT(ul, 7);
	CHECK_INT(parse_ulong("4096", 4095, &ul), -ERANGE);
	CHECK_INT(parse_ulong("8", 7, &ul), -ERANGE);
	CHECK_INT(parse_ulong("18446744073709551616", ULONG_MAX, &ul), -ERANGE);
	CHECK_INT(parse_ulong("18446744073709551615", ULONG_MAX, &ul), 0);
	CHECK_INT(ul, ULONG_MAX);
	CHECK_INT(parse_ulong("", 10, &ul), -EBADMSG);
	CHECK_INT(parse_ulong(NULL, 10, &ul), -EBADMSG);
	CHECK_INT(parse_ulong("+1", 10, &ul), -EBADMSG);
	CHECK_INT(parse_ulong("-1", 10, &ul), -EBADMSG);
	CHECK_INT(parse_ulong(" 1", 10, &ul), -EBADMSG);
	CHECK_INT(parse_ulong("1 ", 10, &ul), -EBADMSG);
	CHECK_INT(parse_ulong("0x1", 10, &ul), -EBADMSG);
	/* ret is written only on success. */
	CHECK_INT(ul, ULONG_MAX);

	CHECK_INT(parse_uint("4294967295", UINT_MAX, &u), 0);
	CHECK_INT(u, UINT_MAX);
	CHECK_INT(parse_uint("4294967296", UINT_MAX, &u), -ERANGE);
	CHECK_INT(parse_uint("x", UINT_MAX, &u), -EBADMSG);
}

static void test_strv(void)
{
	_cleanup_strv_free_ char **v = NULL;

	CHECK(strv_last(v) == NULL);
	CHECK_INT(strv_ensure(&v), 0);
	CHECK(v != NULL && v[0] == NULL);
	CHECK_INT(strv_length(v), 0);
	CHECK_INT(strv_pushf(&v, "%s: %d", "one", 1), 0);
	CHECK_INT(strv_push(&v, "two"), 0);
	CHECK_INT(strv_pushf(&v, "three"), 0);
	CHECK_INT(strv_length(v), 3);
	CHECK_STR(v[0], "one: 1");
	CHECK_STR(strv_last(v), "three");
	CHECK(v[3] == NULL);
	CHECK(strv_contains(v, "two"));
	CHECK(!strv_contains(v, "four"));
	CHECK_INT(strv_consume(&v, NULL), -ENOMEM);
	CHECK_INT(strv_length(v), 3);
}

static void test_text(void)
{
	_cleanup_free_ char *error = NULL, *s = NULL, *q1 = NULL, *q2 = NULL, *q3 = NULL;

	CHECK_INT(error_setf(&error, -EIO, "%s: first", "dev"), -EIO);
	CHECK_STR(error, "dev: first");
	CHECK_INT(error_setf(&error, -EBUSY, "second %u", 2u), -EBUSY);
	CHECK_STR(error, "second 2");
	/* The old message may be an argument of the new one. */
	CHECK_INT(error_setf(&error, -EIO, "%s, then third", error), -EIO);
	CHECK_STR(error, "second 2, then third");
	CHECK_INT(free_and_strf(&s, "%03d", 7), 0);
	CHECK_STR(s, "007");
	CHECK_INT(append_word(&s, "vfio"), 0);
	CHECK_INT(append_word(&s, "vfio_pci"), 0);
	CHECK_STR(s, "007 vfio vfio_pci");
	CHECK_INT(strextendf(&s, "; %s=%d", "count", 4), 0);
	CHECK_STR(s, "007 vfio vfio_pci; count=4");

	/* Escaped, cut after max_len input characters. */
	{
		char in[201];
		_cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;

		memset(in, 0x01, 200);
		in[200] = '\0';
		e1 = escape_for_message(in, 64);
		CHECK(e1 != NULL);
		CHECK_INT(e1 ? strlen(e1) : 0, 64 * 4 + 3);
		CHECK(e1 && strncmp(e1, "\\x01\\x01", 8) == 0);
		CHECK(e1 && strcmp(e1 + 64 * 4, "...") == 0);
		in[64] = '\0';
		e2 = escape_for_message(in, 64);
		CHECK_INT(e2 ? strlen(e2) : 0, 64 * 4);
		e3 = escape_for_message("a\"b\\c", 64);
		CHECK_STR(e3, "a\\x22b\\x5cc");
	}

	/* Lines: empty ones count, the last needs no newline, NULL and "" have none. */
	{
		_cleanup_free_ char *line = NULL;
		const char *p = "a b\n\n c\nlast";

		CHECK_INT(text_next_line(&p, &line), 1);
		CHECK_STR(line, "a b");
		CHECK_INT(text_next_line(&p, &line), 1);
		CHECK_STR(line, "");
		CHECK_INT(text_next_line(&p, &line), 1);
		CHECK_STR(line, " c");
		CHECK_INT(text_next_line(&p, &line), 1);
		CHECK_STR(line, "last");
		CHECK_INT(text_next_line(&p, &line), 0);
		CHECK(line == NULL);
		CHECK_INT(text_next_line(&p, &line), 0);
		p = "only\n";
		CHECK_INT(text_next_line(&p, &line), 1);
		CHECK_STR(line, "only");
		CHECK_INT(text_next_line(&p, &line), 0);
		p = NULL;
		CHECK_INT(text_next_line(&p, &line), 0);
		p = "";
		CHECK_INT(text_next_line(&p, &line), 0);
		CHECK(line == NULL);
	}

	q1 = shell_quote("0000:42:00.0");
	q2 = shell_quote("it's");
	q3 = shell_quote("");
	CHECK_STR(q1, "0000:42:00.0");
	CHECK_STR(q2, "'it'\\''s'");
	CHECK_STR(q3, "''");
}

struct thing {
	unsigned refcount;
	int *freed;
};

static void thing_free(struct thing *t)
{
	(*t->freed)++;
	free(t);
}

DEFINE_REF_UNREF_FUNC(static, struct thing, thing, thing_free);

static void test_refcount(void)
{
	int freed = 0;
	struct thing *t = calloc(1, sizeof(*t));

	CHECK(t != NULL);
	if (!t)
		return;
	*t = (struct thing){.refcount = 1, .freed = &freed};
	CHECK(thing_ref(t) == t);
	CHECK(thing_unref(t) == NULL);
	CHECK_INT(freed, 0);
	CHECK(thing_unref(t) == NULL);
	CHECK_INT(freed, 1);
	CHECK(thing_ref(NULL) == NULL);
	CHECK(thing_unref(NULL) == NULL);
}

static void test_array(void)
{
	struct pair {
		int a, b;
	} *v = NULL, *p;
	size_t n = 0;

	for (int i = 0; i < 100; i++) {
		p = ARRAY_GROW(v, n);
		CHECK(p != NULL);
		if (!p)
			break;
		/* The new element is zeroed. */
		CHECK_INT(p->a + p->b, 0);
		p->a = i;
		n++;
	}
	CHECK_INT(n, 100);
	for (size_t i = 0; i < n; i++)
		CHECK_INT(v[i].a, (int)i);
	free(v);
}

int main(void)
{
	test_parse();
	test_strv();
	test_text();
	test_refcount();
	test_array();
	TEST_DONE();
}
