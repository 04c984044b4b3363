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

#include "ledger_cache.h"

extern Relation ledger_table_open(Oid relid);
extern bool ledger_key_fits(const LedgerRelation *ledger, Jsonb *key);
extern StringInfo ledger_row_encoding(Relation rel, LedgerRelation *ledger,
									  Jsonb *key);
extern bool ledger_row_find(Relation rel, LedgerRelation *ledger,
							Jsonb *key, ItemPointer tid);

#endif							/* MEDCHAIN_ROWS_H */
