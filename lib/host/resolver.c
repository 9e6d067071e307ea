// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The origin resolver of resolver.h: the (cgid, tgid) -> origin and
 * tgid -> VMM caches, and the one policy for unknown and removed cgroups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "procs.h"
#include "resolver.h"

void hci_resolver_init(struct hci_resolver *r, struct hci_cgroups *cg,
		       const struct hci_rules *rules, bool images)
{
	*r = (struct hci_resolver){ .cg = cg, .rules = rules, .images = images };
}

static void drop_origins(struct hci_resolver *r)
{
	for (size_t i = 0; i < r->norigins; i++)
		free(r->origins[i]);
	r->norigins = 0;
}

void hci_resolver_free(struct hci_resolver *r)
{
	drop_origins(r);
	free(r->origins);
	for (size_t i = 0; i < r->nvmms; i++)
		free(r->vmms[i]);
	free(r->vmms);
	r->origins = NULL;
	r->vmms = NULL;
	r->norigins = r->nvmms = 0;
}

void hci_resolver_set_rules(struct hci_resolver *r, const struct hci_rules *rules)
{
	r->rules = rules;
	drop_origins(r);
}

void hci_resolver_forget_cgroup(struct hci_resolver *r, __u64 cgid)
{
	size_t k = 0;

	for (size_t i = 0; i < r->norigins; i++) {
		if (r->origins[i]->cgid != cgid)
			r->origins[k++] = r->origins[i];
		else
			free(r->origins[i]);
	}
	r->norigins = k;
}

/* The VM name alone: comm and command line, no open files */
static void inspect_name(pid_t pid, struct hci_vmm_info *vi)
{
	char cmd[HCI_CMDLINE_MAX];
	int n;

	memset(vi, 0, sizeof(*vi));
	vi->pid = pid;
	if (hci_proc_comm(pid, vi->comm, sizeof(vi->comm)) < 0) {
		snprintf(vi->name, sizeof(vi->name), "%d", pid);
		return;
	}
	n = hci_proc_cmdline(pid, cmd, sizeof(cmd));
	if (n <= 0 || hci_vmm_name_from_cmdline(cmd, (size_t)n, vi->name, sizeof(vi->name)))
		snprintf(vi->name, sizeof(vi->name), "%d", pid);
	if (n > 0)
		hci_vmm_drives(cmd, (size_t)n, vi->drives, sizeof(vi->drives));
}

const struct hci_vmm_info *hci_resolver_vmm(struct hci_resolver *r, __u32 tgid)
{
	struct hci_vmm_info **v, *e;

	for (size_t i = 0; i < r->nvmms; i++)
		if ((__u32)r->vmms[i]->pid == tgid)
			return r->vmms[i];
	e = calloc(1, sizeof(*e));
	v = e ? realloc(r->vmms, (r->nvmms + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(e);
		return NULL;
	}
	r->vmms = v;
	r->vmms[r->nvmms++] = e;
	if (!r->images)
		inspect_name((pid_t)tgid, e);
	else if (hci_vmm_inspect((pid_t)tgid, e))
		snprintf(e->name, sizeof(e->name), "%u", tgid);	/* gone */
	e->pid = (pid_t)tgid;
	return e;
}

const char *hci_resolver_vmm_name(struct hci_resolver *r, __u32 tgid)
{
	const struct hci_vmm_info *vi = hci_resolver_vmm(r, tgid);

	return vi ? vi->name : "?";
}

/* the path hci_classify sees, and what kind of cgroup it is */
static const char *cgroup_of(struct hci_resolver *r, struct hci_origin *o, char *gone,
			     size_t len)
{
	const char *path;

	if (o->cgid == HCI_CGID_VMM) {
		o->cg = HCI_CG_VMM;
		return "(vmm)";
	}
	if (!o->cgid) {
		o->cg = HCI_CG_NONE;
		return "(unknown)";
	}
	path = hci_cgroup_path(r->cg, o->cgid);
	if (!path) {
		o->cg = HCI_CG_REMOVED;
		snprintf(gone, len, "(removed cgroup %llu)", (unsigned long long)o->cgid);
		return gone;
	}
	o->cg = HCI_CG_LIVE;
	snprintf(o->cgpath, sizeof(o->cgpath), "%s", path);
	return path;
}

const struct hci_origin *hci_origin_lookup(struct hci_resolver *r, __u64 cgid, __u32 tgid)
{
	struct hci_origin **v, *o;
	const char *path;
	char gone[64];

	for (size_t i = 0; i < r->norigins; i++)
		if (r->origins[i]->cgid == cgid && r->origins[i]->tgid == tgid)
			return r->origins[i];
	o = calloc(1, sizeof(*o));
	v = o ? realloc(r->origins, (r->norigins + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(o);
		return NULL;
	}
	r->origins = v;
	r->origins[r->norigins++] = o;
	o->cgid = cgid;
	o->tgid = tgid;
	path = cgroup_of(r, o, gone, sizeof(gone));
	hci_classify(r->rules, path, tgid ? hci_resolver_vmm_name(r, tgid) : NULL,
		     o->name, sizeof(o->name));
	return o;
}

const char *hci_origin_of(struct hci_resolver *r, __u64 cgid, __u32 tgid)
{
	const struct hci_origin *o = hci_origin_lookup(r, cgid, tgid);

	return o ? o->name : "?";
}

const char *hci_vm_origin(struct hci_resolver *r, __u32 tgid)
{
	return hci_origin_of(r, HCI_CGID_VMM, tgid);
}
