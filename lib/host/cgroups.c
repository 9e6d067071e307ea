// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Cgroup ids <-> paths on the hierarchy that has the io controller. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/vec.h"
#include "cgroups.h"

int hci_cgroups_init(struct hci_cgroups *cg, char *err, size_t errlen)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	char v2[256] = "";

	memset(cg, 0, sizeof(*cg));
	if (!f) {
		snprintf(err, errlen, "cannot read /proc/self/mounts: %s", strerror(errno));
		return -errno;
	}
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup") && hasmntopt(m, "blkio")) {
			snprintf(cg->root, sizeof(cg->root), "%s", m->mnt_dir);
			cg->v1 = 1;
			break;
		}
		if (!strcmp(m->mnt_type, "cgroup2") && !v2[0])
			snprintf(v2, sizeof(v2), "%s", m->mnt_dir);
	}
	endmntent(f);
	if (!cg->v1)
		snprintf(cg->root, sizeof(cg->root), "%s", v2);
	if (!cg->root[0]) {
		snprintf(err, errlen, "no cgroup blkio (v1) or cgroup2 mount found");
		return -ENOENT;
	}
	return 0;
}

static void clear(struct hci_cgroups *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		free(cg->ents[i].path);
	cg->n = 0;
}

void hci_cgroups_free(struct hci_cgroups *cg)
{
	clear(cg);
	free(cg->ents);
	cg->ents = NULL;
	cg->cap = 0;
}

static int add(struct hci_cgroups *cg, __u64 id, const char *path)
{
	struct hci_cg_ent *e = hci_vec_grow(cg->ents, &cg->cap, cg->n, sizeof(*e), 64);

	if (!e)
		return -ENOMEM;
	cg->ents = e;
	cg->ents[cg->n].path = strdup(path);
	if (!cg->ents[cg->n].path)
		return -ENOMEM;
	cg->ents[cg->n++].id = id;
	return 0;
}

/* Depth-first walk; rel is the path relative to the root. */
static void scan(struct hci_cgroups *cg, const char *rel, int depth)
{
	char abs[PATH_MAX], child[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dir;

	snprintf(abs, sizeof(abs), "%s%s", cg->root, rel);
	if (stat(abs, &st) || add(cg, st.st_ino, rel[0] ? rel : "/"))
		return;
	if (depth > 32 || !(dir = opendir(abs)))
		return;
	while ((d = readdir(dir))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", rel, d->d_name) >=
		    sizeof(child))
			continue;
		scan(cg, child, depth + 1);
	}
	closedir(dir);
}

const char *hci_cgroup_path(struct hci_cgroups *cg, __u64 id)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < cg->n; i++)
			if (cg->ents[i].id == id)
				return cg->ents[i].path;
		if (pass == 0) {
			clear(cg);
			scan(cg, "", 0);
		}
	}
	return NULL;
}

int hci_cgroup_id(struct hci_cgroups *cg, const char *spec, __u64 *id,
		  char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	size_t rl = strlen(cg->root);

	if (!strncmp(spec, cg->root, rl) && (spec[rl] == '/' || !spec[rl]))
		snprintf(path, sizeof(path), "%s", spec);
	else
		snprintf(path, sizeof(path), "%s/%s", cg->root, spec[0] == '/' ? spec + 1 : spec);
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "no such cgroup '%s' (looked for %s)", spec, path);
		return -ENOENT;
	}
	*id = st.st_ino;
	return 0;
}
