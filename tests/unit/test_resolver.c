// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for lib/host/resolver.c and procs.c: the policy for cgid 0,
 * removed cgroups and VMMs, the caches, and the /proc walk. A temporary
 * directory stands in for the io hierarchy, and a shell with "-name vmtest"
 * on its command line for a VMM.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host/procs.h"
#include "host/resolver.h"
#include "tap.h"

static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static __u64 ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u64)st.st_ino;
}

/* a process whose command line names the VM "vmtest" */
static pid_t spawn_vmm(void)
{
	char cmd[HCI_CMDLINE_MAX];
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "/bin/sh", "-c", "sleep 30; :", "-name", "vmtest", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 200; i++) {
		int n = hci_proc_cmdline(pid, cmd, sizeof(cmd));

		if (n > 0 && memmem(cmd, (size_t)n, "vmtest", 6))
			break;
		usleep(10000);
	}
	return pid;
}

/* a pid that no process has now (a child, reaped) */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

struct walk {
	pid_t want;
	bool seen;
	char comm[32];
	size_t cmdline_len;
	int calls;
};

static int walk_one(const struct hci_proc *p, void *ctx)
{
	struct walk *w = ctx;

	w->calls++;
	if (p->pid != w->want)
		return 0;
	w->seen = true;
	snprintf(w->comm, sizeof(w->comm), "%s", p->comm);
	w->cmdline_len = p->cmdline_len;
	return 42;
}

static void test_procs(const char *argv0)
{
	struct walk w = { .want = getpid() };
	char buf[64];

	is_int(hci_procs_each(HCI_PROC_COMM | HCI_PROC_CMDLINE, walk_one, &w), 42,
	       "the walk stops with the callback's value");
	ok(w.seen, "the walk sees this process");
	is_str(w.comm, "test_resolver", "with its comm, no newline");
	is_int(w.cmdline_len, strlen(argv0) + 1, "and its command line");
	ok(hci_proc_comm(gone_pid(), buf, sizeof(buf)) < 0, "a gone process has no comm");
}

static void test_policy(struct hci_resolver *r, pid_t vmm, const char *root)
{
	char docker[512], path[600];
	const struct hci_origin *o;
	pid_t gone = gone_pid();
	__u64 cgid;

	snprintf(docker, sizeof(docker), "/docker/%s", id);
	snprintf(path, sizeof(path), "%s%s", root, docker);
	cgid = ino_of(path);
	o = hci_origin_lookup(r, 0, 0);
	is_str(o->name, "host:(unknown)", "cgid 0: host:(unknown)");
	is_int(o->cg, HCI_CG_NONE, "cgid 0: no cgroup to act on");
	is_str(o->cgpath, "", "cgid 0: no path");
	o = hci_origin_lookup(r, 987654321, 0);
	is_str(o->name, "host:(removed cgroup 987654321)", "removed cgroup: named by its id");
	is_int(o->cg, HCI_CG_REMOVED, "removed cgroup: nothing to act on");
	o = hci_origin_lookup(r, cgid, 0);
	is_str(o->name, "container:0123456789ab", "a live cgroup: classified by path");
	is_int(o->cg, HCI_CG_LIVE, "a live cgroup has a path");
	is_str(o->cgpath, docker, "relative to the io root");
	ok(hci_origin_lookup(r, cgid, 0) == o, "kept: the same entry again");
	is_str(hci_vm_origin(r, (__u32)vmm), "vm:vmtest", "a VMM's own request: its VM");
	is_int(hci_origin_lookup(r, HCI_CGID_VMM, (__u32)vmm)->cg, HCI_CG_VMM, "cg is VMM");
	is_str(hci_origin_of(r, cgid, (__u32)vmm), "vm:vmtest", "a VMM wins over its cgroup");
	is_str(hci_origin_lookup(r, cgid, (__u32)vmm)->cgpath, docker, "and keeps the path");
	is_str(hci_origin_of(r, 0, (__u32)vmm), "vm:vmtest", "cgid 0 from a VMM: the VM");
	is_str(hci_origin_of(r, 987654321, (__u32)vmm), "vm:vmtest", "removed, from a VMM");
	snprintf(path, sizeof(path), "vm:%d", (int)gone);
	is_str(hci_vm_origin(r, (__u32)gone), path, "a VMM gone before it was seen: its tgid");
	is_int(hci_resolver_nvmms(r), 2, "two VMMs seen");
	is_int(hci_resolver_vmm_at(r, 0)->pid, vmm, "in the order first seen");
	is_str(hci_resolver_vmm_at(r, 0)->comm, "sh", "with their comm");
	is_str(hci_resolver_vmm_name(r, (__u32)vmm), "vmtest", "and VM name");
	kill(vmm, SIGKILL);
	waitpid(vmm, NULL, 0);
	is_str(hci_vm_origin(r, (__u32)vmm), "vm:vmtest", "an exited VM keeps its name");
}

static void test_rules(struct hci_resolver *r, const char *root)
{
	struct hci_rules rules = { 0 };
	struct hci_rule rule;
	char err[128], path[600];
	__u64 cgid;

	snprintf(path, sizeof(path), "%s/docker/%s", root, id);
	cgid = ino_of(path);
	hci_rule_parse("/docker/*=container:pinned", &rule, err, sizeof(err));
	hci_rules_add(&rules, &rule);
	hci_resolver_set_rules(r, &rules);
	is_str(hci_origin_of(r, cgid, 0), "container:pinned", "new rules: classified again");
	rmdir(path);
	is_int(hci_origin_lookup(r, cgid, 0)->cg, HCI_CG_LIVE, "kept after rmdir");
	/* the cgroup table learns of the rmdir at its next rescan (a miss) */
	ok(!hci_cgroup_path(r->cg, 1), "a miss rescans the cgroup table");
	is_int(hci_origin_lookup(r, cgid, 0)->cg, HCI_CG_LIVE, "a kept origin stays");
	hci_resolver_forget_cgroup(r, cgid);
	is_int(hci_origin_lookup(r, cgid, 0)->cg, HCI_CG_REMOVED, "forgotten: removed now");
	hci_resolver_set_rules(r, NULL);
	hci_rules_free(&rules);
}

int main(int argc, char **argv)
{
	char root[] = "/tmp/hcicgXXXXXX", path[600];
	struct hci_cgroups cg = { 0 };
	struct hci_resolver r;
	pid_t vmm;

	(void)argc;
	test_procs(argv[0]);
	if (!mkdtemp(root))
		return 1;
	snprintf(path, sizeof(path), "%s/docker", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/docker/%s", root, id);
	mkdir(path, 0755);
	snprintf(cg.root, sizeof(cg.root), "%s", root);
	vmm = spawn_vmm();
	hci_resolver_init(&r, &cg, NULL, false);
	test_policy(&r, vmm, root);
	test_rules(&r, root);
	hci_resolver_free(&r);
	/* with images: the same names, through hci_vmm_inspect */
	vmm = spawn_vmm();
	hci_resolver_init(&r, &cg, NULL, true);
	is_str(hci_vm_origin(&r, (__u32)vmm), "vm:vmtest", "images mode: the same name");
	kill(vmm, SIGKILL);
	waitpid(vmm, NULL, 0);
	hci_resolver_free(&r);
	hci_cgroups_free(&cg);
	snprintf(path, sizeof(path), "%s/docker", root);
	rmdir(path);
	rmdir(root);
	return done_testing();
}
