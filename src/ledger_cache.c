/*-------------------------------------------------------------------------
 *
 * ledger_cache.c
 *	  Per-backend cache of ledger table layouts.
 *
 * The row trigger fires once per inserted row; looking up column names,
 * type encoders and the key index each time would cost more than hashing
 * the row.  Entries are rebuilt after any relcache invalidation of their
 * table (ALTER TABLE, index changes), so they never outlive the definition
 * they were built from.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "ledger_cache.h"
#include "partitions.h"
#include "registry.h"
#include "versioned.h"

static HTAB *ledger_relations = NULL;

static void
ledger_relations_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	LedgerRelation *entry;

	if (ledger_relations == NULL)
		return;
	if (OidIsValid(relid))
	{
		entry = hash_search(ledger_relations, &relid, HASH_FIND, NULL);
		if (entry != NULL)
			entry->valid = false;
		return;
	}
	hash_seq_init(&status, ledger_relations);
	while ((entry = hash_seq_search(&status)) != NULL)
		entry->valid = false;
}

/*
 * The index whose columns identify a row: the primary key, or else the
 * index named by REPLICA IDENTITY USING INDEX.  InvalidOid if neither.
 */
Oid
ledger_key_index(Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);	/* sets rd_pkindex */

	list_free(indexes);
	if (OidIsValid(rel->rd_pkindex))
		return rel->rd_pkindex;
	if (rel->rd_rel->relreplident == REPLICA_IDENTITY_INDEX)
		return RelationGetReplicaIndex(rel);
	return InvalidOid;
}

AttrNumber *
ledger_key_attnums(Oid indexoid, int *nkeys)
{
	HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index index;
	AttrNumber *attnums;
	int			i;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	index = (Form_pg_index) GETSTRUCT(tuple);
	*nkeys = index->indnkeyatts;
	attnums = palloc(sizeof(AttrNumber) * Max(*nkeys, 1));
	for (i = 0; i < *nkeys; i++)
		attnums[i] = index->indkey.values[i];
	ReleaseSysCache(tuple);
	return attnums;
}

void
ledger_name_of(Relation rel, LedgerName *name)
{
	name->schema = get_namespace_name(RelationGetNamespace(rel));
	name->table = pstrdup(RelationGetRelationName(rel));
	name->display = quote_qualified_identifier(name->schema, name->table);
}

Oid
ledger_relid_by_name(const char *relation)
{
	LedgerName	name;
	Oid			nsp;

	if (!ledger_name_parse(relation, &name))
		return InvalidOid;
	nsp = get_namespace_oid(name.schema, true);
	return OidIsValid(nsp) ? get_relname_relid(name.table, nsp) : InvalidOid;
}

char *
ledger_relation_name(Relation rel)
{
	LedgerName	name;

	ledger_name_of(rel, &name);
	return name.display;
}

/* The same for a relation by OID: quoted and qualified. */
char *
ledger_relid_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * Find the ledger table's key columns, by name, in a partition of it: a
 * partition has its parent's columns, but maybe not at the same numbers.
 */
static void
key_attnums_in_partition(TupleDesc ledger, TupleDesc partition, AttrNumber *attnums,
						 int nkeys)
{
	int			i;
	int			j;

	for (i = 0; i < nkeys; i++)
	{
		const char *name = NameStr(TupleDescAttr(ledger, attnums[i] - 1)->attname);

		for (j = 0; j < partition->natts; j++)
		{
			Form_pg_attribute attr = TupleDescAttr(partition, j);

			if (!attr->attisdropped && strcmp(NameStr(attr->attname), name) == 0)
				break;
		}
		if (j == partition->natts)
			elog(ERROR, "key column \"%s\" not found in partition", name);
		attnums[i] = j + 1;
	}
}

/*
 * The entry of rel, whose rows are those of ledger table `ledger`: rel
 * itself, or one of its partitions.  A partition's rows are encoded in its
 * own layout, which gives the same bytes as the ledger table's (columns go
 * by name), and are recorded with the ledger table's name and key.
 */
static void
ledger_relation_build(LedgerRelation *entry, Relation rel, Relation ledger)
{
	MemoryContext old;
	Oid			keyindex;
	AttrNumber *keyattnums;
	int			nkeys;

	entry->cxt = AllocSetContextCreate(CacheMemoryContext, "medchain ledger relation",
									   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(entry->cxt);

	/* a history table holds many versions of a key: no key index of its own */
	keyindex = ledger_key_index(ledger);
	if (OidIsValid(keyindex))
	{
		keyattnums = ledger_key_attnums(keyindex, &nkeys);
		if (ledger != rel)
			key_attnums_in_partition(RelationGetDescr(ledger), RelationGetDescr(rel),
									 keyattnums, nkeys);
	}
	else if ((keyattnums = versioned_history_key_attnums(rel, &nkeys)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ledger table \"%s\" has no primary key or replica identity index",
						RelationGetRelationName(ledger)),
				 errdetail("Every ledger entry names its row by the key columns."),
				 errhint("Restore the table's primary key.")));

	ledger_name_of(ledger, &entry->name);
	entry->relation_name = entry->name.display;
	entry->ledger_relid = RelationGetRelid(ledger);
	entry->row_layout = row_layout_build(RelationGetDescr(rel), entry->cxt);
	entry->key_layout = key_layout_build(RelationGetDescr(rel), nkeys, keyattnums,
										 entry->cxt);
	entry->differs_in_v1 = row_layout_differs_in_v1(entry->row_layout);
	entry->enablement_id = 0;
	entry->mode_known = false;
	MemoryContextSwitchTo(old);
	entry->valid = true;
}

int64
ledger_relation_enablement(LedgerRelation *ledger)
{
	Registration registration;

	if (ledger->enablement_id != 0)
		return ledger->enablement_id;
	if (!registry_active(ledger->ledger_relid, &registration) || registration.enablement_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has medchain's triggers but no active registration",
						ledger->relation_name),
				 errdetail("medchain.ledger_registry was altered: the row cannot be recorded."),
				 errhint("Run medchain.verify() and restore the registry from the journal's events.")));
	ledger->enablement_id = registration.enablement_id;
	return ledger->enablement_id;
}

bool
ledger_relation_versioned(LedgerRelation *ledger)
{
	Registration registration;

	if (!ledger->mode_known)
	{
		ledger->versioned = registry_active(ledger->relid, &registration) &&
			registration.versioned;
		ledger->mode_known = true;
	}
	return ledger->versioned;
}

/* Free what an outdated entry holds. */
static void
ledger_relation_forget(LedgerRelation *entry)
{
	if (entry->find_plan != NULL)
		SPI_freeplan(entry->find_plan);
	entry->find_plan = NULL;
	if (entry->cxt != NULL)
		MemoryContextDelete(entry->cxt);
	entry->cxt = NULL;
}

/*
 * The entry of rel, whose rows are ledger table ledger_relid's, or when
 * that is InvalidOid, of the ledger table rel is or is a partition of.
 */
static LedgerRelation *
ledger_relation_lookup(Relation rel, Oid ledger_relid)
{
	Oid			relid = RelationGetRelid(rel);
	LedgerRelation *entry;
	bool		found;

	if (ledger_relations == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(LedgerRelation);
		ctl.hcxt = CacheMemoryContext;
		ledger_relations = hash_create("medchain ledger relations", 16, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(ledger_relations_invalidate, (Datum) 0);
	}

	entry = hash_search(ledger_relations, &relid, HASH_ENTER, &found);
	if (found && entry->valid)
		return entry;
	entry->relid = relid;
	if (found)
		ledger_relation_forget(entry);
	entry->cxt = NULL;
	entry->find_plan = NULL;
	entry->valid = false;

	PG_TRY();
	{
		Relation	ledger;

		if (!OidIsValid(ledger_relid))
			ledger_relid = ledger_table_of(relid);
		ledger = ledger_relid == relid ? rel : table_open(ledger_relid, AccessShareLock);

		ledger_relation_build(entry, rel, ledger);
		if (ledger != rel)
			table_close(ledger, AccessShareLock);
	}
	PG_CATCH();
	{
		ledger_relation_forget(entry);
		hash_search(ledger_relations, &relid, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return entry;
}

LedgerRelation *
ledger_relation_get(Relation rel)
{
	return ledger_relation_lookup(rel, InvalidOid);
}

/*
 * The same for a table known to hold rows of ledger table ledger_relid:
 * no need to read the registry, which a parallel worker cannot do.
 */
LedgerRelation *
ledger_relation_get_in(Relation rel, Oid ledger_relid)
{
	return ledger_relation_lookup(rel, ledger_relid);
}
