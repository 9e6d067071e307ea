// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The origin resolver of resolver.h: the (cgid, tgid) -> origin and
 * tgid -> VMM caches, and the one policy for unknown and removed cgroups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/vec.h"
#include "resolver.h"

void hci_resolver_init(struct hci_resolver *r, struct hci_cgroups *cg,
		       const struct hci_rules *rules, bool images)
{
	*r = (struct hci_resolver){ .cg = cg, .rules = rules, .images = images };
}

/* a zeroed entry of size bytes, appended to t; NULL when out of memory */
static void *entry_add(struct hci_entries *t, size_t size)
{
	void *e = calloc(1, size), **v;

	v = e ? hci_vec_grow(t->v, &t->cap, t->n, sizeof(*v), 16) : NULL;
	if (!v) {
		free(e);
		return NULL;
	}
	t->v = v;
	t->v[t->n++] = e;
	return e;
}

/* drop the entries keep() refuses (all of them when keep is NULL) */
static void entries_filter(struct hci_entries *t, bool (*keep)(const void *e, __u64 arg),
			   __u64 arg)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (keep && keep(t->v[i], arg))
			t->v[k++] = t->v[i];
		else
			free(t->v[i]);
	}
	t->n = k;
}

static void entries_free(struct hci_entries *t)
{
	entries_filter(t, NULL, 0);
	free(t->v);
	*t = (struct hci_entries){ 0 };
}

void hci_resolver_free(struct hci_resolver *r)
{
	entries_free(&r->origins);
	entries_free(&r->vmms);
}

void hci_resolver_set_rules(struct hci_resolver *r, const struct hci_rules *rules)
{
	r->rules = rules;
	entries_filter(&r->origins, NULL, 0);
}

static bool other_cgroup(const void *e, __u64 cgid)
{
	return ((const struct hci_origin *)e)->cgid != cgid;
}

void hci_resolver_forget_cgroup(struct hci_resolver *r, __u64 cgid)
{
	entries_filter(&r->origins, other_cgroup, cgid);
}

const struct hci_vmm_info *hci_resolver_vmm(struct hci_resolver *r, __u32 tgid)
{
	struct hci_vmm_info *e;

	for (size_t i = 0; i < r->vmms.n; i++) {
		e = r->vmms.v[i];
		if ((__u32)e->pid == tgid)
			return e;
	}
	e = entry_add(&r->vmms, sizeof(*e));
	if (!e)
		return NULL;
	if (r->images ? hci_vmm_inspect((pid_t)tgid, e) : hci_vmm_inspect_name((pid_t)tgid, e))
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
	struct hci_origin *o;
	const char *path;
	char gone[64];

	for (size_t i = 0; i < r->origins.n; i++) {
		o = r->origins.v[i];
		if (o->cgid == cgid && o->tgid == tgid)
			return o;
	}
	o = entry_add(&r->origins, sizeof(*o));
	if (!o)
		return NULL;
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
