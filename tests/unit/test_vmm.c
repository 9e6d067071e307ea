// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * VMM discovery: drive options, VMM names, inspecting a live process, and
 * --vm NAME under wrappers (issue 11, item 14), with real wrapper commands
 * around a fake VMM: this binary, copied to a VMM's name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "host/vmm.h"

static char dir[] = "/tmp/hcivmXXXXXX";

/* "-name NAME PIDFILE": a VMM that says it runs, then waits (60 s at most) */
static int fake_vmm(char **argv)
{
	char tmp[PATH_MAX];
	FILE *f;

	alarm(60);
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[3]);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", getpid());
	fclose(f);
	rename(tmp, argv[3]);
	pause();
	return 0;
}

struct launch {
	pid_t sh;	/* the shell that exec'd the wrapper, its process group */
	pid_t vmm;	/* the fake VMM, from its pid file; 0 if it never ran */
};

static bool have(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "command -v %s >/dev/null 2>&1", cmd);
	return system(buf) == 0;
}

/* run "WRAPPER... VMM -name NAME PIDFILE" and wait for the VMM to start */
static struct launch launch(const char *wrapper, const char *vmm, const char *name,
			    const char *tag)
{
	struct launch l = { 0, 0 };
	char pidfile[PATH_MAX], cmd[PATH_MAX * 2];
	FILE *f;

	snprintf(pidfile, sizeof(pidfile), "%s/%s%s.pid", dir, name, tag);
	unlink(pidfile);	/* a VMM of that name that ran before */
	snprintf(cmd, sizeof(cmd), "exec %s \"$0\" -name \"$1\" \"$2\" </dev/null >/dev/null 2>&1",
		 wrapper);
	l.sh = fork();
	if (l.sh == 0) {
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[512];

		/* stdbuf preloads its library before this binary's ASan runtime */
		snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "",
			 asan ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, vmm, name, pidfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !l.vmm; i++) {	/* 10 s: strace is slow */
		struct timespec ts = { 0, 50000000 };

		f = fopen(pidfile, "r");
		if (f) {
			if (fscanf(f, "%d", &l.vmm) != 1)
				l.vmm = 0;
			fclose(f);
		}
		if (!l.vmm)
			nanosleep(&ts, NULL);
	}
	return l;
}

static void reap(struct launch *l)
{
	if (l->vmm > 0)
		kill(l->vmm, SIGKILL);
	if (l->sh > 0) {
		kill(-l->sh, SIGKILL);
		waitpid(l->sh, NULL, 0);
	}
}

/* how many processes carry "-name NAME": more than one means a wrapper forked */
static int carriers(const char *name)
{
	char path[300], cmd[8192];
	struct dirent *d;
	DIR *proc = opendir("/proc");
	int n = 0;

	while (proc && (d = readdir(proc))) {
		ssize_t len;
		int fd;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", d->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		for (ssize_t i = 0; len > 0 && i < len; i += (ssize_t)strlen(cmd + i) + 1) {
			cmd[len] = '\0';
			if (!strcmp(cmd + i, "-name") && i + 6 < len && !strcmp(cmd + i + 6, name)) {
				n++;
				break;
			}
		}
	}
	if (proc)
		closedir(proc);
	return n;
}

/* --vm NAME under each kind of wrapper resolves to the VMM itself */
static void wrappers(const char *self)
{
	static const char *const kinds[] = {
		/* fork and wait: the wrapper keeps the VMM's command line */
		"timeout 30", "flock %s/lock", "strace -f -qq -o /dev/null", "setsid -w",
		"unshare -f", "sudo", "sudo timeout 30", "timeout 30 sudo",
		"timeout 30 timeout 20", "flock %s/lock strace -f -qq -o /dev/null",
		/* exec: no second process, nothing to confuse */
		"nohup", "env", "env FOO=1", "nice -n 5", "setsid", "taskset -c 0",
		"chrt -o 0", "ionice -c 3", "stdbuf -oL", "prlimit --nofile=256",
	};
	char vmm[256], wrapper[512], name[64], err[512], cmd[PATH_MAX + 1024];

	snprintf(vmm, sizeof(vmm), "%s/qemu-system-x86_64", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", self, vmm);
	ok(system(cmd) == 0, "a fake VMM named qemu-system-x86_64");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char tool[32];
		struct launch l;
		__u32 tgid = 0;
		int rc, n;

		sscanf(kinds[i], "%31s", tool);
		if ((strstr(kinds[i], "sudo") && !have("sudo")) || !have(tool)) {
			ok(1, "# SKIP %s is not installed", strstr(kinds[i], "sudo") ? "sudo" : tool);
			continue;
		}
		snprintf(wrapper, sizeof(wrapper), kinds[i], dir);
		/* not root, no ptrace in a container: the wrapper cannot run here */
		snprintf(cmd, sizeof(cmd), "%s true </dev/null >/dev/null 2>&1", wrapper);
		if (system(cmd)) {
			ok(1, "# SKIP '%s true' fails here", wrapper);
			continue;
		}
		snprintf(name, sizeof(name), "hcivm-%d-%zu", getpid(), i);
		l = launch(wrapper, vmm, name, "");
		n = carriers(name);
		err[0] = '\0';
		rc = hci_vmm_resolve(name, &tgid, err, sizeof(err));
		ok(l.vmm > 0 && rc == 0 && tgid == (__u32)l.vmm,
		   "'%s qemu-system-x86_64 -name ...' (%d processes carry the name): pid %u, "
		   "the VMM is %d %s", wrapper, n, tgid, l.vmm, err);
		reap(&l);
	}
}

/* resolve NAME; 0 when it gave @want, else the error in err */
static int resolve(const char *name, pid_t want, char *err, size_t errlen)
{
	__u32 tgid = 0;
	int rc;

	err[0] = '\0';
	rc = hci_vmm_resolve(name, &tgid, err, errlen);
	if (!rc && tgid != (__u32)want)
		snprintf(err, errlen, "resolved to pid %u, want %d", tgid, want);
	return rc ? rc : tgid == (__u32)want ? 0 : -1;
}

/* a VMM hcikit does not know by name, a renamed comm, and ambiguity */
static void others(const char *self)
{
	char vmm[256], other[256], renamed[256], name[64], err[512];
	char cmd[PATH_MAX + 1024], comm[32] = "";
	struct launch a, b;
	FILE *f;
	pid_t sh;

	snprintf(vmm, sizeof(vmm), "%s/qemu-system-x86_64", dir);
	snprintf(other, sizeof(other), "%s/myvmm", dir);
	snprintf(renamed, sizeof(renamed), "%s/vmm-renamed", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && ln -s qemu-system-x86_64 '%s'", self, other,
		 renamed);
	ok(system(cmd) == 0, "an unknown VMM (myvmm), and a link that renames the comm");

	snprintf(name, sizeof(name), "hcivm-%d-unknown", getpid());
	a = launch("env", other, name, "");
	ok(a.vmm > 0 && !resolve(name, a.vmm, err, sizeof(err)),
	   "an unknown VMM alone is still found by name %s", err);
	reap(&a);
	a = launch("timeout 30", other, name, "");
	ok(a.vmm > 0 && !resolve(name, a.vmm, err, sizeof(err)),
	   "an unknown VMM under timeout: the one its wrapper is an ancestor of %s", err);
	reap(&a);

	snprintf(name, sizeof(name), "hcivm-%d-renamed", getpid());
	a = launch("timeout 30", renamed, name, "");
	snprintf(cmd, sizeof(cmd), "/proc/%d/comm", a.vmm);
	f = fopen(cmd, "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	ok(a.vmm > 0 && !strcmp(comm, "vmm-renamed\n") && !resolve(name, a.vmm, err, sizeof(err)),
	   "a VMM whose comm is not a VMM's is known by its binary %s", err);
	reap(&a);
	/*
	 * ... even when that binary was replaced on disk (an upgrade), beside
	 * a process of the same name that is not a VMM and not its wrapper
	 */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/firecracker' && ln -s firecracker '%s/fc-renamed'",
		 self, dir, dir);
	ok(system(cmd) == 0, "a VMM binary to delete");
	snprintf(cmd, sizeof(cmd), "%s/fc-renamed", dir);
	a = launch("timeout 30", cmd, name, "fc");
	b = launch("", other, name, "other");
	snprintf(cmd, sizeof(cmd), "%s/firecracker", dir);
	unlink(cmd);
	ok(a.vmm > 0 && b.vmm > 0 && !resolve(name, a.vmm, err, sizeof(err)),
	   "a VMM whose binary is '(deleted)' is still known by it %s", err);
	reap(&a);
	reap(&b);

	snprintf(name, sizeof(name), "hcivm-%d-twice", getpid());
	a = launch("timeout 30", vmm, name, "a");
	b = launch("timeout 30", vmm, name, "b");
	ok(resolve(name, 0, err, sizeof(err)) == -EEXIST && strstr(err, "2 VMMs are named"),
	   "two VMMs of one name: give the pid (%s)", err);
	reap(&a);
	reap(&b);
	a = launch("", other, name, "a");
	b = launch("", other, name, "b");
	ok(resolve(name, 0, err, sizeof(err)) == -EEXIST && strstr(err, "none is a VMM"),
	   "two unknown processes of one name: give the pid (%s)", err);
	reap(&a);
	reap(&b);

	/* a wrapper that has not exec'd the VMM yet is not the VMM */
	snprintf(name, sizeof(name), "hcivm-%d-early", getpid());
	sh = fork();
	if (sh == 0) {
		setpgid(0, 0);
		execlp("timeout", "timeout", "30", "sh", "-c", "sleep 30", vmm, "-name", name,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && carriers(name) < 1; i++)
		usleep(50000);
	ok(resolve(name, 0, err, sizeof(err)) == -ESRCH && strstr(err, "only what starts one"),
	   "only a launcher of the VMM runs: not running yet (%s)", err);
	kill(-sh, SIGKILL);
	waitpid(sh, NULL, 0);

	ok(resolve("hcivm-nobody", 0, err, sizeof(err)) == -ESRCH && strstr(err, "no VM named"),
	   "no such VM: %s", err);
	ok(!resolve("1", 1, err, sizeof(err)), "a pid is taken as it is");
	ok(resolve("2147483647", 0, err, sizeof(err)) == -ESRCH, "a pid nobody has: %s", err);
}

int main(int argc, char **argv)
{
	static const char c1[] = "qemu-system-x86_64\0-drive\0file=/img/a.raw,if=none,id=d0,format=raw\0"
				 "-blockdev\0driver=file,node-name=f1,filename=x,file=/img/b.qcow2\0-m\0512\0";
	static const char c2[] = "qemu-system-x86_64\0-drive\0if=none,file=/img/c.raw,cache=none\0";
	static const char c3[] = "qemu-system-x86_64\0-drive\0if=none,snapshot.file=/no\0";
	char out[256], path[] = "/tmp/hcivmmXXXXXX", buf[8192] = {0};
	struct hci_vmm_info *vi;
	char self[PATH_MAX], cmd[PATH_MAX + 16];
	int fd, found = 0;
	ssize_t sl;

	if (argc == 4 && !strcmp(argv[1], "-name"))
		return fake_vmm(argv);
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sl > 0 ? sl : 0] = '\0';
	vi = calloc(1, sizeof(*vi));

	hci_vmm_drives(c1, sizeof(c1), out, sizeof(out));
	is_str(out, "/img/a.raw,/img/b.qcow2", "-drive and -blockdev file= values");
	hci_vmm_drives(c2, sizeof(c2), out, sizeof(out));
	is_str(out, "/img/c.raw", "file= after other options");
	hci_vmm_drives(c3, sizeof(c3), out, sizeof(out));
	is_str(out, "/no", "a dotted file= key (snapshot.file) is still a file");

	ok(hci_is_vmm_comm("qemu-system-x86"), "qemu-system-* is a VMM");
	ok(hci_is_vmm_comm("firecracker"), "firecracker is a VMM");
	ok(hci_is_vmm_comm("cloud-hyperviso"), "cloud-hypervisor (comm is cut at 15) is a VMM");
	ok(hci_is_vmm_comm("crosvm"), "crosvm is a VMM");
	ok(!hci_is_vmm_comm("qemu-img"), "qemu-img is not");
	ok(!hci_is_vmm_comm("fio"), "fio is not");

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, buf, sizeof(buf)) == sizeof(buf) && !fsync(fd), "an open image");
	ok(vi && hci_vmm_inspect(getpid(), vi) == 0, "inspect a live process");
	for (int i = 0; vi && i < vi->nimages; i++) {
		if (!strcmp(vi->images[i].path, path)) {
			found = 1;
			is_int(vi->images[i].fd, fd, "its fd");
			is_int(vi->images[i].size, sizeof(buf), "its size");
			ok(vi->images[i].extents >= 1 || vi->images[i].extents == -1,
			   "extents from FIEMAP (or unknown where the fs has none)");
			if (vi->images[i].extents >= 1) {
				__u64 sec;

				ok(vi->images[i].nmap >= 1, "the extent map is kept (%d)",
				   vi->images[i].nmap);
				ok(!hci_image_sector(&vi->images[i], 0, &sec), "offset 0 maps to a sector");
			}
		}
	}
	ok(found, "the open file is listed as an image");
	ok(vi && vi->name[0], "a process without -name is named by its pid (%s)", vi ? vi->name : "");
	ok(hci_vmm_inspect(0x7ffffff0, vi) != 0, "a vanished process is an error");

	{
		struct hci_image *im = calloc(1, sizeof(*im));
		__u64 sec = 0;

		im->map[0] = (struct hci_extent){ 0, 1 << 20, 64 << 10 };	   /* 64K at 1M */
		im->map[1] = (struct hci_extent){ 128 << 10, 8 << 20, 4 << 10 }; /* 4K at 8M */
		im->nmap = 2;
		ok(!hci_image_sector(im, 4096, &sec) && sec == ((1 << 20) + 4096) / 512,
		   "offset in the first extent -> its sector");
		ok(!hci_image_sector(im, (128 << 10) + 512, &sec) && sec == ((8 << 20) + 512) / 512,
		   "offset in a later extent");
		ok(hci_image_sector(im, 64 << 10, &sec) != 0, "a hole is not mapped");
		ok(hci_image_sector(im, 1 << 30, &sec) != 0, "beyond the extents is not mapped");
		im->blockdev = true;
		ok(!hci_image_sector(im, 1 << 20, &sec) && sec == 2048, "a block device maps 1:1");
		ok(hci_vmm_image(vi, 1, 2) == NULL, "an unknown (disk, inode) has no image");
		free(im);
	}
	close(fd);
	unlink(path);
	free(vi);

	if (!mkdtemp(dir)) {
		ok(0, "a temporary directory");
		return done_testing();
	}
	wrappers(self);
	others(self);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ok(system(cmd) == 0, "clean up");
	return done_testing();
}
