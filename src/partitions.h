/*-------------------------------------------------------------------------
 *
 * partitions.h
 *	  Partitioned ledger tables: one ledger, named by the partitioned
 *	  table, that holds the rows of all its partitions, present and future.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDCHAIN_PARTITIONS_H
#define MEDCHAIN_PARTITIONS_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "storage/block.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

/*
 * The ledger table a partition belongs to: the nearest of its ancestors
 * with an active registration; InvalidOid if relid is no partition of one.
 */
extern Oid	partition_ledger(Oid relid);

/* relid itself, unless it is a partition of a ledger table: then that table. */
extern Oid	ledger_table_of(Oid relid);

/* The partitions of a partitioned table at every level, locked; NIL for others. */
extern List *ledger_partitions(Relation rel, LOCKMODE lockmode);

/* The tables that hold a ledger table's rows: itself, or its leaf partitions. */
extern List *ledger_leaves(Relation rel, LOCKMODE lockmode);
extern BlockNumber ledger_blocks(Relation rel);

/* Errors unless the partition may hold rows of ledger table `ledger`. */
extern void partition_check(Relation part, const char *ledger);

/* The partitions of rel, locked and checked as partitions of ledger table `ledger`. */
extern List *ledger_partitions_checked(Relation rel, const char *ledger);

/* A partition of an active ledger table in the schema, or owned by the role. */
extern Oid	ledger_partition_in_schema(Oid nspid);
extern Oid	ledger_partition_owned_by(Oid roleid);

/*
 * A table that has just become a partition of ledger table `ledger`
 * (CREATE TABLE ... PARTITION OF, or ATTACH PARTITION when attached):
 * its partitions' triggers, and for an attached table the rows it brought.
 */
extern void partition_adopt(Oid ledger, Oid partition, bool attached);

#endif							/* MEDCHAIN_PARTITIONS_H */
