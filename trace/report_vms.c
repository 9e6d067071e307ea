// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace report: the VMMs of a recorded run. The live run writes each
 * VMM it saw, and its open images with their first extents, at the end;
 * report reads them first, so that a VMM request's -p line names its
 * image and sector as the live one did (host/vmm.h's lookups, on the
 * recorded images), and the summary lists the VMs.
 */
#include <stdlib.h>
#include <string.h>
#include "record_read.h"
#include "report_vms.h"

static struct hci_vmm_info *add_vm(struct rvms *vms, const struct hci_rec *rec)
{
	struct hci_vmm_info **v = realloc(vms->v, (vms->n + 1) * sizeof(*v)), *vi;

	if (!v)
		return NULL;
	vms->v = v;
	vi = calloc(1, sizeof(*vi));
	if (!vi)
		return NULL;
	vi->pid = (pid_t)rec->vm.pid;
	vi->more_images = rec->vm.more_images;
	snprintf(vi->comm, sizeof(vi->comm), "%s", rec->vm.comm);
	snprintf(vi->name, sizeof(vi->name), "%s", rec->vm.name);
	snprintf(vi->drives, sizeof(vi->drives), "%s", rec->vm.drives);
	v[vms->n++] = vi;
	return vi;
}

/* An image of the VM before it (images follow their VM) */
static void add_image(struct hci_vmm_info *vi, const struct hci_rec *rec)
{
	struct hci_image *im;
	size_t nmap = rec->image.nmap;

	if (!vi || (__u32)vi->pid != rec->image.pid)
		return;
	if (vi->nimages == (int)(sizeof(vi->images) / sizeof(vi->images[0]))) {
		vi->more_images = true;
		return;
	}
	im = &vi->images[vi->nimages++];
	im->fd = rec->image.fd;
	snprintf(im->path, sizeof(im->path), "%s", rec->image.path);
	im->dev = rec->image.dev;
	im->ino = rec->image.ino;
	im->size = rec->image.size;
	im->blockdev = rec->image.blockdev;
	im->extents = rec->image.extents;
	if (nmap > HCI_IMAGE_EXTENTS)
		nmap = HCI_IMAGE_EXTENTS;
	im->nmap = (int)nmap;
	memcpy(im->map, rec->image.map, nmap * sizeof(im->map[0]));
}

void rvms_load(struct rvms *vms, const char *path)
{
	struct hci_vmm_info *last = NULL;
	struct hci_rec_reader *rd;
	struct hci_rec rec;
	char err[256];

	memset(vms, 0, sizeof(*vms));
	if (!strcmp(path, "-") || hci_rec_open(path, &rd, err, sizeof(err)))
		return;	/* stdin is read once: no VM names then */
	while (hci_rec_next(rd, &rec, err, sizeof(err)) > 0) {
		if (rec.type == HCI_REC_VM)
			last = add_vm(vms, &rec);
		else if (rec.type == HCI_REC_IMAGE)
			add_image(last, &rec);
	}
	hci_rec_close(rd);
}

const struct hci_vmm_info *rvms_find(const struct rvms *vms, __u32 pid)
{
	for (size_t i = 0; i < vms->n; i++)
		if ((__u32)vms->v[i]->pid == pid)
			return vms->v[i];
	return NULL;
}

void rvms_print(FILE *f, const struct rvms *vms)
{
	if (vms->n)
		fprintf(f, "\nVMs:\n");
	for (size_t i = 0; i < vms->n; i++)
		hci_vmm_print(f, vms->v[i]);
}

void rvms_free(struct rvms *vms)
{
	for (size_t i = 0; i < vms->n; i++)
		free(vms->v[i]);
	free(vms->v);
	memset(vms, 0, sizeof(*vms));
}
