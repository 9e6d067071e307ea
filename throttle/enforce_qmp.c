// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The QMP backend: a VM capped in QEMU's own throttling of a drive
 * (block_set_io_throttle), its original limits saved first like a cgroup's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "qmp.h"
#include "enforce_saved.h"

/* A direction's ceiling from a drive's own limits: its own, else the total. */
static double own_ceiling(const struct hci_qmp_throttle *o, int dir, int total)
{
	return o->v[dir] > 0 ? o->v[dir] : o->v[total];
}

int hci_enf_set_qmp(struct hci_enforcer *e, const char *sock, const char *drive,
		    const struct hci_limit *l, struct hci_limit *written, char *err,
		    size_t errlen)
{
	struct hci_saved *s = enf_find_saved(e, sock, 0, drive);
	struct hci_qmp_throttle own, t;
	int rc;

	if (strchr(sock, '\t') || strchr(sock, '\n') || strchr(drive, '\t') ||
	    strchr(drive, '\n')) {
		snprintf(err, errlen, "refusing QMP socket '%s' drive '%s'", sock, drive);
		return -EPERM;
	}
	e->writes++;
	if (e->dry_run)
		return 0;
	if (!s) {
		/* the drive's own throttling, saved before the first change */
		rc = hci_qmp_get(sock, drive, &own, err, errlen);
		if (rc)
			return rc;
		if (strchr(own.group, '\t') || strchr(own.group, '\n')) {
			snprintf(err, errlen, "QMP %s: refusing drive '%s' in throttle group '%s'",
				 sock, drive, own.group);
			return -EPERM;
		}
		s = enf_new_saved(e);
		if (!s)
			return -ENOMEM;
		memset(s, 0, sizeof(*s));
		snprintf(s->kind, sizeof(s->kind), "qmp");
		snprintf(s->cgdir, sizeof(s->cgdir), "%s", sock);
		snprintf(s->file, sizeof(s->file), "%s", drive);
		hci_qmp_format(&own, s->orig, sizeof(s->orig));
		rc = enf_save_state(e, err, errlen);
		if (rc)
			return rc;
	} else if (hci_qmp_parse(s->orig, &own)) {
		snprintf(err, errlen, "bad saved limits for %s", drive);
		return -EINVAL;
	}
	if (!(l->riops > 0) && !(l->wiops > 0) && !(l->rbps > 0) && !(l->wbps > 0)) {
		t = own;	/* no cap: the drive's own limits, exactly */
	} else {
		memset(&t, 0, sizeof(t));
		snprintf(t.group, sizeof(t.group), "%s", own.group);
		t.v[HCI_QMP_IOPS_RD] = enf_capped(l->riops,
						  own_ceiling(&own, HCI_QMP_IOPS_RD, HCI_QMP_IOPS));
		t.v[HCI_QMP_IOPS_WR] = enf_capped(l->wiops,
						  own_ceiling(&own, HCI_QMP_IOPS_WR, HCI_QMP_IOPS));
		t.v[HCI_QMP_BPS_RD] = enf_capped(l->rbps,
						  own_ceiling(&own, HCI_QMP_BPS_RD, HCI_QMP_BPS));
		t.v[HCI_QMP_BPS_WR] = enf_capped(l->wbps,
						  own_ceiling(&own, HCI_QMP_BPS_WR, HCI_QMP_BPS));
		t.v[HCI_QMP_IOPS_SIZE] = own.v[HCI_QMP_IOPS_SIZE];
	}
	rc = hci_qmp_set(sock, drive, &t, err, errlen);
	if (!rc && written)
		*written = (struct hci_limit){
			.riops = own_ceiling(&t, HCI_QMP_IOPS_RD, HCI_QMP_IOPS),
			.wiops = own_ceiling(&t, HCI_QMP_IOPS_WR, HCI_QMP_IOPS),
			.rbps = own_ceiling(&t, HCI_QMP_BPS_RD, HCI_QMP_BPS),
			.wbps = own_ceiling(&t, HCI_QMP_BPS_WR, HCI_QMP_BPS),
		};
	return rc;
}

