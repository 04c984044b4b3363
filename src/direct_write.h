/*-------------------------------------------------------------------------
 *
 * direct_write.h
 *	  Inserting and updating rows of medchain's own tables without SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_DIRECT_WRITE_H
#define MEDCHAIN_DIRECT_WRITE_H

#include "postgres.h"

#include "access/heapam.h"
#include "access/htup.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "storage/lockdefs.h"
#include "utils/rel.h"

typedef struct DirectTable
{
	Relation	rel;
	LOCKMODE	lockmode;
	int			nindexes;
	Relation   *indexes;
	IndexInfo **index_info;
	TupleTableSlot *slot;
} DirectTable;

extern DirectTable *direct_open(Oid relid, LOCKMODE lockmode);
extern void direct_insert(DirectTable *table, HeapTuple tuple);
extern void direct_multi_insert(DirectTable *table, TupleTableSlot **slots, int n,
								BulkInsertState bistate);
extern void direct_update(DirectTable *table, ItemPointer otid, HeapTuple tuple);
extern void direct_close(DirectTable *table);

#endif							/* MEDCHAIN_DIRECT_WRITE_H */
