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

#include "row_encoding.h"

typedef struct LedgerRelation
{
	Oid			relid;			/* hash key */
	bool		valid;			/* false once a relcache invalidation hit it */
	MemoryContext cxt;			/* everything below lives here */
	char	   *relation_name;	/* schema-qualified, quoted where needed */
	RowLayout  *row_layout;
	RowLayout  *key_layout;
	struct _SPI_plan *find_plan;	/* the row-by-key lookup, once prepared */
} LedgerRelation;

extern LedgerRelation *ledger_relation_get(Relation rel);

extern Oid	ledger_key_index(Relation rel);
extern AttrNumber *ledger_key_attnums(Oid indexoid, int *nkeys);
extern char *ledger_relation_name(Relation rel);

#endif							/* MEDCHAIN_LEDGER_CACHE_H */
