/*-------------------------------------------------------------------------
 *
 * security_scope.c
 *	  Pinned search_path, table-owner scopes and medchain's SPI entry point.
 *
 * A query string is parsed under the search_path in effect, and an
 * operator or function found first on it runs with the privileges of
 * whoever runs the query.  medchain's C functions are called by admins,
 * auditors and superusers alike, so none of their queries may resolve a
 * name through the caller's search_path: each runs under
 * MC_PINNED_SEARCH_PATH and names its operators OPERATOR(pg_catalog.=).
 * pg_temp comes last and is never searched for functions or operators.
 *
 * The table owner's code is a different matter: the owner may write a
 * domain CHECK or an output function, and whoever reads the table through
 * medchain must not run it with higher privileges than the owner's.  The
 * owner scope runs it as the owner, with SECURITY_RESTRICTED_OPERATION
 * (no SET ROLE, no temporary objects, no cursors that outlive it) and a
 * GUC nest level that undoes whatever the code sets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"

#include "security_scope.h"

void
medchain_set_local(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

int
medchain_pin_search_path(void)
{
	int			nest_level = NewGUCNestLevel();

	medchain_set_local("search_path", MC_PINNED_SEARCH_PATH);
	return nest_level;
}

void
medchain_settings_restore(int nest_level)
{
	AtEOXact_GUC(false, nest_level);
}

void
medchain_act_as_owner(Oid owner, OwnerScope *scope)
{
	GetUserIdAndSecContext(&scope->saved_userid, &scope->saved_sec_context);
	SetUserIdAndSecContext(owner, scope->saved_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	scope->nest_level = -1;
}

Oid
medchain_relation_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

void
medchain_become_owner(Oid relid, OwnerScope *scope)
{
	medchain_act_as_owner(medchain_relation_owner(relid), scope);
	scope->nest_level = medchain_pin_search_path();
}

void
medchain_leave_owner(OwnerScope *scope)
{
	if (scope->nest_level >= 0)
		medchain_settings_restore(scope->nest_level);
	SetUserIdAndSecContext(scope->saved_userid, scope->saved_sec_context);
}

void
medchain_spi_execute(const char *sql, int nargs, Oid *argtypes, Datum *args,
					 bool read_only, long tcount, int expected_rc,
					 int64 expected_rows)
{
	medchain_spi_execute_nulls(sql, nargs, argtypes, args, NULL, read_only, tcount,
							   expected_rc, expected_rows);
}

void
medchain_spi_execute_nulls(const char *sql, int nargs, Oid *argtypes, Datum *args,
						   const char *nulls, bool read_only, long tcount,
						   int expected_rc, int64 expected_rows)
{
	int			nest_level = medchain_pin_search_path();
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls,
										   read_only, tcount);

	medchain_settings_restore(nest_level);
	if (rc != expected_rc ||
		(expected_rows >= 0 && SPI_processed != (uint64) expected_rows))
		elog(ERROR, "medchain query failed (%s, %llu rows): %s",
			 SPI_result_code_string(rc), (unsigned long long) SPI_processed, sql);
}
