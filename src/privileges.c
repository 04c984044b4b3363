/*-------------------------------------------------------------------------
 *
 * privileges.c
 *	  Role checks for medchain's privileged functions.
 *
 * The C functions that write medchain's tables bypass table privileges
 * (they write directly), so each checks its caller here first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/acl.h"

#include "catalog/namespace.h"
#include "utils/lsyscache.h"

#include "journal.h"
#include "privileges.h"

static bool
has_role_privileges(const char *role)
{
	Oid			roleid = get_role_oid(role, true);

	return OidIsValid(roleid) && has_privs_of_role(GetUserId(), roleid);
}

void
require_admin(const char *what)
{
	if (!has_role_privileges(MC_ADMIN_ROLE))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only members of role \"%s\" may do this.", MC_ADMIN_ROLE),
				 errhint("Ask an administrator to GRANT %s to you.", MC_ADMIN_ROLE)));
}

void
require_auditor(const char *what)
{
	if (!has_role_privileges(MC_AUDITOR_ROLE) && !has_role_privileges(MC_ADMIN_ROLE))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only members of role \"%s\" or \"%s\" may do this.",
						   MC_AUDITOR_ROLE, MC_ADMIN_ROLE),
				 errhint("Ask an administrator to GRANT %s to you.", MC_AUDITOR_ROLE)));
}

void
require_notary(const char *what)
{
	if (!has_role_privileges(MC_NOTARY_ROLE) && !has_role_privileges(MC_ADMIN_ROLE))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only members of role \"%s\" or \"%s\" may do this.",
						   MC_NOTARY_ROLE, MC_ADMIN_ROLE),
				 errhint("Ask an administrator to GRANT %s to you.", MC_NOTARY_ROLE)));
}

/*
 * May the caller see what the journal says of this relation (its events,
 * its row count)?  Auditors may; others if they may read the table, as
 * the journal's row-level security decides for its entries.
 */
bool
may_read_relation(const char *relation)
{
	LedgerName	name;
	Oid			nsp;
	Oid			relid;

	if (has_role_privileges(MC_AUDITOR_ROLE))
		return true;
	if (!ledger_name_parse(relation, &name) ||
		!OidIsValid(nsp = get_namespace_oid(name.schema, true)) ||
		!OidIsValid(relid = get_relname_relid(name.table, nsp)))
		return false;
	return pg_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE) == ACLCHECK_OK &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}
