// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's names for what it sees: the origin of a (cgroup, VMM) pair and
 * the VM behind a VMM pid, each looked up once and kept, so a VM that has
 * exited keeps the name it had while it ran.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace.h"

/* The VM behind a VMM tgid, inspected while the process is alive, then kept. */
const struct hci_vmm_info *vmm_info(struct trace_run *tr, __u32 tgid)
{
	struct vmm_ent **v, *e;

	for (size_t i = 0; i < tr->nvmms; i++)
		if (tr->vmms[i]->tgid == tgid)
			return &tr->vmms[i]->info;
	e = calloc(1, sizeof(*e));
	v = e ? realloc(tr->vmms, (tr->nvmms + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(e);
		return NULL;
	}
	tr->vmms = v;
	tr->vmms[tr->nvmms++] = e;
	e->tgid = tgid;
	if (hci_vmm_inspect((pid_t)tgid, &e->info))
		snprintf(e->info.name, sizeof(e->info.name), "%u", tgid);	/* gone */
	e->info.pid = (pid_t)tgid;
	return &e->info;
}

const char *vmm_name(struct trace_run *tr, __u32 tgid)
{
	const struct hci_vmm_info *vi = vmm_info(tr, tgid);

	return vi ? vi->name : "?";
}

const char *origin_of(struct trace_run *tr, __u64 cgid, __u32 tgid)
{
	struct origin_ent *o;
	const char *path;
	char gone[64];

	for (size_t i = 0; i < tr->norigins; i++)
		if (tr->origins[i].cgid == cgid && tr->origins[i].tgid == tgid)
			return tr->origins[i].origin;
	o = realloc(tr->origins, (tr->norigins + 1) * sizeof(*o));
	if (!o)
		return "?";
	tr->origins = o;
	o = &tr->origins[tr->norigins++];
	o->cgid = cgid;
	o->tgid = tgid;
	if (cgid == (__u64)-1)
		path = "(vmm)";
	else
		path = cgid ? hci_cgroup_path(&tr->cg, cgid) : "(unknown)";
	if (!path) {
		/* the cgroup was removed before we could name it */
		snprintf(gone, sizeof(gone), "(removed cgroup %llu)", (unsigned long long)cgid);
		path = gone;
	}
	hci_classify(&tr->env.rules, path, tgid ? vmm_name(tr, tgid) : NULL,
		     o->origin, sizeof(o->origin));
	return o->origin;
}

/* A VMM's requests are its own: the origin is the VM, whatever its cgroup. */
const char *vm_origin(struct trace_run *tr, __u32 tgid)
{
	return origin_of(tr, (__u64)-1, tgid);
}

/* Name the VMs that run now, while they run (@vm_tgid: only that one). */
void origins_name_running_vms(struct trace_run *tr, __u32 vm_tgid)
{
	struct hci_vmm_info *found = calloc(64, sizeof(*found));
	int n = found ? hci_vmm_discover(found, 64, (pid_t)vm_tgid) : 0;

	for (int i = 0; i < n; i++)
		vmm_info(tr, (__u32)found[i].pid);
	free(found);
}

void origins_free(struct trace_run *tr)
{
	free(tr->origins);
	for (size_t i = 0; i < tr->nvmms; i++)
		free(tr->vmms[i]);
	free(tr->vmms);
}
