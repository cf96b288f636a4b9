/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel version comparison, for rules such as "vfio_virqfd exists before 6.2". */
#include "internal.h"
#include "kver.h"

/* One decimal component, at most 5 digits: no kernel version number comes close. */
static const char *parse_component(const char *s, unsigned *ret)
{
	unsigned v = 0;
	int digits = 0;

	while (*s >= '0' && *s <= '9') {
		if (++digits > 5)
			return NULL;
		v = v * 10 + (unsigned)(*s - '0');
		s++;
	}
	if (digits == 0)
		return NULL;
	*ret = v;
	return s;
}

int kver_parse(const char *release, struct kver *ret)
{
	struct kver v = {0};
	const char *p;

	if (!release)
		return -EINVAL;
	p = parse_component(release, &v.major);
	if (!p || *p != '.')
		return -EINVAL;
	p = parse_component(p + 1, &v.minor);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		const char *q = parse_component(p + 1, &v.patch);

		if (q)
			p = q;
	}
	/* What follows is the distribution's business: "-18-amd64", "+deb12-amd64", ".el9.x86_64".
	 */
	*ret = v;
	return 0;
}

int kver_compare(const struct kver *v, unsigned major, unsigned minor)
{
	if (v->major != major)
		return v->major < major ? -1 : 1;
	if (v->minor != minor)
		return v->minor < minor ? -1 : 1;
	return 0;
}

bool kver_has_vfio_virqfd(const struct kver *v)
{
	return kver_compare(v, 6, 2) < 0;
}
