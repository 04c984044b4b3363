/*-------------------------------------------------------------------------
 *
 * rows.h
 *	  Finding the current row of a ledger table by its key.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_ROWS_H
#define MEDCHAIN_ROWS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "storage/itemptr.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"

#include "enablement.h"
#include "journal.h"
#include "ledger_cache.h"

extern Relation ledger_table_open(Oid relid, Relation journal, const AttrNumber *attnums,
								  LedgerHistory **history);
extern bool ledger_key_fits(const LedgerRelation *ledger, Jsonb *key);
extern void check_key_shape(const LedgerRelation *ledger, Jsonb *key);
extern StringInfo ledger_row_encoding(Relation rel, LedgerRelation *ledger,
									  Jsonb *key, int version);
extern void ledger_key_condition(StringInfo sql, const RowLayout *keylayout,
								 bool by_params);
extern bool ledger_row_find(Relation rel, LedgerRelation *ledger,
							Jsonb *key, Oid *holder, ItemPointer tid);

/* A row of a ledger table found by its key, with its entry. */
typedef struct RecordedRow
{
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	Relation	rel;
	LedgerRelation *ledger;
	LedgerHistory *history;
	Enablement *enablement;		/* the current one, else the last */
	HeapTuple	entry;			/* the row's entry in it, or NULL */
	int			format_version; /* the entry's, else the current format */
} RecordedRow;

/* SELECT on the table, or an error: the row itself is handed out. */
extern void require_table_read(Relation rel);

extern void recorded_row_find(Oid relid, Jsonb *key, RecordedRow *row);
extern void recorded_row_close(RecordedRow *row);

#endif							/* MEDCHAIN_ROWS_H */
