/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Former name of join_report.h, kept until its includers name the new one. */
#include "join_report.h"
