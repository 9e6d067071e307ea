// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Histogram math in user space, on the bucket schema of include/hci_hist.h. */
#include <string.h>
#include "hist.h"

const char *const hci_stage_names[HCI_NSTAGES] = {
	[HCI_Q2G] = "Q2G", [HCI_G2I] = "G2I", [HCI_I2D] = "I2D",
	[HCI_G2D] = "G2D", [HCI_D2C] = "D2C", [HCI_Q2C] = "Q2C",
};

const char *const hci_vstage_names[HCI_NVSTAGES] = {
	[HCI_V2Q] = "V2Q", [HCI_VQ2C] = "VQ2C", [HCI_C2V] = "C2V", [HCI_V2V] = "V2V",
	[HCI_N2V] = "N2V", [HCI_V2I] = "V2I", [HCI_VQ2D] = "VQ2D", [HCI_VD2C] = "VD2C",
};

const char *const hci_op_names[HCI_NOPS] = {
	[HCI_OP_READ] = "read", [HCI_OP_WRITE] = "write",
	[HCI_OP_FLUSH] = "flush", [HCI_OP_DISCARD] = "discard",
	[HCI_OP_OTHER] = "other",
};

void hci_u64s_add(__u64 *dst, const __u64 *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += src[i];
}

void hci_u64s_sub(__u64 *dst, const __u64 *a, const __u64 *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = a[i] >= b[i] ? a[i] - b[i] : 0;
}

__u64 hci_slots_count(const __u64 *slots)
{
	__u64 n = 0;

	for (int i = 0; i < HCI_NBUCKETS; i++)
		n += slots[i];
	return n;
}

double hci_slots_percentile_us(const __u64 *slots, double p)
{
	__u64 total = hci_slots_count(slots);
	double rank, cum = 0;

	if (!total)
		return 0;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	rank = p / 100.0 * (double)total;
	for (int b = 0; b < HCI_NBUCKETS; b++) {
		double lo = (double)hci_bucket_lo_us(b);
		double hi = (double)hci_bucket_hi_us(b);

		if (!slots[b])
			continue;
		if (cum + (double)slots[b] >= rank) {
			double frac = (rank - cum) / (double)slots[b];

			return lo + frac * (hi - lo);
		}
		cum += (double)slots[b];
	}
	return (double)hci_bucket_hi_us(HCI_NBUCKETS - 1);
}

void hci_slots_print(FILE *f, const __u64 *slots, const char *unit)
{
	int first = -1, last = -1;
	__u64 max = 0;
	const int width = 40;

	for (int b = 0; b < HCI_NBUCKETS; b++) {
		if (!slots[b])
			continue;
		if (first < 0)
			first = b;
		last = b;
		if (slots[b] > max)
			max = slots[b];
	}
	if (first < 0)
		return;
	fprintf(f, "%22s : %-10s |%-*s|\n", unit, "count", width, "distribution");
	for (int b = first; b <= last; b++) {
		int stars = (int)((slots[b] * width + max - 1) / max);
		char range[48];

		if (b == HCI_NBUCKETS - 1)
			snprintf(range, sizeof(range), "%llu -> inf",
				 (unsigned long long)hci_bucket_lo_us(b));
		else
			snprintf(range, sizeof(range), "%llu -> %llu",
				 (unsigned long long)hci_bucket_lo_us(b),
				 (unsigned long long)hci_bucket_hi_us(b) - 1);
		fprintf(f, "%22s : %-10llu |%.*s%*s|\n", range,
			(unsigned long long)slots[b], stars,
			"****************************************", width - stars, "");
	}
}
