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

#include "privileges.h"

void
require_admin(const char *what)
{
	Oid			admin = get_role_oid(MC_ADMIN_ROLE, true);

	if (!OidIsValid(admin) || !has_privs_of_role(GetUserId(), admin))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only members of role \"%s\" may do this.", MC_ADMIN_ROLE),
				 errhint("Ask an administrator to GRANT %s to you.", MC_ADMIN_ROLE)));
}
