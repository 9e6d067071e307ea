/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Growing an array by doubling: the one copy of the realloc step that every
 * table in lib/ and the programs repeated.
 */
#ifndef HCI_CORE_VEC_H
#define HCI_CORE_VEC_H
#include <stdlib.h>

/*
 * Room for one more item after the n items of size elem in v, whose
 * capacity is *cap: v itself while n < *cap, else v grown to twice *cap
 * (first items the first time), with *cap updated. NULL when out of memory,
 * and v is still the caller's.
 */
static inline void *hci_vec_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t want;
	void *nv;

	if (n < *cap)
		return v;
	want = *cap ? *cap * 2 : first;
	nv = realloc(v, want * elem);
	if (nv)
		*cap = want;
	return nv;
}
#endif
