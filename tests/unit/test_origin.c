// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Origin classification: built-in patterns, user rules, VMM names. */
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "host/origin.h"

static const char *cls(const struct hci_rules *r, const char *path, const char *vmm)
{
	static char out[HCI_ORIGIN_MAX];

	hci_classify(r, path, vmm, out, sizeof(out));
	return out;
}

int main(void)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct hci_rules rules = {0};
	struct hci_rule r;
	char err[256], path[512], name[128], tmpl[] = "/tmp/hcirulesXXXXXX";
	FILE *f;
	int fd;

	is_str(cls(NULL, "/", NULL), "host:/", "root cgroup is host:/");
	is_str(cls(NULL, "", NULL), "host:/", "empty path is the root");
	is_str(cls(NULL, "/user.slice/user-0.slice/session-1.scope", NULL),
	       "host:/user.slice/user-0.slice/session-1.scope", "a session is host");
	is_str(cls(NULL, "/", "vm1"), "vm:vm1", "a VMM in the root cgroup is a vm");
	snprintf(path, sizeof(path), "/docker/%s", id);
	is_str(cls(NULL, path, NULL), "container:0123456789ab", "cgroupfs docker");
	snprintf(path, sizeof(path), "/system.slice/docker-%s.scope", id);
	is_str(cls(NULL, path, NULL), "container:0123456789ab", "systemd docker scope");
	snprintf(path, sizeof(path),
		 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_ab.slice/cri-containerd-%s.scope", id);
	is_str(cls(NULL, path, NULL), "container:0123456789ab", "kubepods container");
	is_str(cls(NULL, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podabc_de.slice", NULL),
	       "container:podabc_de", "kubepods pod-level cgroup");
	snprintf(path, sizeof(path), "/kubepods/burstable/pod42/%s", id);
	is_str(cls(NULL, path, NULL), "container:0123456789ab", "kubepods cgroupfs driver");
	snprintf(path, sizeof(path), "/machine.slice/libpod-%s.scope", id);
	is_str(cls(NULL, path, NULL), "container:0123456789ab", "podman libpod scope");
	snprintf(path, sizeof(path), "/system.slice/crio-%s.scope", id);
	is_str(cls(NULL, path, NULL), "container:0123456789ab", "cri-o scope");
	snprintf(path, sizeof(path), "/containerd/%s", id);
	is_str(cls(NULL, path, NULL), "container:0123456789ab", "containerd");
	is_str(cls(NULL, "/lxc/web1", NULL), "container:web1", "lxc cgroupfs");
	is_str(cls(NULL, "/lxc.payload.db2", NULL), "container:db2", "lxc payload");
	is_str(cls(NULL, "/machine.slice/machine-qemu\\x2d3\\x2dguest\\x2done.scope", NULL),
	       "vm:guest-one", "libvirt scope -> vm:<name>, unescaped");
	is_str(cls(NULL, "/machine.slice/machine-nspawnbox.scope", NULL),
	       "container:nspawnbox", "systemd-nspawn machine -> container");
	is_str(cls(NULL, "/system.slice/ssh.service", NULL), "host:/system.slice/ssh.service",
	       "a service is host");
	is_str(cls(NULL, "/docker", NULL), "host:/docker", "the docker parent itself is host");

	ok(hci_rule_parse("/tenants/*=container", &r, err, sizeof(err)) == 0, "rule without name");
	hci_rules_add(&rules, &r);
	ok(hci_rule_parse("/vms/*=vm:fleet", &r, err, sizeof(err)) == 0, "rule with name");
	hci_rules_add(&rules, &r);
	is_str(cls(&rules, "/tenants/acme", NULL), "container:acme", "rule name defaults to the last component");
	is_str(cls(&rules, "/vms/a", NULL), "vm:fleet", "rule with a fixed name");
	is_str(cls(&rules, "/other", NULL), "host:/other", "no rule matches: built-ins");
	is_str(cls(&rules, "/tenants/acme", "q"), "container:acme", "rules come before the VMM test");
	ok(hci_rule_parse("nonsense", &r, err, sizeof(err)) != 0, "rule without '=' is refused");
	ok(hci_rule_parse("/x=pets", &r, err, sizeof(err)) != 0 && strstr(err, "unknown class"),
	   "unknown class is refused: %s", err);
	ok(hci_rule_parse("/x=vm:", &r, err, sizeof(err)) != 0, "empty name is refused");
	ok(hci_rule_parse("=vm", &r, err, sizeof(err)) != 0, "empty pattern is refused");
	hci_rules_free(&rules);

	/* issue 11: spaces and tabs on either side of '=' (and ':') are layout */
	{
		static const char *const spaced[] = {
			"/tenants/*           = container", "/tenants/* =container",
			"/tenants/*= container", "/tenants/*\t=\tcontainer",
			" \t/tenants/* \t = \t container \t",
		};

		for (size_t i = 0; i < sizeof(spaced) / sizeof(spaced[0]); i++) {
			err[0] = '\0';
			ok(hci_rule_parse(spaced[i], &r, err, sizeof(err)) == 0 &&
			   !strcmp(r.pattern, "/tenants/*") && !strcmp(r.cls, "container") &&
			   !r.name[0], "rule '%s' is /tenants/* = container (%s)", spaced[i],
			   err);
			hci_rules_add(&rules, &r);
			is_str(cls(&rules, "/tenants/acme", NULL), "container:acme",
			       "and it matches /tenants/acme");
			hci_rules_free(&rules);
		}
	}
	ok(hci_rule_parse("/hcit-ct =container:db", &r, err, sizeof(err)) == 0 &&
	   !strcmp(r.pattern, "/hcit-ct"), "a space before '=' is not part of the pattern");
	hci_rules_add(&rules, &r);
	is_str(cls(&rules, "/hcit-ct", NULL), "container:db", "so /hcit-ct matches");
	hci_rules_free(&rules);
	ok(hci_rule_parse("/x\t= \tvm \t: \tfleet one\t", &r, err, sizeof(err)) == 0 &&
	   !strcmp(r.cls, "vm") && !strcmp(r.name, "fleet one"),
	   "spaces around ':' are trimmed, spaces inside a name kept ('%s')", r.name);
	ok(hci_rule_parse("  \t= vm", &r, err, sizeof(err)) != 0, "a blank pattern is refused");
	ok(hci_rule_parse("/x =  ", &r, err, sizeof(err)) != 0 && strstr(err, "class must be"),
	   "a blank class is refused: %s", err);
	ok(hci_rule_parse("/x = vm :  ", &r, err, sizeof(err)) != 0, "a blank name is refused");
	ok(hci_rule_parse("/x = v m", &r, err, sizeof(err)) != 0 && strstr(err, "'v m'"),
	   "spaces inside a class are not trimmed away: %s", err);

	fd = mkstemp(tmpl);
	f = fdopen(fd, "w");
	fputs("# comment\n\n/a/*=vm  # trailing comment\n  /b=host:bee  \n"
	      "/tenants/*           = container\n/d\t=\thost : dee # aligned\n/c=oops\n", f);
	fclose(f);
	ok(hci_rules_load(tmpl, &rules, err, sizeof(err)) != 0, "bad rules file fails");
	snprintf(path, sizeof(path), "%s:7:", tmpl);
	ok(strstr(err, path) != NULL, "error names file:line (%s)", err);
	is_int(rules.n, 4, "rules before the bad line were read, the spaced ones too");
	is_str(rules.v[1].name, "bee", "whitespace around a rule is trimmed");
	is_str(cls(&rules, "/tenants/t1", NULL), "container:t1",
	       "the documented '/tenants/*           = container' line matches");
	is_str(cls(&rules, "/d", NULL), "host:dee", "a tab-aligned line matches");
	hci_rules_free(&rules);
	unlink(tmpl);

	{
		static const char c1[] = "qemu-system-x86_64\0-name\0guest=win10,debug-threads=on\0-m\0";
		static const char c2[] = "qemu-system-x86_64\0-name\0plain\0";
		static const char c3[] = "qemu-system-x86_64\0-name\0ubuntu,process=qemu:ubuntu\0";
		static const char c4[] = "firecracker\0--id\0fc-7\0";
		static const char c5[] = "qemu-system-x86_64\0-m\0512\0";
		static const char c6[] = "qemu-system-x86_64\0-name\0";

		ok(!hci_vmm_name_from_cmdline(c1, sizeof(c1), name, sizeof(name)) && !strcmp(name, "win10"),
		   "libvirt-style -name guest=NAME,...");
		ok(!hci_vmm_name_from_cmdline(c2, sizeof(c2), name, sizeof(name)) && !strcmp(name, "plain"),
		   "-name NAME");
		ok(!hci_vmm_name_from_cmdline(c3, sizeof(c3), name, sizeof(name)) && !strcmp(name, "ubuntu"),
		   "-name NAME,process=...");
		ok(!hci_vmm_name_from_cmdline(c4, sizeof(c4), name, sizeof(name)) && !strcmp(name, "fc-7"),
		   "firecracker --id");
		ok(hci_vmm_name_from_cmdline(c5, sizeof(c5), name, sizeof(name)) != 0, "no -name");
		ok(hci_vmm_name_from_cmdline(c6, sizeof(c6), name, sizeof(name)) != 0,
		   "-name at the end without a value");
	}

	ok(hci_origin_matches("vm:a", "vm"), "class filter matches");
	ok(!hci_origin_matches("vmx:a", "vm"), "class filter needs the colon");
	ok(hci_origin_matches("container:abc", "container:abc"), "class:name filter matches");
	ok(!hci_origin_matches("container:abcd", "container:abc"), "class:name is exact");
	ok(hci_origin_filter_valid("host"), "host is a valid filter");
	ok(!hci_origin_filter_valid("hosts"), "hosts is not");
	ok(!hci_origin_filter_valid(""), "empty is not");
	return done_testing();
}
