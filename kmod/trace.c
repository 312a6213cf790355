// SPDX-License-Identifier: GPL-2.0-only
/*
 * trace.c - the one place the tracepoints of incrfs_trace.h are defined.
 */
#define CREATE_TRACE_POINTS
#include "incrfs_trace.h"
