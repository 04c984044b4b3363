/*-------------------------------------------------------------------------
 *
 * ledger_cache.h
 *	  Per-backend cache of what the row trigger needs for each ledger table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_LEDGER_CACHE_H
#define MEDCHAIN_LEDGER_CACHE_H

#include "postgres.h"

#include "utils/rel.h"

#include "journal.h"
#include "row_encoding.h"

typedef struct LedgerRelation
{
	Oid			relid;			/* hash key */
	Oid			ledger_relid;	/* the ledger table: relid, or the partitioned
								 * table relid is a partition of */
	bool		valid;			/* false once a relcache invalidation hit it */
	MemoryContext cxt;			/* everything below lives here */
	LedgerName	name;			/* the ledger table's */
	char	   *relation_name;	/* name.display: schema-qualified, quoted */
	RowLayout  *row_layout;
	RowLayout  *key_layout;
	bool		differs_in_v1;	/* row_layout_differs_in_v1(row_layout) */
	int64		enablement_id;	/* from the registry, once looked up; 0 before */
	bool		mode_known;		/* versioned below is looked up */
	bool		versioned;		/* from the registry, once looked up */
	struct _SPI_plan *find_plan;	/* the row-by-key lookup, once prepared */
} LedgerRelation;

/*
 * The entry of a ledger table, or of a partition of one: a partition's
 * rows are encoded in its own layout and recorded with the name and key
 * of its ledger table.
 */
extern LedgerRelation *ledger_relation_get(Relation rel);
extern LedgerRelation *ledger_relation_get_in(Relation rel, Oid ledger_relid);

/*
 * The enablement new entries of the table belong to: the registry's
 * active registration, which the row trigger trusts and verify() checks.
 */
extern int64 ledger_relation_enablement(LedgerRelation *ledger);

/* Is the table versioned, as its active registration says? */
extern bool ledger_relation_versioned(LedgerRelation *ledger);

extern Oid	ledger_key_index(Relation rel);
extern AttrNumber *ledger_key_attnums(Oid indexoid, int *nkeys);
extern char *ledger_relation_name(Relation rel);
extern char *ledger_relid_name(Oid relid);

/* The table a name as entries.relation holds it names now, or InvalidOid. */
extern Oid	ledger_relid_by_name(const char *relation);
extern void ledger_name_of(Relation rel, LedgerName *name);

#endif							/* MEDCHAIN_LEDGER_CACHE_H */
