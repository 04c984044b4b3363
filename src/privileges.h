/*-------------------------------------------------------------------------
 *
 * privileges.h
 *	  medchain's roles and the checks that use them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PRIVILEGES_H
#define MEDCHAIN_PRIVILEGES_H

#include "postgres.h"

#define MC_ADMIN_ROLE "medchain_admin"
#define MC_AUDITOR_ROLE "medchain_auditor"
#define MC_NOTARY_ROLE "medchain_notary"

/* Errors unless the current user has the privileges of medchain_admin. */
extern void require_admin(const char *what);

/* Errors unless the current user is a medchain_auditor or medchain_admin. */
extern void require_auditor(const char *what);

/* Errors unless the current user is a medchain_notary or medchain_admin. */
extern void require_notary(const char *what);

extern bool may_read_relation(const char *relation);

#endif							/* MEDCHAIN_PRIVILEGES_H */
