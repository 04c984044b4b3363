/*-------------------------------------------------------------------------
 *
 * medchain.c
 *	  Module entry point of the medchain extension.
 *
 * The SQL API lives in the modules named after each concern: registry.c
 * (enable, disable), triggers.c (recording and refusing row changes),
 * ddl_guard.c (event triggers), rows.c (row encodings on demand).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
