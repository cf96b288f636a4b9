/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Kubernetes resources of /etc/passthru/kubernetes.d/ *.conf and the devices they select.
 * No I/O here (kubernetes-config.c is fuzzed): the caller reads the files and the host.
 *
 * One resource per line: "RESOURCE_NAME SELECTOR..." with the selectors
 *   id=VVVV:DDDD   vendor and device id, 4 hex digits each
 *   type=TYPE      a built-in type (GPU-VGA, GPU-HPC, NIC, NVME, PCI) or a custom type
 *   numa=N         only functions on NUMA node N
 * at least one of id= and type=, each selector at most once; "#" starts a comment. The name is
 * a Kubernetes extended resource name with its domain ("passthru.io/vf"). A bad line is a
 * problem "FILE:LINE: ..." and only that line is left out.
 *
 * A resource's devices are IOMMU groups, not functions: a group is one device when one of its
 * endpoints (the functions that are not bridges) matches, its ID is the address of its first
 * endpoint and it carries every endpoint. A group that two resources select belongs to the
 * first of them (files in name order, lines in order).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kubernetes limits a qualified name's prefix to 253 characters and its name to 63. */
#define KUBE_RESOURCE_NAME_MAX (253 + 1 + 63)

struct kube_resource {
	char *name;    /* "passthru.io/vf" */
	int vendor_id; /* -1: any */
	int device_id; /* -1: any (set together with vendor_id) */
	char *type;    /* NULL: any */
	int numa_node; /* -1: any */
	char *file;    /* where it was defined, for messages */
	unsigned line;
};

/* A file that was read, and a digest of what it said: whether it changed since. */
struct kube_file {
	char *path; /* as messages name it: a problem of the file starts with "PATH:" */
	uint64_t digest;
};

struct kube_config {
	struct kube_resource *v;
	size_t n;
	char **problems; /* "FILE:LINE: message", NULL-terminated (NULL when none) */
	size_t n_problems;
	struct kube_file *files; /* in the order they were read */
	size_t n_files;
};

/*
 * Parses one file's text (len bytes, NUL bytes are a problem) named file in messages, and
 * appends its resources and problems to cfg. A name already defined is a problem. Returns 0 or
 * -ENOMEM (cfg then holds what was parsed before).
 */
int kube_config_parse(struct kube_config *cfg, const char *file, const char *text, size_t len);
/*
 * Records file with a digest of text (len bytes), as kube_config_parse() does: a file that
 * cannot be read is recorded with its error as the text. -ENOMEM on failure.
 */
int kube_config_add_file(struct kube_config *cfg, const char *file, const char *text, size_t len);
/* The file a problem of cfg is about (the one its text starts with), or NULL. */
const struct kube_file *kube_config_problem_file(const struct kube_config *cfg,
						 const char *problem);
/* Records a problem that is not about a line (an unreadable file). -ENOMEM on failure. */
int kube_config_add_problem(struct kube_config *cfg, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void kube_config_done(struct kube_config *cfg);
const struct kube_resource *kube_config_find(const struct kube_config *cfg, const char *name);

/* "passthru.io/vf": a domain of DNS labels, "/", then 1 to 63 of [A-Za-z0-9._-] (alnum ends). */
bool kube_resource_name_is_valid(const char *name);
/* The KubeVirt environment variable: "PCI_RESOURCE_PASSTHRU_IO_VF". Returns NULL on ENOMEM. */
char *kube_resource_env_name(const char *name);

/* A PCI function as the host shows it; strings are borrowed. */
struct kube_function {
	const char *address;
	const char *type;
	const char *driver;			    /* NULL: none */
	int vendor_id, device_id, group, numa_node; /* -1: unknown or none */
	bool non_endpoint; /* a bridge, the IOMMU...: never a resource's device */
};

bool kube_resource_matches(const struct kube_resource *r, const struct kube_function *f);

/* One device of a resource: an IOMMU group. */
struct kube_device {
	const char *id; /* the first endpoint's address (borrowed from the functions) */
	int group;
	int numa_node;		/* the first endpoint's; -1: none */
	const char **addresses; /* every endpoint of the group, in the functions' order */
	size_t n_addresses;
	bool healthy; /* every endpoint is on vfio-pci */
};

struct kube_devices {
	struct kube_device *v;
	size_t n;
};

/*
 * The devices of resource index ri of cfg among the functions f (n of them, sorted by address),
 * groups claimed by an earlier resource left out. Returns 0 or -ENOMEM.
 */
int kube_resource_devices(const struct kube_config *cfg, size_t ri, const struct kube_function *f,
			  size_t n, struct kube_devices *ret);
void kube_devices_done(struct kube_devices *devs);
/* The resource (index) owning the function at address, or -1. */
int kube_config_owner(const struct kube_config *cfg, const struct kube_function *f, size_t n,
		      const char *address);
