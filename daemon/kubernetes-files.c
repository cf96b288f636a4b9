// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading /etc/passthru/kubernetes.d/ *.conf below the context's root, for passthrud and the
 * passthru command. The files in name order; an unreadable file is a problem, not a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubernetes-files.h"

#define KUBE_FILE_MAX (1024 * 1024)

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

static int read_text(int dirfd, const char *name, char **ret, size_t *ret_len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0;
	char *buf;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KUBE_FILE_MAX) {
		int r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;

		close(fd);
		return r;
	}
	buf = malloc(KUBE_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, KUBE_FILE_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == KUBE_FILE_MAX)
			break;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int kube_config_load(const char *sysroot, struct kube_config *cfg)
{
	char *dir_path = NULL, **names = NULL;
	size_t n = 0;
	DIR *dir;
	struct dirent *de;
	int dirfd, r = 0;

	if (asprintf(&dir_path, "%s%s", strcmp(sysroot, "/") == 0 ? "" : sysroot, KUBE_CONFIG_DIR) <
	    0)
		return -ENOMEM;
	dirfd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir_path);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : -errno;
	dir = fdopendir(dirfd);
	if (!dir) {
		r = -errno;
		close(dirfd);
		return r;
	}
	while ((de = readdir(dir))) {
		char **v;

		if (!is_conf(de->d_name))
			continue;
		v = realloc(names, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(de->d_name))) {
			names = v ?: names;
			r = -ENOMEM;
			break;
		}
		names = v;
		n++;
	}
	if (r == 0 && n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *path = NULL, *text = NULL;
		size_t len = 0;
		int q;

		if (asprintf(&path, "%s/%s", KUBE_CONFIG_DIR, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		q = read_text(dirfd, names[i], &text, &len);
		if (q == -ENOMEM) {
			r = q;
		} else if (q < 0) {
			/* Recorded with its error: another error of the file is a change of it. */
			const char *why = strerror(-q);

			r = kube_config_add_file(cfg, path, why, strlen(why));
			if (r >= 0)
				r = kube_config_add_problem(cfg, "%s: cannot read: %s", path, why);
		} else {
			r = kube_config_parse(cfg, path, text, len);
		}
		free(text);
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return r;
}
