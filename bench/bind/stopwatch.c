/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stopwatch [-o FILE] CMD [ARGS...]: runs CMD, prints its wall-clock time in microseconds on
 * stdout (or into FILE, leaving CMD's stdout alone) and exits with CMD's exit status. The
 * guest's busybox has no sub-second clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	const char *file = NULL;
	FILE *f = stdout;
	int status = 0;
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "-o") == 0) {
		file = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: stopwatch [-o FILE] CMD [ARGS...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (file && !(f = fopen(file, "w"))) {
		perror(file);
		return 2;
	}
	fprintf(f, "%lld\n",
		(long long)(b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
	if (file)
		fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
