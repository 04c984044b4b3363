/*-------------------------------------------------------------------------
 *
 * security_scope.h
 *	  Running medchain's own queries, and code that a table owner controls,
 *	  without handing the caller's privileges to anyone else's code.
 *
 * Every query string medchain runs goes through medchain_spi_execute(),
 * under search_path = pg_catalog, pg_temp; the strings qualify their
 * operators and functions as well.  Code that a table's owner controls
 * (type input and output functions, domain checks, operators of the key
 * columns) runs inside an OwnerScope: as that owner, under
 * SECURITY_RESTRICTED_OPERATION, with the same pinned search_path and its
 * GUC changes undone at the end, as contrib/amcheck does.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_SECURITY_SCOPE_H
#define MEDCHAIN_SECURITY_SCOPE_H

#include "postgres.h"

/* The only search_path medchain's queries run under. */
#define MC_PINNED_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Start a GUC nest level with search_path pinned; returns the level for
 * medchain_settings_restore().  An error in between is cleaned up by the
 * transaction's abort, like a function's SET clause.
 */
extern int	medchain_pin_search_path(void);
extern void medchain_settings_restore(int nest_level);

/* Set one GUC for the current nest level only. */
extern void medchain_set_local(const char *name, const char *value);

typedef struct OwnerScope
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			nest_level;		/* -1 when the caller keeps the settings */
} OwnerScope;

extern Oid	medchain_relation_owner(Oid relid);

/* Become the owner of relation relid (restricted, search_path pinned). */
extern void medchain_become_owner(Oid relid, OwnerScope *scope);

/*
 * Become owner (restricted) inside settings the caller has pinned already
 * for a whole scan: per row, a nest level of its own would cost more than
 * the row.
 */
extern void medchain_act_as_owner(Oid owner, OwnerScope *scope);
extern void medchain_leave_owner(OwnerScope *scope);

/*
 * SPI_execute_with_args under the pinned search_path; errors unless the
 * result is expected_rc (and, when expected_rows >= 0, that many rows).
 */
extern void medchain_spi_execute(const char *sql, int nargs, Oid *argtypes,
								 Datum *args, bool read_only, long tcount,
								 int expected_rc, int64 expected_rows);
/* The same, with SPI's nulls string ('n' for a NULL argument, or NULL). */
extern void medchain_spi_execute_nulls(const char *sql, int nargs, Oid *argtypes, Datum *args,
									   const char *nulls, bool read_only, long tcount,
									   int expected_rc, int64 expected_rows);

#endif							/* MEDCHAIN_SECURITY_SCOPE_H */
