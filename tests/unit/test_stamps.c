// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * When the kernel's request stamps stand for G and D (lib/bpf/stamps.c),
 * read from a queue directory like sysfs's, made here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "bpf/stamps.h"

static char dir[] = "/tmp/hci-test-stamps-XXXXXX";

static void put(const char *file, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		exit(1);
	fputs(text, f);
	fclose(f);
}

static void drop(const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	ok(!hci_queue_stamps_d(dir) && !hci_queue_stamps_g(dir), "no files: no stamps");
	put("iostats", "1\n");
	ok(hci_queue_stamps_g(dir), "iostats 1: G from the stamp");
	put("iostats", "0\n");
	ok(!hci_queue_stamps_g(dir), "iostats 0: block_getrq");
	put("wbt_lat_usec", "2000\n");
	put("scheduler", "[none] mq-deadline kyber bfq\n");
	ok(hci_queue_stamps_d(dir), "wbt on, no scheduler: D from the stamp");
	put("scheduler", "none\n");
	ok(hci_queue_stamps_d(dir), "none as the only choice");
	put("scheduler", "none [mq-deadline] kyber bfq\n");
	ok(!hci_queue_stamps_d(dir), "a scheduler: block_rq_issue");
	put("scheduler", "[none] mq-deadline\n");
	put("wbt_lat_usec", "0\n");
	ok(!hci_queue_stamps_d(dir), "wbt off: block_rq_issue");
	put("wbt_lat_usec", "garbage\n");
	ok(!hci_queue_stamps_d(dir), "an unreadable wbt_lat_usec: block_rq_issue");
	drop("wbt_lat_usec");
	ok(!hci_queue_stamps_d(dir), "no wbt_lat_usec: block_rq_issue");
	drop("scheduler");
	drop("iostats");
	rmdir(dir);
	return done_testing();
}
