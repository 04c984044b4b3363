/*-------------------------------------------------------------------------
 *
 * enablement.h
 *	  A ledger table's enablements as the journal records them.
 *
 * Which tables are ledgers, since when and with which key follows from
 * the hashed event entries of the journal, not from the registry: an
 * enablement is an enable event; a disable event releases it.  Format
 * version 2 entries and events name their enablement; a version 1 row entry belongs
 * to the version 1 enablement of its table that was current when it was
 * recorded (FORMAT.md, "Enablements").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ENABLEMENT_H
#define MEDCHAIN_ENABLEMENT_H

#include "postgres.h"

#include "access/htup.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

typedef struct Enablement
{
	int64		enablement_id;	/* version 2: the id its entries name; version
								 * 1: its enable event's entry_id */
	int64		enable_entry_id;	/* its enable event's entry_id */
	int			format_version; /* of its enable event */
	List	   *key_columns;	/* of char *, from the event's detail */
	int64		previous_id;	/* version 2: the enablement before, or 0 */
	int64		disable_entry_id;	/* its disable event, or 0 while current */
	int64		v1_floor;		/* version 1: its row entries have ids above */
	bool		event_intact;	/* its enable event hashes right (else verify()
								 * reports it, and its detail is not trusted) */
	bool		concurrent;		/* enabled concurrently: its baseline comes after */
	int64		baseline_entry_id;	/* concurrent: its baseline_complete event, or 0 */
	int64		baseline_rows;	/* rows its baseline recorded, once known */
	bool		versioned;		/* enabled in mode versioned (since 1.5) */
	char	   *history_table;	/* versioned: its history table, as entries name tables */
} Enablement;

/* A concurrent enablement whose baseline is not complete yet. */
static inline bool
enablement_enabling(const Enablement *e)
{
	return e->concurrent && e->baseline_entry_id == 0;
}

typedef struct LedgerHistory
{
	char	   *relation;		/* as in entries.relation */
	List	   *enablements;	/* of Enablement *, in the order they happened */
	Enablement *current;		/* the one not released, or NULL */
	int			unreleased;		/* how many are not released (1 honestly) */
} LedgerHistory;

/*
 * The history of a relation from its event entries, as snapshot sees
 * them.  Events that fail their own hash still count (verify() reports
 * them); events whose detail is not what medchain writes are skipped.
 */
extern LedgerHistory *ledger_history_load(Relation journal, const AttrNumber *attnums,
										  const char *relation, Snapshot snapshot);

extern Enablement *ledger_history_find(const LedgerHistory *history, int64 enablement_id);

/* Does an entry of that format, id and enablement_id belong to e? */
extern bool enablement_includes(const Enablement *e, int format_version,
								int64 entry_id, int64 entry_enablement_id);

/*
 * The entry of enablement e that records the row with this key as it is
 * now (a copy), or NULL: among the journal's rows, and with batched, among
 * the entries waiting in batches too.  Of a versioned table's row, that is
 * the version no update or delete supersedes.
 */
/*
 * The same among the journal's rows, found through key_hash alone (an
 * integer index rather than jsonb comparisons) for the key whose
 * canonical text is key_text: NULL if none is found that way, as for
 * entries written before 1.5 or whose key_hash was altered, which
 * enablement_row_entry() still finds.  key_hash_index: the index's OID,
 * or InvalidOid to look it up.
 */
extern HeapTuple enablement_row_entry_hashed(Relation journal, const AttrNumber *attnums,
											 const Enablement *e, const char *relation,
											 StringInfo key_text, Snapshot snapshot,
											 Oid key_hash_index);
/* The same through the (relation, row_key) index alone. */
extern HeapTuple enablement_row_entry_by_key(Relation journal, const AttrNumber *attnums,
											 const Enablement *e, const char *relation,
											 Jsonb *key, Snapshot snapshot);
extern HeapTuple enablement_row_entry(Relation journal, const AttrNumber *attnums,
									  const Enablement *e, const char *relation,
									  Jsonb *key, Snapshot snapshot, bool batched);

/* Every entry of the row with this key in e (copies), batched ones included, in no order. */
extern List *enablement_row_entries(Relation journal, const AttrNumber *attnums,
									const Enablement *e, const char *relation,
									Jsonb *key, Snapshot snapshot);

/* A member of an event's detail, or NULL; is its "action" this one? */
extern JsonbValue *detail_member(Jsonb *detail, const char *name);
extern bool detail_action_is(Jsonb *detail, const char *action);

#endif							/* MEDCHAIN_ENABLEMENT_H */
