// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Origin classification. A cgroup path plus "is the submitter a VMM" becomes
 * vm:<name>, container:<id or name> or host:<cgroup path>. Kept free of I/O
 * (except hci_rules_load) so that unit tests can pin every pattern.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/vec.h"
#include "origin.h"

static bool valid_class(const char *c)
{
	return !strcmp(c, "vm") || !strcmp(c, "container") || !strcmp(c, "host");
}

static void trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (*p && isspace((unsigned char)*p))
		p++;
	memmove(s, p, strlen(p) + 1);
}

/* Copy [s, s+n) into out without the spaces and tabs around it. */
static int copy_trimmed(const char *s, size_t n, char *out, size_t outlen)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/*
 * Spaces and tabs around '=' and ':' are layout, as in the aligned rules
 * files docs/hcitrace.md shows ("PATTERN    = CLASS"): a pattern that kept
 * its trailing space would never match a cgroup path, and a class that kept
 * its leading one would be refused.
 */
int hci_rule_parse(const char *spec, struct hci_rule *r, char *err, size_t errlen)
{
	const char *eq = strrchr(spec, '=');
	const char *colon;
	size_t clen;

	memset(r, 0, sizeof(*r));
	if (eq && copy_trimmed(spec, (size_t)(eq - spec), r->pattern, sizeof(r->pattern))) {
		snprintf(err, errlen, "rule pattern longer than %zu bytes",
			 sizeof(r->pattern) - 1);
		return -EINVAL;
	}
	if (!eq || !r->pattern[0]) {
		snprintf(err, errlen, "rule '%s' is not PATTERN=CLASS[:NAME]", spec);
		return -EINVAL;
	}
	eq++;
	colon = strchr(eq, ':');
	clen = colon ? (size_t)(colon - eq) : strlen(eq);
	if (copy_trimmed(eq, clen, r->cls, sizeof(r->cls)) || !r->cls[0]) {
		snprintf(err, errlen, "rule '%s': class must be vm, container or host", spec);
		return -EINVAL;
	}
	if (!valid_class(r->cls)) {
		snprintf(err, errlen, "rule '%s': unknown class '%s' (use vm, container or host)",
			 spec, r->cls);
		return -EINVAL;
	}
	if (colon && (copy_trimmed(colon + 1, strlen(colon + 1), r->name, sizeof(r->name)) ||
		      !r->name[0])) {
		snprintf(err, errlen, "rule '%s': empty or too long name", spec);
		return -EINVAL;
	}
	return 0;
}

int hci_rules_add(struct hci_rules *rules, const struct hci_rule *r)
{
	struct hci_rule *v = hci_vec_grow(rules->v, &rules->cap, rules->n, sizeof(*v), 8);

	if (!v)
		return -ENOMEM;
	rules->v = v;
	rules->v[rules->n++] = *r;
	return 0;
}

int hci_rules_load(const char *path, struct hci_rules *rules, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024], msg[512];
	struct hci_rule r;
	int lineno = 0, ret = 0;

	if (!f) {
		snprintf(err, errlen, "cannot open rules file '%s': %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %zu bytes",
				 path, lineno, sizeof(line) - 2);
			ret = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		trim(line);
		if (!line[0])
			continue;
		ret = hci_rule_parse(line, &r, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			break;
		}
		ret = hci_rules_add(rules, &r);
		if (ret) {
			snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
			break;
		}
	}
	fclose(f);
	return ret;
}

void hci_rules_free(struct hci_rules *rules)
{
	free(rules->v);
	memset(rules, 0, sizeof(*rules));
}

static const char *last_component(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* systemd escapes '-' in unit names as "\x2d"; undo \xHH escapes. */
static void unescape(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		if (in[i] == '\\' && i + 3 < len && in[i + 1] == 'x' &&
		    isxdigit((unsigned char)in[i + 2]) &&
		    isxdigit((unsigned char)in[i + 3])) {
			char hex[3] = { in[i + 2], in[i + 3], 0 };

			out[o++] = (char)strtol(hex, NULL, 16);
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

static bool is_hex_id(const char *s, size_t n)
{
	if (n < 12)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * A container id from one cgroup path component: "docker-<id>.scope",
 * "cri-containerd-<id>.scope", "crio-<id>.scope", "libpod-<id>.scope", or a
 * bare 64-hex id. Ids are shortened to 12 characters, as docker ps does.
 */
static bool component_container_id(const char *c, size_t n, char *out, size_t outlen)
{
	static const char *const prefixes[] = {
		"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-",
	};
	const char *id = c;
	size_t idlen = n;

	if (n > 6 && !memcmp(c + n - 6, ".scope", 6)) {
		bool found = false;

		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t pl = strlen(prefixes[i]);

			if (n - 6 > pl && !memcmp(c, prefixes[i], pl)) {
				id = c + pl;
				idlen = n - 6 - pl;
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	if (!is_hex_id(id, idlen))
		return false;
	snprintf(out, outlen, "%.*s", (int)(idlen > 12 ? 12 : idlen), id);
	return true;
}

/* Walk the path components; remember the parent of each. */
static bool builtin_class(const char *path, char *out, size_t outlen)
{
	char name[HCI_ORIGIN_MAX], parent[HCI_ORIGIN_MAX] = "";
	bool kube = strstr(path, "kubepods") != NULL;
	char pod[HCI_ORIGIN_MAX] = "";
	const char *p = path;

	while (*p) {
		const char *c;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		c = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - c);

		if (component_container_id(c, n, name, sizeof(name)) &&
		    (kube || n > 64 || !strcmp(parent, "docker") ||
		     !strcmp(parent, "containerd") || !strcmp(parent, "libpod_parent") ||
		     memchr(c, '-', n))) {
			snprintf(out, outlen, "container:%s", name);
			return true;
		}
		if (!strcmp(parent, "docker") || !strcmp(parent, "lxc") ||
		    !strcmp(parent, "containerd")) {
			snprintf(out, outlen, "container:%.*s", (int)(n > 64 ? 12 : n), c);
			return true;
		}
		if (n > 12 && !memcmp(c, "lxc.payload.", 12)) {
			snprintf(out, outlen, "container:%.*s", (int)(n - 12), c + 12);
			return true;
		}
		if (!strcmp(parent, "machine.slice") && n > 14 &&
		    !memcmp(c, "machine-", 8) && !memcmp(c + n - 6, ".scope", 6)) {
			/* libvirt: machine-qemu\x2d<N>\x2d<name>.scope */
			unescape(c + 8, n - 14, name, sizeof(name));
			if (!strncmp(name, "qemu-", 5)) {
				char *dash = strchr(name + 5, '-');

				snprintf(out, outlen, "vm:%s", dash ? dash + 1 : name + 5);
			} else {
				snprintf(out, outlen, "container:%s", name);
			}
			return true;
		}
		if (kube) {
			const char *pp = NULL;

			for (size_t i = 0; i + 3 < n; i++)
				if (!memcmp(c + i, "pod", 3) && (i == 0 || c[i - 1] == '-'))
					pp = c + i + 3;
			if (pp) {
				size_t l = n - (size_t)(pp - c);

				if (l > 6 && !memcmp(pp + l - 6, ".slice", 6))
					l -= 6;
				snprintf(pod, sizeof(pod), "pod%.*s", (int)l, pp);
			}
		}
		snprintf(parent, sizeof(parent), "%.*s", (int)n, c);
	}
	if (pod[0]) {
		snprintf(out, outlen, "container:%s", pod);
		return true;
	}
	return false;
}

void hci_classify(const struct hci_rules *rules, const char *cgpath,
		  const char *vmm_name, char *out, size_t outlen)
{
	const char *path = cgpath && cgpath[0] ? cgpath : "/";

	for (size_t i = 0; rules && i < rules->n; i++) {
		const struct hci_rule *r = &rules->v[i];

		if (fnmatch(r->pattern, path, 0) == 0) {
			snprintf(out, outlen, "%s:%s", r->cls,
				 r->name[0] ? r->name : last_component(path));
			return;
		}
	}
	if (vmm_name) {
		snprintf(out, outlen, "vm:%s", vmm_name);
		return;
	}
	if (builtin_class(path, out, outlen))
		return;
	snprintf(out, outlen, "host:%s", path);
}

int hci_vmm_name_from_cmdline(const char *cmdline, size_t len, char *out, size_t outlen)
{
	size_t i = 0;

	while (i < len) {
		const char *arg = cmdline + i;
		size_t alen = strnlen(arg, len - i);
		size_t next = i + alen + 1;

		if ((!strcmp(arg, "-name") || !strcmp(arg, "--name") ||
		     !strcmp(arg, "--id")) && next < len) {
			const char *v = cmdline + next;
			size_t vlen = strnlen(v, len - next);
			const char *g = NULL;

			/* QEMU: "-name guest=NAME,debug-threads=on" or "NAME,..." */
			for (const char *p = v; p < v + vlen; ) {
				const char *e = memchr(p, ',', (size_t)(v + vlen - p));
				size_t l = e ? (size_t)(e - p) : (size_t)(v + vlen - p);

				if (l > 6 && !memcmp(p, "guest=", 6)) {
					g = p + 6;
					vlen = l - 6;
					break;
				}
				if (!e)
					break;
				p = e + 1;
			}
			if (!g) {
				const char *e = memchr(v, ',', vlen);

				g = v;
				if (e)
					vlen = (size_t)(e - v);
			}
			if (vlen == 0)
				return -1;
			snprintf(out, outlen, "%.*s", (int)vlen, g);
			return 0;
		}
		i = next;
	}
	return -1;
}

bool hci_origin_filter_valid(const char *filter)
{
	const char *colon = strchr(filter, ':');
	char cls[16];
	size_t n = colon ? (size_t)(colon - filter) : strlen(filter);

	if (n == 0 || n >= sizeof(cls) || (colon && !colon[1]))
		return false;
	memcpy(cls, filter, n);
	cls[n] = '\0';
	return valid_class(cls);
}

bool hci_origin_matches(const char *origin, const char *filter)
{
	size_t n = strlen(filter);

	if (strchr(filter, ':'))
		return strcmp(origin, filter) == 0;
	return strncmp(origin, filter, n) == 0 && origin[n] == ':';
}
