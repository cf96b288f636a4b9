/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /metrics: Prometheus text format 0.0.4. */
#include <stdio.h>
#include <string.h>

#include "passthrud.h"

/* Upper bounds of the request latency buckets, in seconds (the last bucket is +Inf). */
static const double latency_bounds[LATENCY_BUCKETS - 1] = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0,
};

void metrics_request(struct metrics *m, unsigned status, double seconds)
{
	size_t b = 0;

	m->requests[status >= 200 && status < 600 ? status / 100 : 0]++;
	while (b < LATENCY_BUCKETS - 1 && seconds > latency_bounds[b])
		b++;
	m->latency_buckets[b]++;
	m->latency_count++;
	m->latency_sum += seconds;
}

struct count {
	const char *state, *type;
	unsigned n;
};

char *metrics_render(const struct daemon *d)
{
	const struct metrics *m = &d->metrics;
	size_t n_all = d->inv.n + d->inv.n_ports;
	struct count *counts = calloc(n_all ?: 1, sizeof(*counts));
	size_t n_counts = 0, size = 0;
	char *text = NULL;
	uint64_t cumulative = 0;
	FILE *f;

	if (!counts)
		return NULL;
	f = open_memstream(&text, &size);
	if (!f) {
		free(counts);
		return NULL;
	}
	for (size_t i = 0; i < n_all; i++) {
		const struct device *dev =
		    i < d->inv.n ? &d->inv.v[i] : &d->inv.ports[i - d->inv.n];
		const char *state = device_state(d, dev, NULL);
		size_t j;

		for (j = 0; j < n_counts; j++)
			if (counts[j].state == state && strcmp(counts[j].type, dev->type) == 0)
				break;
		if (j == n_counts)
			counts[n_counts++] = (struct count){state, dev->type, 0};
		counts[j].n++;
	}
	fputs(
	    "# HELP passthrud_devices PCI functions, USB devices (type USB) and serial ports (type "
	    "serial) by state (host, free, allocated, lost) and type.\n"
	    "# TYPE passthrud_devices gauge\n",
	    f);
	for (size_t j = 0; j < n_counts; j++)
		fprintf(f, "passthrud_devices{state=\"%s\",type=\"%s\"} %u\n", counts[j].state,
			counts[j].type, counts[j].n);
	free(counts);
	fprintf(
	    f,
	    "# HELP passthrud_allocations Allocations held now.\n"
	    "# TYPE passthrud_allocations gauge\n"
	    "passthrud_allocations %zu\n"
	    "# HELP passthrud_allocations_made_total Allocations made since start.\n"
	    "# TYPE passthrud_allocations_made_total counter\n"
	    "passthrud_allocations_made_total %llu\n"
	    "# HELP passthrud_allocations_released_total Allocations released since start.\n"
	    "# TYPE passthrud_allocations_released_total counter\n"
	    "passthrud_allocations_released_total %llu\n"
	    "# HELP passthrud_refusals_total Allocations refused by a guard or the takeover's "
	    "checks (422).\n"
	    "# TYPE passthrud_refusals_total counter\n"
	    "passthrud_refusals_total %llu\n"
	    "# HELP passthrud_uevents_total PCI uevents received.\n"
	    "# TYPE passthrud_uevents_total counter\n"
	    "passthrud_uevents_total %llu\n"
	    "# HELP passthrud_bind_seconds Time spent binding devices to vfio-pci.\n"
	    "# TYPE passthrud_bind_seconds summary\n"
	    "passthrud_bind_seconds_sum %.6f\n"
	    "passthrud_bind_seconds_count %llu\n"
	    "# HELP passthrud_bind_failures_total Bindings that failed (and were rolled back).\n"
	    "# TYPE passthrud_bind_failures_total counter\n"
	    "passthrud_bind_failures_total %llu\n",
	    d->allocs.n, (unsigned long long)m->allocations_made,
	    (unsigned long long)m->allocations_released, (unsigned long long)m->refusals,
	    (unsigned long long)m->uevents, m->bind_seconds_sum, (unsigned long long)m->binds,
	    (unsigned long long)m->bind_failures);
	fputs("# HELP passthrud_requests_total HTTP requests answered, by status class.\n"
	      "# TYPE passthrud_requests_total counter\n",
	      f);
	for (unsigned c = 2; c <= 5; c++)
		fprintf(f, "passthrud_requests_total{code=\"%uxx\"} %llu\n", c,
			(unsigned long long)m->requests[c]);
	fputs("# HELP passthrud_request_duration_seconds Time from request to answer.\n"
	      "# TYPE passthrud_request_duration_seconds histogram\n",
	      f);
	for (size_t b = 0; b < LATENCY_BUCKETS; b++) {
		cumulative += m->latency_buckets[b];
		if (b < LATENCY_BUCKETS - 1)
			fprintf(f, "passthrud_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				latency_bounds[b], (unsigned long long)cumulative);
		else
			fprintf(f, "passthrud_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				(unsigned long long)cumulative);
	}
	fprintf(f,
		"passthrud_request_duration_seconds_sum %.6f\n"
		"passthrud_request_duration_seconds_count %llu\n",
		m->latency_sum, (unsigned long long)m->latency_count);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
