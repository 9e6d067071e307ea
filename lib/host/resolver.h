/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one origin resolver: who issued an I/O, from the (cgroup id, VMM
 * tgid) pair the BPF side keys it by. hcitrace and hcithrottle both ask it.
 *
 * The policy, in one place:
 * - cgid HCI_CGID_VMM: the VMM layer's own requests. The origin is the VM
 *   (cgroup path "(vmm)", so only a user rule for that string overrides it).
 * - cgid 0: the BPF side could not tell the cgroup. Classified as the path
 *   "(unknown)": host:(unknown), or the VM when a VMM issued it.
 * - a cgroup not found under the io hierarchy (after one rescan) was
 *   removed before it could be named: "(removed cgroup N)", likewise.
 * - tgid 0: no VMM. Otherwise the VMM is inspected the first time it is
 *   seen (comm and command line, and with images its open image files) and
 *   kept: its VM name is the -name/--id of its command line, else its tgid
 *   in decimal, also when the process was already gone. A VM that exits
 *   keeps the name it had; a reused pid keeps it too.
 * - each (cgid, tgid) pair is classified once (user rules, then the VMM,
 *   then the built-in cgroup patterns, see hci_classify) and kept, until
 *   hci_resolver_set_rules() or hci_resolver_forget_cgroup().
 * cg says which of the first three cases a result is: only HCI_CG_LIVE has
 * a cgroup path that limits can be written to.
 */
#ifndef HCI_HOST_RESOLVER_H
#define HCI_HOST_RESOLVER_H
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "cgroups.h"
#include "origin.h"
#include "vmm.h"

/* the cgroup id the BPF side gives a VMM's own request */
#define HCI_CGID_VMM ((__u64)-1)

enum hci_cg_state {
	HCI_CG_LIVE,		/* a cgroup with a path, cgpath */
	HCI_CG_NONE,		/* cgid 0: unknown */
	HCI_CG_REMOVED,		/* gone before it was named */
	HCI_CG_VMM,		/* HCI_CGID_VMM */
};

struct hci_origin {
	__u64 cgid;
	__u32 tgid;
	enum hci_cg_state cg;
	char cgpath[512];	/* relative to the io root; "" unless HCI_CG_LIVE */
	char name[HCI_ORIGIN_MAX];	/* vm:NAME, container:ID, host:PATH */
};

/* entries allocated one by one, so a pointer to one stays valid */
struct hci_entries {
	void **v;
	size_t n, cap;
};

struct hci_resolver {
	struct hci_cgroups *cg;		/* the caller's */
	const struct hci_rules *rules;	/* the caller's; may be NULL */
	bool images;			/* inspect VMMs' image files too */
	struct hci_entries origins;	/* struct hci_origin */
	struct hci_entries vmms;	/* struct hci_vmm_info, in the order first seen */
};

void hci_resolver_init(struct hci_resolver *r, struct hci_cgroups *cg,
		       const struct hci_rules *rules, bool images);
void hci_resolver_free(struct hci_resolver *r);
/* new rules (a reloaded configuration): every origin is classified again */
void hci_resolver_set_rules(struct hci_resolver *r, const struct hci_rules *rules);
/* a removed cgroup: its origins are resolved again when next asked for */
void hci_resolver_forget_cgroup(struct hci_resolver *r, __u64 cgid);

/*
 * The origin of (cgid, tgid), NULL when out of memory. It stays valid until
 * hci_resolver_set_rules, hci_resolver_forget_cgroup of its cgid, or _free.
 */
const struct hci_origin *hci_origin_lookup(struct hci_resolver *r, __u64 cgid, __u32 tgid);
/* its name, "?" when out of memory */
const char *hci_origin_of(struct hci_resolver *r, __u64 cgid, __u32 tgid);
/* a VMM's own requests: hci_origin_of(r, HCI_CGID_VMM, tgid) */
const char *hci_vm_origin(struct hci_resolver *r, __u32 tgid);

/* The VMM tgid, inspected on first sight and kept (pid = tgid); NULL if out of memory */
const struct hci_vmm_info *hci_resolver_vmm(struct hci_resolver *r, __u32 tgid);
/* its VM name, "?" when out of memory */
const char *hci_resolver_vmm_name(struct hci_resolver *r, __u32 tgid);
/* the VMMs seen so far, in the order first seen: i < hci_resolver_nvmms(r) */
static inline size_t hci_resolver_nvmms(const struct hci_resolver *r)
{
	return r->vmms.n;
}

static inline const struct hci_vmm_info *hci_resolver_vmm_at(const struct hci_resolver *r,
							     size_t i)
{
	return r->vmms.v[i];
}
#endif
