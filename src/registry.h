/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  medchain.ledger_registry: which tables are ledger tables.
 *
 * The registry is unhashed state: the triggers and the DDL guard act on
 * it, verify() checks it against the journal's event entries.  It is read
 * here by direct scans, never through SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_REGISTRY_H
#define MEDCHAIN_REGISTRY_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

/* One row of medchain.ledger_registry. */
typedef struct Registration
{
	int64		registration_id;
	Oid			relid;			/* InvalidOid once released */
	char	   *relation;		/* schema-qualified, as in medchain.entries */
	List	   *key_columns;	/* of char * */
	int64		enablement_id;	/* the enable event's entry_id */
	bool		released;
	bool		enabling;		/* its baseline is being recorded concurrently */
	bool		versioned;		/* mode versioned (since 1.5) */
	Oid			history_relid;	/* versioned: its history table, while active */
	bool		reason_required;	/* versioned: updates and deletes need a reason */
} Registration;

/*
 * The active registration of relid as the latest snapshot sees it (the
 * caller's own changes included); false if there is none.  out may be NULL.
 */
extern bool registry_active(Oid relid, Registration *out);
extern bool registry_has_ledger_in_schema(Oid nspid);

/*
 * The active registration whose history table is history_relid, as
 * snapshot sees it (NULL: the latest); false if none.
 */
extern bool registry_history_owner(Oid history_relid, Snapshot snapshot,
								   Registration *out);
extern bool registry_has_any_ledger(void);

/* Every active registration (or only relid's) as snapshot sees them. */
extern List *registry_active_list(Snapshot snapshot, Oid only);

/* The elements of a text[] as a List of char * (a NULL as ""). */
extern List *text_array_to_list(Datum array);

/* Every registration, released ones included. */
extern List *registry_all(Snapshot snapshot);

#endif							/* MEDCHAIN_REGISTRY_H */
