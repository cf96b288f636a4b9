/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GRUB_CMDLINE_LINUX editor and the kernel command line model under it. */
#include "cmdline.h"
#include "grub.h"
#include "internal.h"
#include "kver.h"
#include "test.h"

static const struct param_req intel[] = {
    {PARAM_REQ_SET, "intel_iommu", "on", 0},
    {PARAM_REQ_SET, "iommu", "pt", 0},
    {PARAM_REQ_SET, "vfio_iommu_type1.allow_unsafe_interrupts", "1", 0},
};

static const struct param_req amd[] = {
    {PARAM_REQ_NOT, "amd_iommu", "off", 0},
    {PARAM_REQ_SET, "iommu", "pt", 0},
    {PARAM_REQ_SET, "vfio_iommu_type1.allow_unsafe_interrupts", "1", 0},
};

/* Edits text with reqs and compares with want; then checks the result is a fixed point. */
static void edit_case(int line, const char *text, const struct param_req *reqs, size_t n,
		      const char *want, int want_r)
{
	_cleanup_free_ char *out = NULL, *again = NULL;
	struct grub_error err = {0};
	int r;

	r = grub_default_edit(text, strlen(text), reqs, n, &out, &err);
	if (r != want_r) {
		fprintf(stderr, "line %d: grub_default_edit() = %d (%s), expected %d\n", line, r,
			err.reason ? err.reason : "-", want_r);
		test_failures++;
		return;
	}
	if (r < 0)
		return;
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "line %d: got\n---\n%s---\nexpected\n---\n%s---\n", line, out,
			want);
		test_failures++;
		return;
	}
	/* Idempotence: the result needs nothing more and is left exactly as it is. */
	r = grub_default_edit(out, strlen(out), reqs, n, &again, &err);
	if (r != 0 || strcmp(again, out) != 0) {
		fprintf(stderr, "line %d: second edit changed the file (r=%d)\n", line, r);
		test_failures++;
	}
	CHECK_INT(grub_default_check(out, strlen(out), reqs, n, NULL, NULL), 1);
}

#define EDIT(text, reqs, want) edit_case(__LINE__, text, reqs, ELEMENTSOF(reqs), want, 1)
#define UNCHANGED(text, reqs)  edit_case(__LINE__, text, reqs, ELEMENTSOF(reqs), text, 0)

static void test_shapes(void)
{
	/* Debian's stock file: empty double-quoted LINUX, DEFAULT with quiet. */
	EDIT("GRUB_DEFAULT=0\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
	     "GRUB_CMDLINE_LINUX=\"\"\n",
	     intel,
	     "GRUB_DEFAULT=0\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
	     "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* CentOS 7: existing parameters keep their order; single quotes stay single. */
	EDIT("GRUB_CMDLINE_LINUX='crashkernel=auto rd.lvm.lv=centos/root rhgb quiet'\n", amd,
	     "GRUB_CMDLINE_LINUX='crashkernel=auto rd.lvm.lv=centos/root rhgb quiet iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1'\n");
	/* Unquoted single word: gains double quotes when it needs them. */
	EDIT("GRUB_CMDLINE_LINUX=quiet\n", amd,
	     "GRUB_CMDLINE_LINUX=\"quiet iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	EDIT("GRUB_CMDLINE_LINUX=\n", intel,
	     "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* Missing line: appended, the rest untouched (no final newline in the input). */
	EDIT("# comment\nGRUB_TIMEOUT=5", intel,
	     "# comment\nGRUB_TIMEOUT=5\n"
	     "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	EDIT("", amd,
	     "GRUB_CMDLINE_LINUX=\"iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* Comments: a commented-out assignment is not one; a trailing comment stays. */
	EDIT("#GRUB_CMDLINE_LINUX=\"iommu=soft\"\n"
	     "GRUB_CMDLINE_LINUX=\"rhgb\" # keep me\n",
	     amd,
	     "#GRUB_CMDLINE_LINUX=\"iommu=soft\"\n"
	     "GRUB_CMDLINE_LINUX=\"rhgb iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\" # "
	     "keep me\n");
	/* Conflicting values are replaced where they stand, not duplicated. */
	EDIT("GRUB_CMDLINE_LINUX=\"quiet iommu=soft splash\"\n", amd,
	     "GRUB_CMDLINE_LINUX=\"quiet iommu=pt splash "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	EDIT("GRUB_CMDLINE_LINUX=\"intel_iommu=off quiet\"\n", intel,
	     "GRUB_CMDLINE_LINUX=\"intel_iommu=on quiet iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* A conflicting value before an acceptable one goes: replacing it would duplicate the
	 * other (a user's "iommu=1 amd_iommu=on iommu=pt"). */
	EDIT("GRUB_CMDLINE_LINUX=\"\"\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"iommu=1 amd_iommu=on iommu=pt\"\n",
	     amd,
	     "GRUB_CMDLINE_LINUX=\"vfio_iommu_type1.allow_unsafe_interrupts=1\"\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"amd_iommu=on iommu=pt\"\n");
	EDIT("GRUB_CMDLINE_LINUX=\"iommu=soft quiet\"\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"iommu=pt\"\n",
	     amd,
	     "GRUB_CMDLINE_LINUX=\"quiet vfio_iommu_type1.allow_unsafe_interrupts=1\"\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"iommu=pt\"\n");
	/* intel_iommu keeps its other options. */
	EDIT("GRUB_CMDLINE_LINUX=\"intel_iommu=igfx_off iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n",
	     intel,
	     "GRUB_CMDLINE_LINUX=\"intel_iommu=on,igfx_off iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* Duplicates: a later conflicting one goes (it would win); acceptable ones stay. */
	EDIT("GRUB_CMDLINE_LINUX=\"intel_iommu=on quiet intel_iommu=off\"\n", intel,
	     "GRUB_CMDLINE_LINUX=\"intel_iommu=on quiet iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	UNCHANGED("GRUB_CMDLINE_LINUX=\"iommu=pt iommu=pt intel_iommu=on intel_iommu=on "
		  "vfio-iommu-type1.allow-unsafe-interrupts=Y\"\n",
		  intel);
	/* DEFAULT is appended after LINUX by grub-mkconfig: a conflict there would win. */
	EDIT("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=soft\"\n"
	     "GRUB_CMDLINE_LINUX=\"rhgb\"\n",
	     amd,
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=pt\"\n"
	     "GRUB_CMDLINE_LINUX=\"rhgb vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	EDIT("GRUB_CMDLINE_LINUX=\"iommu=pt\"\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=soft amd_iommu=off\"\n",
	     amd,
	     "GRUB_CMDLINE_LINUX=\"iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\"\n"
	     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	/* amd_iommu keeps its other options when only "off" must go. */
	EDIT("GRUB_CMDLINE_LINUX=\"amd_iommu=off,fullflush iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n",
	     amd,
	     "GRUB_CMDLINE_LINUX=\"amd_iommu=fullflush iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* Whitespace as written survives; export is fine. */
	EDIT("export GRUB_CMDLINE_LINUX=\"  quiet   rhgb \"\n", amd,
	     "export GRUB_CMDLINE_LINUX=\"  quiet   rhgb iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1 \"\n");
	/* A multi-line value of another variable hides a line that looks like ours. */
	EDIT("GRUB_X=\"a\nGRUB_CMDLINE_LINUX=fake\nb\"\nGRUB_CMDLINE_LINUX=\"\"\n", amd,
	     "GRUB_X=\"a\nGRUB_CMDLINE_LINUX=fake\nb\"\n"
	     "GRUB_CMDLINE_LINUX=\"iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* Kernel-level quotes inside single quotes are kept verbatim. */
	EDIT("GRUB_CMDLINE_LINUX='acpi_osi=\"!Windows 2015\" quiet'\n", amd,
	     "GRUB_CMDLINE_LINUX='acpi_osi=\"!Windows 2015\" quiet iommu=pt "
	     "vfio_iommu_type1.allow_unsafe_interrupts=1'\n");
	/* Parameters after "--" are init's: ours go before it. */
	EDIT("GRUB_CMDLINE_LINUX=\"quiet -- single iommu=soft\"\n", amd,
	     "GRUB_CMDLINE_LINUX=\"quiet iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1 -- "
	     "single iommu=soft\"\n");
}

static void refused(int line, const char *text, unsigned want_line, const char *want_reason)
{
	_cleanup_free_ char *out = NULL;
	struct grub_error err = {0};
	int r = grub_default_edit(text, strlen(text), intel, ELEMENTSOF(intel), &out, &err);

	if (r != -EBADMSG || err.line != want_line || !err.reason ||
	    !strstr(err.reason, want_reason)) {
		fprintf(stderr, "line %d: r=%d line=%u reason=%s; expected line %u \"%s\"\n", line,
			r, err.line, err.reason ? err.reason : "(null)", want_line, want_reason);
		test_failures++;
	}
	CHECK(out == NULL);
}
#define REFUSED(text, l, why) refused(__LINE__, text, l, why)

/* A file the parser refuses: the check refuses it as the edit does, same line and reason. */
static void test_check_refused(void)
{
	static const char *const texts[] = {
	    "GRUB_CMDLINE_LINUX=\"$FOO quiet\"\n",
	    "A=1\nGRUB_CMDLINE_LINUX=\"a\"\nX=1\nGRUB_CMDLINE_LINUX=\"b\"\n",
	    "if true; then\n  GRUB_CMDLINE_LINUX=\"x\"\nfi\n",
	};

	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		_cleanup_free_ char *out = NULL;
		struct grub_error edit_err = {0}, check_err = {0};
		size_t missing = 99;

		CHECK_INT(grub_default_edit(texts[i], strlen(texts[i]), intel, ELEMENTSOF(intel),
					    &out, &edit_err),
			  -EBADMSG);
		CHECK_INT(grub_default_check(texts[i], strlen(texts[i]), intel, ELEMENTSOF(intel),
					     &missing, &check_err),
			  -EBADMSG);
		CHECK_INT(check_err.line, edit_err.line);
		CHECK_STR(check_err.reason, edit_err.reason);
		CHECK(check_err.reason != NULL);
		CHECK_INT(missing, 99);
		/* Without a place for the error, the answer is the same. */
		CHECK_INT(grub_default_check(texts[i], strlen(texts[i]), intel, ELEMENTSOF(intel),
					     NULL, NULL),
			  -EBADMSG);
	}
}

static void test_refused(void)
{
	REFUSED("GRUB_CMDLINE_LINUX=\"$FOO quiet\"\n", 1, "shell expansion");
	REFUSED("A=1\nGRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX} quiet\"\n", 2, "shell expansion");
	REFUSED("GRUB_CMDLINE_LINUX=\"`cat /etc/x`\"\n", 1, "command substitution");
	REFUSED("GRUB_CMDLINE_LINUX=$(cat /etc/x)\n", 1, "shell expansion");
	REFUSED("GRUB_CMDLINE_LINUX=\"quiet \\\nrhgb\"\n", 1, "continues on the next line");
	REFUSED("GRUB_CMDLINE_LINUX=quiet\\\n\n", 1, "continues on the next line");
	REFUSED("GRUB_CMDLINE_LINUX=\"quiet\nrhgb\"\n", 1, "spanning several lines");
	REFUSED("GRUB_CMDLINE_LINUX=\"a\"\nX=1\nGRUB_CMDLINE_LINUX=\"b\"\n", 3, "more than once");
	REFUSED("GRUB_CMDLINE_LINUX=\"a\"'b'\n", 1, "several quoted parts");
	REFUSED("GRUB_CMDLINE_LINUX=\"a\\\"b\"\n", 1, "backslash");
	REFUSED("GRUB_CMDLINE_LINUX+=\" quiet\"\n", 1, "+=");
	REFUSED("if true; then\n  GRUB_CMDLINE_LINUX=\"x\"\nfi\n", 2, "shell block");
	REFUSED("[ -e /x ] && GRUB_CMDLINE_LINUX=\"x\"\n", 1, "compound command");
	REFUSED("GRUB_CMDLINE_LINUX=\"x\"; echo hi\n", 1, "followed by another command");
	REFUSED("GRUB_CMDLINE_LINUX=\"x\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX y\"\n",
		2, "shell expansion");
	REFUSED("GRUB_CMDLINE_LINUX=\"x\"\necho \"$GRUB_CMDLINE_LINUX\" >/tmp/y\n", 2,
		"referred to");
	REFUSED("GRUB_CMDLINE_LINUX=\"x\"\nunset GRUB_CMDLINE_LINUX\n", 2, "command");
	REFUSED("GRUB_CMDLINE_LINUX=\"x\n", 1, "unterminated quote");
	REFUSED(". /etc/default/grub.local\n", 1, "sources another file");
	REFUSED("cat <<EOF\nGRUB_CMDLINE_LINUX=x\nEOF\n", 1, "here-document");
	REFUSED("f() {\n GRUB_CMDLINE_LINUX=\"x\"\n}\n", 2, "shell block");
	REFUSED("case $a in\n x)\n GRUB_CMDLINE_LINUX=\"x\"\n ;;\nesac\n", 3, "shell block");
	REFUSED("GRUB_CMDLINE_LINUX=~/x\n", 1, "shell syntax");
	REFUSED("X=1\nGRUB_CMDLINE_LINUX='acpi_osi=\"Linux quiet'\n", 2, "double quote open");
	/* Where a missing GRUB_CMDLINE_LINUX would be appended matters. */
	REFUSED("X=1\nif true; then\n  Y=2\n", 3, "ends inside a shell block");
	REFUSED("c(U", 1, "ends inside a shell block");
	REFUSED("X=1\nY=2 \\", 2, "ends with a line continuation");
	REFUSED("X='a b'\\\n", 1, "ends with a line continuation");
	EDIT("X=1\n# a comment \\", amd,
	     "X=1\n# a comment \\\n"
	     "GRUB_CMDLINE_LINUX=\"iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* After a "--" in GRUB_CMDLINE_LINUX, DEFAULT is init's: its iommu=soft does not count. */
	EDIT("GRUB_CMDLINE_LINUX=\"quiet -- single\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=soft\"\n",
	     amd,
	     "GRUB_CMDLINE_LINUX=\"quiet iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1 -- "
	     "single\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=soft\"\n");
	{
		static const char nul[] = "GRUB_CMDLINE_LINUX=\"a\"\n\0\n";
		struct grub_default *g = NULL;
		struct grub_error err = {0};

		CHECK_INT(grub_default_parse(nul, sizeof(nul) - 1, false, &g, &err), -EBADMSG);
		CHECK_INT(err.line, 2);
		CHECK(g == NULL);
	}
	/* A reference inside single quotes is literal text, not an expansion. */
	EDIT("GRUB_X='$GRUB_CMDLINE_LINUX'\nGRUB_CMDLINE_LINUX=\"\"\n", amd,
	     "GRUB_X='$GRUB_CMDLINE_LINUX'\n"
	     "GRUB_CMDLINE_LINUX=\"iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	/* Block keywords elsewhere do not matter once the block is closed. */
	EDIT("if [ -f /x ]; then\n  GRUB_TIMEOUT=1\nfi\nGRUB_CMDLINE_LINUX=\"\"\n", amd,
	     "if [ -f /x ]; then\n  GRUB_TIMEOUT=1\nfi\n"
	     "GRUB_CMDLINE_LINUX=\"iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
}

static void test_error_format(void)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	struct grub_error e1 = {7, 0, "GRUB_CMDLINE_LINUX", "uses a shell expansion ($)"};
	struct grub_error e2 = {9, 3, "GRUB_CMDLINE_LINUX", "is defined more than once"};

	CHECK_INT(grub_error_format(&e1, "/etc/default/grub", &a), 0);
	CHECK_STR(a, "/etc/default/grub:7: GRUB_CMDLINE_LINUX uses a shell expansion ($)");
	CHECK_INT(grub_error_format(&e2, "/etc/default/grub", &b), 0);
	CHECK_STR(b, "/etc/default/grub:9: GRUB_CMDLINE_LINUX is defined more than once (first "
		     "on line 3)");
}

static void test_lenient(void)
{
	_cleanup_grub_default_ struct grub_default *g = NULL;
	struct grub_error err = {0};
	const char *snippet =
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT iommu=soft\"\n";

	CHECK_INT(grub_default_parse(snippet, strlen(snippet), true, &g, &err), 0);
	CHECK(g && g->vars[GRUB_VAR_LINUX_DEFAULT].self_append);
	CHECK_STR(g ? g->vars[GRUB_VAR_LINUX_DEFAULT].value : NULL, " iommu=soft");
	CHECK(g && !g->vars[GRUB_VAR_LINUX].present);
	CHECK_INT(grub_default_parse(snippet, strlen(snippet), false, &g, &err), -EBADMSG);
}

static void test_hugepages(void)
{
	static const struct param_req hp1g[] = {
	    {PARAM_REQ_SET, "default_hugepagesz", "1G", 0},
	    {PARAM_REQ_HUGEPAGES, "hugepagesz", "1G", 16},
	};
	static const struct param_req bl[] = {
	    {PARAM_REQ_MEMBER, "rd.driver.blacklist", "nouveau", 0},
	    {PARAM_REQ_SET, "nouveau.modeset", "0", 0},
	};

	EDIT("GRUB_CMDLINE_LINUX=\"quiet\"\n", hp1g,
	     "GRUB_CMDLINE_LINUX=\"quiet default_hugepagesz=1G hugepagesz=1G hugepages=16\"\n");
	/* An existing count of the size is updated in place. */
	EDIT("GRUB_CMDLINE_LINUX=\"default_hugepagesz=1G hugepagesz=1G hugepages=4 quiet\"\n", hp1g,
	     "GRUB_CMDLINE_LINUX=\"default_hugepagesz=1G hugepagesz=1G hugepages=16 quiet\"\n");
	UNCHANGED(
	    "GRUB_CMDLINE_LINUX=\"hugepagesz=1048576K hugepages=16 default_hugepagesz=1024M\"\n",
	    hp1g);
	/* Other sizes keep their counts; a bare count is pinned to the old default size. */
	EDIT("GRUB_CMDLINE_LINUX=\"hugepages=512 quiet\"\n", hp1g,
	     "GRUB_CMDLINE_LINUX=\"hugepagesz=2M hugepages=512 quiet default_hugepagesz=1G "
	     "hugepagesz=1G hugepages=16\"\n");
	EDIT("GRUB_CMDLINE_LINUX=\"hugepagesz=2M hugepages=512 hugepagesz=1G\"\n", hp1g,
	     "GRUB_CMDLINE_LINUX=\"hugepagesz=2M hugepages=512 hugepagesz=1G hugepages=16 "
	     "default_hugepagesz=1G\"\n");
	/* A bare count in DEFAULT would be taken over by an appended hugepagesz=: refused. */
	{
		const char *t = "GRUB_CMDLINE_LINUX=\"default_hugepagesz=1G hugepagesz=2M\"\n"
				"GRUB_CMDLINE_LINUX_DEFAULT=\"hugepages=8\"\n";
		_cleanup_free_ char *out = NULL;
		struct grub_error err = {0};

		CHECK_INT(grub_default_edit(t, strlen(t), hp1g, 2, &out, &err), -EDOM);
		CHECK_INT(err.line, 1);
	}
	/* Blacklists add to existing lists instead of replacing them. */
	EDIT("GRUB_CMDLINE_LINUX=\"rd.driver.blacklist=radeon\"\n", bl,
	     "GRUB_CMDLINE_LINUX=\"rd.driver.blacklist=radeon rd.driver.blacklist=nouveau "
	     "nouveau.modeset=0\"\n");
	UNCHANGED("GRUB_CMDLINE_LINUX=\"rd.driver.blacklist=radeon,nouveau nouveau.modeset=0\"\n",
		  bl);
	EDIT("GRUB_CMDLINE_LINUX=\"nouveau.modeset=1\"\n", bl,
	     "GRUB_CMDLINE_LINUX=\"nouveau.modeset=0 rd.driver.blacklist=nouveau\"\n");
}

static void test_cmdline(void)
{
	_cleanup_cmdline_ struct cmdline *c = NULL;
	_cleanup_free_ char *s = NULL, *t = NULL;
	unsigned long long kib;
	bool present;

	CHECK_INT(cmdline_parse(" BOOT_IMAGE=/vmlinuz ro  quiet param=\"a b\" x= -- init=1\n", &c),
		  0);
	CHECK_INT(c->n_tokens, 7);
	CHECK_INT(cmdline_n_params(c), 5);
	CHECK_STR(cmdline_get(c, "param", NULL), "a b");
	CHECK_STR(cmdline_get(c, "x", &present), "");
	CHECK(present);
	CHECK(cmdline_get(c, "ro", &present) == NULL && present);
	CHECK(cmdline_get(c, "init", &present) == NULL && !present);
	CHECK_INT(cmdline_format(c, &s), 0);
	CHECK_STR(s, " BOOT_IMAGE=/vmlinuz ro  quiet param=\"a b\" x= -- init=1\n");
	cmdline_remove(c, 0);
	CHECK_INT(cmdline_append(c, "iommu", "pt"), 0);
	CHECK_INT(cmdline_format(c, &t), 0);
	CHECK_STR(t, " ro  quiet param=\"a b\" x= iommu=pt -- init=1\n");
	CHECK(cmdline_key_equal("vfio-iommu-type1.allow_unsafe-interrupts",
				"vfio_iommu_type1.allow_unsafe_interrupts"));
	CHECK(!cmdline_key_equal("iommu", "iommu2"));

	CHECK_INT(cmdline_parse_size("1G", &kib), 0);
	CHECK_INT(kib, 1048576);
	CHECK_INT(cmdline_parse_size("2048k", &kib), 0);
	CHECK_INT(kib, 2048);
	CHECK_INT(cmdline_parse_size("1G1", &kib), -EINVAL);
	CHECK_INT(cmdline_parse_size("100", &kib), -EINVAL);
	CHECK_INT(cmdline_parse_size("0M", &kib), -EINVAL);
	CHECK_INT(cmdline_parse_size("99999999999999999999G", &kib), -EINVAL);
	{
		_cleanup_free_ char *a = NULL, *b = NULL;

		CHECK_INT(cmdline_format_size(2048, &a), 0);
		CHECK_STR(a, "2M");
		CHECK_INT(cmdline_format_size(1048576, &b), 0);
		CHECK_STR(b, "1G");
	}
	CHECK(param_value_acceptable("intel_iommu", "on,sm_on", "on"));
	CHECK(!param_value_acceptable("intel_iommu", "on,off", "on"));
	CHECK(!param_value_acceptable("iommu", "soft", "pt"));
	CHECK(param_value_acceptable("vfio_iommu_type1.allow_unsafe_interrupts", NULL, "1"));
	CHECK(!param_value_acceptable("vfio_iommu_type1.allow_unsafe_interrupts", "0", "1"));
	CHECK(!param_value_acceptable("nouveau.modeset", NULL, "0"));
}

static void test_kver(void)
{
	struct kver v;

	CHECK_INT(kver_parse("6.1.0-18-amd64", &v), 0);
	CHECK(v.major == 6 && v.minor == 1 && v.patch == 0);
	CHECK(kver_has_vfio_virqfd(&v));
	CHECK_INT(kver_parse("6.12.9+bpo-amd64", &v), 0);
	CHECK(!kver_has_vfio_virqfd(&v));
	CHECK_INT(kver_parse("6.2", &v), 0);
	CHECK(!kver_has_vfio_virqfd(&v));
	CHECK_INT(kver_parse("5.14.0-362.el9.x86_64", &v), 0);
	CHECK(kver_has_vfio_virqfd(&v));
	CHECK_INT(kver_parse("3.10.0-1160.el7.x86_64", &v), 0);
	CHECK(kver_compare(&v, 6, 2) < 0 && kver_compare(&v, 3, 10) == 0);
	CHECK_INT(kver_parse("10.0", &v), 0);
	CHECK(kver_compare(&v, 6, 2) > 0);
	CHECK_INT(kver_parse("6", &v), -EINVAL);
	CHECK_INT(kver_parse("v6.1", &v), -EINVAL);
	CHECK_INT(kver_parse("6.", &v), -EINVAL);
	CHECK_INT(kver_parse("123456.1", &v), -EINVAL);
	CHECK_INT(kver_parse(NULL, &v), -EINVAL);
}

int main(void)
{
	test_shapes();
	test_refused();
	test_check_refused();
	test_error_format();
	test_lenient();
	test_hugepages();
	test_cmdline();
	test_kver();
	TEST_DONE();
}
