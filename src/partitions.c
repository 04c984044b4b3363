/*-------------------------------------------------------------------------
 *
 * partitions.c
 *	  Partitioned ledger tables.
 *
 * A partitioned table is enabled as a whole: its entries name it, with
 * its key, whichever partition holds the row, and its partitions, present
 * and future, at every level, are part of its ledger.  Most of that the
 * server does by itself: row triggers of a partitioned table are cloned
 * onto every partition it has or will have, ENABLE ALWAYS included, and
 * fire on the partition that takes the row.  A row encodes the same
 * whichever partition holds it (its encoding depends on column names and
 * values only, and a partition has exactly its parent's columns), so each
 * partition's rows are hashed in its own layout, with the ledger's name
 * and key (ledger_cache.c).
 *
 * What the server does not do is here: statement triggers are not cloned,
 * so each partition gets its own TRUNCATE trigger, from enable() and,
 * for a partition created or attached later, from the ddl_command_end
 * event trigger (ddl_guard.c), which also records the rows an attached
 * table brings as baseline entries of the ledger.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "enable.h"
#include "journal.h"
#include "ledger_cache.h"
#include "partitions.h"
#include "registry.h"

Oid
partition_ledger(Oid relid)
{
	ListCell   *lc;

	if (!get_rel_relispartition(relid))
		return InvalidOid;
	foreach(lc, get_partition_ancestors(relid))
	{
		if (registry_active(lfirst_oid(lc), NULL))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

Oid
ledger_table_of(Oid relid)
{
	Oid			ledger;

	/* a partition enabled on its own before 1.5 is a ledger of its own */
	if (!get_rel_relispartition(relid) || registry_active(relid, NULL))
		return relid;
	ledger = partition_ledger(relid);
	return OidIsValid(ledger) ? ledger : relid;
}

List *
ledger_partitions(Relation rel, LOCKMODE lockmode)
{
	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return NIL;
	/* the first is rel itself */
	return list_delete_first(find_all_inheritors(RelationGetRelid(rel), lockmode, NULL));
}

List *
ledger_leaves(Relation rel, LOCKMODE lockmode)
{
	List	   *leaves = NIL;
	ListCell   *lc;

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return list_make1_oid(RelationGetRelid(rel));
	foreach(lc, ledger_partitions(rel, lockmode))
	{
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_RELATION)
			leaves = lappend_oid(leaves, lfirst_oid(lc));
	}
	return leaves;
}

/* The size of the ledger table's rows: the blocks of all its leaves. */
BlockNumber
ledger_blocks(Relation rel)
{
	BlockNumber blocks = 0;
	ListCell   *lc;

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return RelationGetNumberOfBlocks(rel);
	foreach(lc, ledger_leaves(rel, AccessShareLock))
	{
		Relation	leaf = table_open(lfirst_oid(lc), NoLock);

		blocks += RelationGetNumberOfBlocks(leaf);
		table_close(leaf, NoLock);
	}
	return blocks;
}

static void
refuse_partition(Relation part, const char *ledger, int sqlerrcode,
				 const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("table %s cannot be a partition of ledger table %s",
					ledger_relation_name(part), ledger),
			 errdetail("%s", detail),
			 errhint("%s", hint)));
}

/*
 * What enable() requires of a table, for a partition: its rows must stay
 * within the reach of the triggers and survive a crash, and they must be
 * recorded in the ledger, not in a ledger of its own.  (A foreign table
 * cannot be a partition: the server refuses one where, as in every ledger
 * table, there is a unique index.)
 */
void
partition_check(Relation part, const char *ledger)
{
	if (registry_active(RelationGetRelid(part), NULL))
		refuse_partition(part, ledger, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						 "It is a ledger table of its own.",
						 "Release it with medchain.disable() first: as a partition, its rows are recorded in the ledger of its partitioned table.");
	if (part->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT)
		refuse_partition(part, ledger, ERRCODE_FEATURE_NOT_SUPPORTED,
						 "It is unlogged: it is emptied after a crash, which would erase recorded rows.",
						 "Run ALTER TABLE ... SET LOGGED on it first.");
	if (part->rd_rules != NULL)
		refuse_partition(part, ledger, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						 "It has rules: a rule can rewrite an insert into it so that the row trigger never sees it.",
						 "Drop its rules first.");
	/* its TRUNCATE trigger is installed as the caller, who must own it */
	if (!pg_class_ownercheck(RelationGetRelid(part), GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(part));
}

List *
ledger_partitions_checked(Relation rel, const char *ledger)
{
	List	   *partitions = ledger_partitions(rel, ShareRowExclusiveLock);
	ListCell   *lc;

	foreach(lc, partitions)
	{
		Relation	part = table_open(lfirst_oid(lc), NoLock);

		partition_check(part, ledger);
		table_close(part, NoLock);
	}
	return partitions;
}

/* ---------- partitions a DROP would take with it ---------- */

typedef bool (*PartitionMatch) (Oid relid, Oid arg);

/* A partition of an active ledger table that match accepts, or InvalidOid. */
static Oid
ledger_partition_matching(PartitionMatch match, Oid arg)
{
	ListCell   *lc;

	foreach(lc, registry_active_list(NULL, InvalidOid))
	{
		Registration *row = lfirst(lc);
		ListCell   *pc;

		if (get_rel_relkind(row->relid) != RELKIND_PARTITIONED_TABLE)
			continue;
		foreach(pc, list_delete_first(find_all_inheritors(row->relid, NoLock, NULL)))
		{
			if (match(lfirst_oid(pc), arg))
				return lfirst_oid(pc);
		}
	}
	return InvalidOid;
}

static bool
in_schema(Oid relid, Oid nspid)
{
	return get_rel_namespace(relid) == nspid;
}

static bool
owned_by(Oid relid, Oid roleid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		owned;

	if (!HeapTupleIsValid(tuple))
		return false;
	owned = ((Form_pg_class) GETSTRUCT(tuple))->relowner == roleid;
	ReleaseSysCache(tuple);
	return owned;
}

Oid
ledger_partition_in_schema(Oid nspid)
{
	return ledger_partition_matching(in_schema, nspid);
}

Oid
ledger_partition_owned_by(Oid roleid)
{
	return ledger_partition_matching(owned_by, roleid);
}

/* ---------- partitions that join a ledger ---------- */

/*
 * The rows of a table attached to a ledger table were never recorded:
 * they become baseline entries of the ledger's current enablement, as if
 * they had been there when it was enabled, followed by an event that
 * names the partition and counts them.
 */
static void
partition_record_attached(Oid ledger, const LedgerName *name, Relation part)
{
	Registration registration;
	JournalWriter *writer;
	StringInfoData detail;
	int64		count;

	if (!registry_active(ledger, &registration))
		elog(ERROR, "registration of %s not found", name->display);
	writer = journal_open();
	count = enable_record_rows(writer, part, registration.enablement_id);
	initStringInfo(&detail);
	appendStringInfo(&detail,
					 "{\"action\": \"attach_partition\", \"baseline_rows\": " INT64_FORMAT
					 ", \"partition\": ", count);
	escape_json(&detail, ledger_relation_name(part));
	appendStringInfoChar(&detail, '}');
	enable_record_event(writer, name, registration.enablement_id, &detail);
	journal_close(writer);
}

void
partition_adopt(Oid ledger, Oid partition, bool attached)
{
	Relation	ledger_rel = table_open(ledger, AccessShareLock);
	Relation	part = table_open(partition, ShareRowExclusiveLock);
	LedgerName	name;
	List	   *members;

	ledger_name_of(ledger_rel, &name);
	partition_check(part, name.display);
	members = lcons_oid(partition, ledger_partitions_checked(part, name.display));
	/* CREATE TRIGGER refuses a table this backend holds open; the lock stays */
	table_close(part, NoLock);
	enable_install_partition_triggers(members);
	if (attached)
	{
		part = table_open(partition, NoLock);
		partition_record_attached(ledger, &name, part);
		table_close(part, NoLock);
	}
	table_close(ledger_rel, NoLock);
}
