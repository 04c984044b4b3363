/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  medchain.ledger_registry: which tables are ledger tables, and the SQL
 *	  functions enable() and disable() that change it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_REGISTRY_H
#define MEDCHAIN_REGISTRY_H

#include "postgres.h"

extern bool registry_is_ledger(Oid relid);
extern int64 registry_prior_entry_id(Oid relid);
extern bool registry_has_ledger_in_schema(Oid nspid);
extern bool registry_has_any_ledger(void);

#endif							/* MEDCHAIN_REGISTRY_H */
