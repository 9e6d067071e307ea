// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hcitrace's output files: --json, --csv and the CSV side files next to it,
 * all opened before anything is traced (a bad path costs no trace) and
 * closed with their write errors said once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "series.h"
#include "trace.h"

/* Every output is opened before tracing starts: a bad path costs no trace. */
static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		hci_errorf("cannot write '%s': %s; nothing was traced: give a path that "
			   "can be written", path, strerror(errno));
	return f;
}

/* Close an output; a failed write (disk full) is an error, said once here. */
int close_out(FILE **f, const char *what)
{
	int err = ferror(*f);

	if (fclose(*f))
		err = 1;
	*f = NULL;
	if (err)
		hci_errorf("writing %s failed: %s", what, strerror(errno));
	return err ? -EIO : 0;
}

/* The side file next to the --csv file: "out.csv" + ".join" -> "out.join.csv". */
FILE *open_side(const char *csv, const char *what)
{
	char path[4096];
	size_t l = strlen(csv);

	if (l > 4 && !strcmp(csv + l - 4, ".csv"))
		l -= 4;
	snprintf(path, sizeof(path), "%.*s.%s.csv", (int)l, csv, what);
	return open_out(path);
}

/* Every output file, opened (so checked) before anything is traced. */
int open_outputs(struct trace_run *tr)
{
	const char *csv = tr->env.csv_path;

	if (tr->env.json_path) {
		tr->json = open_out(tr->env.json_path);
		if (!tr->json)
			return -EIO;
		hci_jw_init(&tr->jw, tr->json, false);
		hci_json_begin(&tr->jw);
	}
	if (!csv)
		return series_open(tr);
	tr->hist_csv = open_out(csv);
	if (!tr->hist_csv)
		return -EIO;
	if (tr->env.nchannels) {
		tr->brk_csv = open_side(csv, "breakdown");
		tr->join_csv = tr->brk_csv ? open_side(csv, "join") : NULL;
		tr->vol_csv = tr->join_csv ? open_side(csv, "volumes") : NULL;
		if (!tr->vol_csv)
			return -EIO;
		hci_csv_join_header(tr->join_csv);
		hci_csv_vol_header(tr->vol_csv);
	}
	if (tr->env.per_request) {
		tr->req_csv = open_side(csv, "requests");
		if (!tr->req_csv)
			return -EIO;
		hci_csv_req_header(tr->req_csv);
		if (tr->env.vmm) {
			tr->vreq_csv = open_side(csv, "vmm-requests");
			if (!tr->vreq_csv)
				return -EIO;
			hci_csv_vreq_header(tr->vreq_csv);
		}
	}
	return series_open(tr);
}

/*
 * On the way out: the streams written as they go are closed here, and a
 * failed close is an error (1). The histogram and breakdown CSVs and the
 * JSON are still open only when the report was not written: closed silently.
 */
int close_outputs(struct trace_run *tr)
{
	int ret = 0;

	if (tr->req_csv && fclose(tr->req_csv))
		ret = 1;
	if (tr->vreq_csv && fclose(tr->vreq_csv))
		ret = 1;
	if (tr->join_csv && fclose(tr->join_csv))
		ret = 1;
	if (tr->vol_csv && fclose(tr->vol_csv))
		ret = 1;
	if (tr->hist_csv)
		fclose(tr->hist_csv);	/* only on errors: written at the end */
	if (tr->brk_csv)
		fclose(tr->brk_csv);
	if (tr->json)
		fclose(tr->json);
	series_close(tr);
	return ret;
}
