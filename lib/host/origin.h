/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Origin classification: who issued an I/O. Pure functions on strings. */
#ifndef HCI_ORIGIN_H
#define HCI_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#define HCI_ORIGIN_MAX 256

/* A user rule: cgroup path glob -> class[:name]. An empty name means "the
 * last component of the cgroup path". */
struct hci_rule {
	char pattern[256];
	char cls[16];
	char name[128];
};

struct hci_rules {
	struct hci_rule *v;
	size_t n, cap;
};

/* "PATTERN=CLASS[:NAME]"; CLASS is vm, container or host. */
int hci_rule_parse(const char *spec, struct hci_rule *r, char *err, size_t errlen);
int hci_rules_add(struct hci_rules *rules, const struct hci_rule *r);
/* One rule per line, '#' comments; errors name file:line. */
int hci_rules_load(const char *path, struct hci_rules *rules, char *err, size_t errlen);
void hci_rules_free(struct hci_rules *rules);

/*
 * Classify: user rules first, then a VMM process (vmm_name != NULL), then the
 * built-in container and libvirt cgroup patterns, else host:<cgpath>.
 */
void hci_classify(const struct hci_rules *rules, const char *cgpath,
		  const char *vmm_name, char *out, size_t outlen);

/* The VM name from a NUL-separated VMM command line (-name / --name / --id).
 * Returns 0 and fills out, or -1 when the command line names no VM. */
int hci_vmm_name_from_cmdline(const char *cmdline, size_t len, char *out, size_t outlen);

/* Does "class:name" match a filter "CLASS" or "CLASS:NAME"? */
bool hci_origin_matches(const char *origin, const char *filter);
/* Is "CLASS[:NAME]" a well-formed filter? */
bool hci_origin_filter_valid(const char *filter);

#endif
