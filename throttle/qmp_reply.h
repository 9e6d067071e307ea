/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small, strict JSON reader for QMP replies (throttle/qmp.c): the text is
 * parsed into a tree of nodes held in one allocation, and nothing in it
 * points into the input. RFC 8259 grammar; nesting is limited to
 * HCI_JSON_MAX_DEPTH, and a string's \u escapes become UTF-8 (a lone
 * surrogate is an error; a value may hold \u0000, a member name may not). Errors say what and at which byte.
 */
#ifndef HCI_JSON_H
#define HCI_JSON_H
#include <stdbool.h>
#include <stddef.h>

#define HCI_JSON_MAX_DEPTH 64

enum hci_json_type {
	HCI_JSON_NULL, HCI_JSON_BOOL, HCI_JSON_NUM, HCI_JSON_STR, HCI_JSON_ARR, HCI_JSON_OBJ,
};

struct hci_json {
	enum hci_json_type type;
	const char *key;	/* the member's name inside an object, else NULL */
	const char *str;	/* HCI_JSON_STR: NUL-terminated (may hold NULs: see len) */
	size_t len;		/* HCI_JSON_STR: bytes; ARR/OBJ: members */
	double num;		/* HCI_JSON_NUM */
	bool b;			/* HCI_JSON_BOOL */
	struct hci_json *child;	/* ARR/OBJ: first member */
	struct hci_json *next;	/* the next member of the parent */
};

struct hci_json_doc {
	struct hci_json *root;
	void *mem;
};

/* Parse exactly one value (surrounding whitespace allowed). 0 or -errno
 * (-EINVAL with a message in err, -ENOMEM). Free with hci_json_free. */
int hci_json_parse(const char *text, size_t len, struct hci_json_doc *doc, char *err,
		   size_t errlen);
void hci_json_free(struct hci_json_doc *doc);

/* The first member named key of an object, or NULL (also for a non-object). */
const struct hci_json *hci_json_get(const struct hci_json *obj, const char *key);
/* The string / number at key, or NULL / false. */
const char *hci_json_str(const struct hci_json *obj, const char *key);
bool hci_json_num(const struct hci_json *obj, const char *key, double *out);
#endif
