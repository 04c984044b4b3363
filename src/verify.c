/*-------------------------------------------------------------------------
 *
 * verify.c
 *	  medchain.verify(): integrity checks that name what was altered,
 *	  deleted or slipped in.
 *
 * What verify() relies on is verified too.  Which tables are ledgers, since
 * when and with which key, it reads from the journal's hashed events
 * (enablement.c); the registry is a claim checked against them, and a
 * table the journal says is a ledger is checked whatever the registry
 * says.  The pending queue and the batches are checked against the
 * unsealed entries, and a block's first and last entry ids against its
 * entries.
 *
 * One sequential pass over the journal, then over the batch rows (each
 * batched entry taken as the journal row seal() would make of it), does
 * three jobs at once:
 *
 * - each entry is re-hashed and compared with its entry_hash;
 * - each sealed entry's leaf goes into its block's Merkle tree, in
 *   leaf_index order, built as the leaves arrive (merkle.c), so a block is
 *   checked against its root as soon as all its entries are in;
 * - each entry of a checked table's current enablement is paired with the
 *   table's rows, which stream alongside in heap order (row_stream.c), by
 *   the canonical text of its row key; the pair's hashes must agree.  Rows
 *   are appended in about the order their entries are, so the next row
 *   almost always pairs at once; what does not pair waits in a small
 *   table, and when too much waits it spills into a sort, so memory does
 *   not grow with the table.  What is left at the end is a row_missing or
 *   a row_unrecorded, or, when a leftover entry and a leftover row hash
 *   alike, one entry whose row_key was rewritten.
 *
 * A second, short pass checks the block headers and their links
 * (chain_rules.c).
 *
 * Each tamper is reported once, where it happened: a row altered behind
 * the triggers is row_modified, not also a broken entry; an entry that no
 * longer hashes right is entry_modified, and its row is not compared with
 * it; a block whose header was altered is block_modified, and neither its
 * entries nor the next block's link to it are reported too; an entry
 * moved to another block is named by the block whose Merkle root it
 * completes.
 *
 * Everything is read with one snapshot, so a row and its entry (written in
 * one transaction) are seen together or not at all; nothing is written,
 * so verify() runs on a hot standby.  What cannot be checked (a table
 * that is gone, a key that is no longer what it was) is a finding, and
 * the rest is checked all the same.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "port/pg_bswap.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "sort_compat.h"
#include "utils/tuplestore.h"

#include "block.h"
#include "canonical_json.h"
#include "chain_keys.h"
#include "chain_rules.h"
#include "enablement.h"
#include "heap_prefetch.h"
#include "entry_batches.h"
#include "journal.h"
#include "ledger_cache.h"
#include "merkle.h"
#include "pace.h"
#include "partitions.h"
#include "privileges.h"
#include "recover.h"
#include "registry.h"
#include "row_key.h"
#include "row_stream.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_verify);

/* Unpaired rows and entries a table check holds in memory before spilling. */
#define UNPAIRED_LIMIT 100000

/* Leftovers matched by hash at the end; beyond this they are reported as they are. */
#define LEFTOVER_LIMIT 10000

/* A schema-qualified name: two quoted identifiers, a dot, the NUL. */
#define RELATION_NAME_LEN (2 * (2 * NAMEDATALEN + 2) + 2)

/* ---------- findings ---------- */

typedef struct Findings
{
	Tuplestorestate *store;
	TupleDesc	desc;
	HTAB	   *reported_entries;	/* entry ids named by an entry_modified */
	MemoryContext cxt;			/* lives as long as verify() */
} Findings;


/* entry_id and block_height are NULL when negative. */
static void
report(Findings *findings, const char *finding, const char *relation,
	   Jsonb *row_key, int64 entry_id, int64 block_height, const char *detail)
{
	Datum		values[6];
	bool		isnull[6] = {false, relation == NULL, row_key == NULL,
	entry_id < 0, block_height < 0, detail == NULL};

	values[0] = CStringGetTextDatum(finding);
	values[1] = relation ? CStringGetTextDatum(relation) : (Datum) 0;
	values[2] = row_key ? JsonbPGetDatum(row_key) : (Datum) 0;
	values[3] = Int64GetDatum(entry_id);
	values[4] = Int64GetDatum(block_height);
	values[5] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	tuplestore_putvalues(findings->store, findings->desc, values, isnull);
}

/* Report an entry once as entry_modified; false if it was reported already. */
static bool
report_entry(Findings *findings, const char *relation, Jsonb *row_key,
			 int64 entry_id, int64 block_height, const char *detail)
{
	bool		found;

	hash_search(findings->reported_entries, &entry_id, HASH_ENTER, &found);
	if (found)
		return false;
	report(findings, "entry_modified", relation, row_key, entry_id, block_height, detail);
	return true;
}

static bool
entry_reported(Findings *findings, int64 entry_id)
{
	return hash_search(findings->reported_entries, &entry_id, HASH_FIND, NULL) != NULL;
}

/* ---------- pairing a table's entries with its rows ---------- */

/* An entry or a row that waits for its other half, by the digest of its key. */
typedef struct Unpaired
{
	uint8		key_digest[MC_HASH_LEN];	/* hash key */
	char	   *key;
	uint32		key_len;
	/* an entry */
	int64		entry_id;
	int64		block_height;
	int			version;
	bool		altered;		/* fails its own hash: reported, not compared */
	uint8		row_hash[MC_HASH_LEN];
	EntryKind	kind;			/* an altered entry's is ENTRY_KIND_OTHER */
	int64		supersedes;
	bool		superseded;		/* versioned tables: a later version replaced it */
	/* a row */
	uint8		hash[MC_HASH_LEN];
	uint8		hash_v1[MC_HASH_LEN];
} Unpaired;

typedef struct TableCheck
{
	char		relation[RELATION_NAME_LEN];	/* as in medchain.entries; hash key */
	Oid			relid;
	Relation	rel;
	BlockNumber blocks;			/* of its rows, its partitions' included */
	LedgerRelation *ledger;
	Enablement *enablement;		/* the current one */
	bool		with_v1;		/* its entries may be of format version 1 */
	RowStream  *stream;			/* the table's rows, in heap order */
	bool		versioned;		/* its enablement keeps replaced versions */
	char		history_name[RELATION_NAME_LEN];	/* versioned: the history table */
	Relation	history_rel;	/* versioned: NULL if it cannot be checked */
	RowStream  *history_stream;
	MemoryContext cxt;			/* lives as long as the check */
	MemoryContext unpaired_cxt; /* the two tables and the keys they hold */
	HTAB	   *entries;
	HTAB	   *rows;
	Tuplesortstate *spill;		/* what did not fit in the two tables */
} TableCheck;

typedef struct VerifyState
{
	Findings	findings;
	Snapshot	snapshot;
	Oid			only;			/* verify(tbl): that table's rows only */
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	List	   *registrations;	/* every row of the registry */
	HTAB	   *histories;		/* LedgerHistory by relation */
	HTAB	   *tables;			/* TableCheck by relation */
	TableCheck **checks;		/* the same, largest table first */
	TableCheck *last_check;		/* the table of the last entry met */
	int			nchecks;
	RowStreams *streams;
	List	   *late_relations; /* events of relations the registry does not name */
	List	   *registry_reported;	/* relations a registry finding named */
	Tuplesortstate *unsealed;	/* ids of entries without a block */
	Tuplesortstate *batched;	/* those of them that batch rows hold */
	struct ChainWalk *walk;		/* the walk over the journal, while it runs */
	TableCheck *late_check;		/* the late relation being checked */
	int64		head_height;	/* -1 without blocks */
	MemoryContext percall;		/* reset for every few entries and rows */
	EntryCheckBuffers entry_buffers;
	Datum	   *entry_values;	/* a journal tuple, deformed */
	bool	   *entry_isnull;
} VerifyState;

typedef struct HistoryEntry
{
	char		relation[RELATION_NAME_LEN];	/* hash key */
	LedgerHistory *history;
} HistoryEntry;

static void
unpaired_tables_create(TableCheck *check)
{
	HASHCTL		ctl;

	ctl.keysize = MC_HASH_LEN;
	ctl.hcxt = check->unpaired_cxt;
	ctl.entrysize = sizeof(Unpaired);
	check->entries = hash_create("medchain verify unpaired entries", 256, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	check->rows = hash_create("medchain verify unpaired rows", 256, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* What a paired entry and row must agree on: the row's hash in the entry's format. */
static void
pair_check(VerifyState *state, TableCheck *check, const Unpaired *entry,
		   const uint8 *row_hash, const uint8 *row_hash_v1)
{
	const uint8 *hash = entry->version == MC_FORMAT_V1 ? row_hash_v1 : row_hash;

	if (!entry->altered && memcmp(hash, entry->row_hash, MC_HASH_LEN) != 0)
		report(&state->findings, "row_modified", check->relation,
			   canonical_json_parse(entry->key, entry->key_len),
			   entry->entry_id, entry->block_height,
			   "the row no longer hashes to its entry's row_hash");
}

/*
 * Spill record: u32 key length (big-endian), the key, then 0 and an
 * entry's fields or 1 and a row's hashes.  Sorted bytewise, the records
 * of one key lie together, its entries first.
 */
#define SPILL_ENTRY 0
#define SPILL_ROW 1
#define SPILL_HISTORY_ROW 2		/* a row of a versioned table's history table */

static void
spill_one(TableCheck *check, const Unpaired *item, uint8 side)
{
	StringInfoData buf;
	uint32		be_len = pg_hton32(item->key_len);
	bytea	   *datum;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (char *) &be_len, 4);
	appendBinaryStringInfo(&buf, item->key, item->key_len);
	appendStringInfoChar(&buf, (char) side);
	if (side == SPILL_ENTRY)
	{
		appendBinaryStringInfo(&buf, (char *) &item->entry_id, sizeof(int64));
		appendBinaryStringInfo(&buf, (char *) &item->block_height, sizeof(int64));
		appendBinaryStringInfo(&buf, (char *) &item->version, sizeof(int));
		appendStringInfoChar(&buf, item->altered ? 1 : 0);
		appendBinaryStringInfo(&buf, (char *) item->row_hash, MC_HASH_LEN);
		appendBinaryStringInfo(&buf, (char *) &item->kind, sizeof(EntryKind));
		appendBinaryStringInfo(&buf, (char *) &item->supersedes, sizeof(int64));
	}
	else
	{
		appendBinaryStringInfo(&buf, (char *) item->hash, MC_HASH_LEN);
		appendBinaryStringInfo(&buf, (char *) item->hash_v1, MC_HASH_LEN);
	}
	datum = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(datum, VARHDRSZ + buf.len);
	memcpy(VARDATA(datum), buf.data, buf.len);
	tuplesort_putdatum(check->spill, PointerGetDatum(datum), false);
	pfree(datum);
	pfree(buf.data);
}

static void
spill_begin(TableCheck *check)
{
	MemoryContext old;

	if (check->spill != NULL)
		return;
	old = MemoryContextSwitchTo(check->cxt);
	check->spill = tuplesort_begin_datum(BYTEAOID, ByteaLessOperator, InvalidOid,
										 false, work_mem, NULL, TUPLESORT_NONE);
	MemoryContextSwitchTo(old);
}

/* Move everything that waits into the sort, and start afresh. */
static void
spill_unpaired(TableCheck *check)
{
	HASH_SEQ_STATUS seq;
	Unpaired   *item;

	spill_begin(check);
	hash_seq_init(&seq, check->entries);
	while ((item = hash_seq_search(&seq)) != NULL)
		spill_one(check, item, SPILL_ENTRY);
	hash_seq_init(&seq, check->rows);
	while ((item = hash_seq_search(&seq)) != NULL)
		spill_one(check, item, SPILL_ROW);
	MemoryContextReset(check->unpaired_cxt);
	unpaired_tables_create(check);
}

static Unpaired *
wait_in(TableCheck *check, HTAB *table, const char *key, uint32 key_len,
		const uint8 digest[MC_HASH_LEN])
{
	bool		found;
	Unpaired   *item = hash_search(table, digest, HASH_ENTER, &found);

	if (!found)
	{
		item->key = MemoryContextAlloc(check->unpaired_cxt, key_len + 1);
		memcpy(item->key, key, key_len);
		item->key[key_len] = '\0';
		item->key_len = key_len;
	}
	return item;
}

static void
spill_if_full(TableCheck *check)
{
	if (hash_get_num_entries(check->entries) + hash_get_num_entries(check->rows) >= UNPAIRED_LIMIT)
		spill_unpaired(check);
}

/* A row from the stream: pair it with a waiting entry, or let it wait. */
/*
 * A row of a versioned table, or of its history table, goes straight into
 * the sort: which entry a row pairs with depends on every entry of its
 * key, which the walk meets in no particular order.
 */
static void
spill_row(TableCheck *check, const RowRecord *row, uint8 side)
{
	Unpaired	item;

	memset(&item, 0, sizeof(item));
	item.key = (char *) row->key;
	item.key_len = row->key_len;
	memcpy(item.hash, row->hash, MC_HASH_LEN);
	memcpy(item.hash_v1, row->hash_v1, MC_HASH_LEN);
	spill_begin(check);
	spill_one(check, &item, side);
}

static void
take_row(VerifyState *state, TableCheck *check, const RowRecord *row)
{
	uint8		digest[MC_HASH_LEN];
	Unpaired   *item;

	if (check->versioned)
	{
		spill_row(check, row, SPILL_ROW);
		return;
	}
	mc_sha256(row->key, row->key_len, digest);
	if (hash_get_num_entries(check->entries) > 0 &&
		(item = hash_search(check->entries, digest, HASH_FIND, NULL)) != NULL)
	{
		pair_check(state, check, item, row->hash, row->hash_v1);
		hash_search(check->entries, digest, HASH_REMOVE, NULL);
		return;
	}
	item = wait_in(check, check->rows, row->key, row->key_len, digest);
	memcpy(item->hash, row->hash, MC_HASH_LEN);
	memcpy(item->hash_v1, row->hash_v1, MC_HASH_LEN);
	spill_if_full(check);
}

/*
 * An entry of the table's current enablement: pair it with a waiting row,
 * else with the next row of the scan (the usual case), else let it wait.
 */
static void
take_entry(VerifyState *state, TableCheck *check, const Unpaired *entry)
{
	uint8		digest[MC_HASH_LEN];
	RowRecord	row;
	Unpaired   *item;
	bool		digested = false;

	if (check->versioned)
	{
		spill_begin(check);
		spill_one(check, entry, SPILL_ENTRY);
		return;
	}
	if (hash_get_num_entries(check->rows) > 0)
	{
		mc_sha256(entry->key, entry->key_len, digest);
		digested = true;
		if ((item = hash_search(check->rows, digest, HASH_FIND, NULL)) != NULL)
		{
			pair_check(state, check, entry, item->hash, item->hash_v1);
			hash_search(check->rows, digest, HASH_REMOVE, NULL);
			return;
		}
	}
	if (row_stream_next(check->stream, &row))
	{
		if (row.key_len == entry->key_len && memcmp(row.key, entry->key, row.key_len) == 0)
		{
			pair_check(state, check, entry, row.hash, row.hash_v1);
			return;
		}
		take_row(state, check, &row);
	}
	if (!digested)
		mc_sha256(entry->key, entry->key_len, digest);
	item = wait_in(check, check->entries, entry->key, entry->key_len, digest);
	item->entry_id = entry->entry_id;
	item->block_height = entry->block_height;
	item->version = entry->version;
	item->altered = entry->altered;
	memcpy(item->row_hash, entry->row_hash, MC_HASH_LEN);
	spill_if_full(check);
}

/* ---------- what is left unpaired ---------- */

typedef struct Leftovers
{
	List	   *entries;		/* of Unpaired * */
	List	   *rows;
	bool		overflowed;		/* some were reported as they came */
} Leftovers;

static Unpaired *
unpaired_copy(const Unpaired *item)
{
	Unpaired   *copy = palloc(sizeof(Unpaired));

	*copy = *item;
	copy->key = pnstrdup(item->key, item->key_len);
	return copy;
}

static void
report_row_missing(VerifyState *state, TableCheck *check, const Unpaired *entry)
{
	if (entry->altered)
		return;					/* reported with its own finding */
	report(&state->findings, "row_missing", check->relation,
		   canonical_json_parse(entry->key, entry->key_len), entry->entry_id, entry->block_height,
		   "the recorded row's key is gone from the table");
}

static void
report_row_unrecorded(VerifyState *state, TableCheck *check, const Unpaired *row)
{
	report(&state->findings, "row_unrecorded", check->relation,
		   canonical_json_parse(row->key, row->key_len), -1, -1,
		   "the row has no entry in medchain.entries");
}

static void
leftover_add(VerifyState *state, TableCheck *check, Leftovers *left,
			 const Unpaired *item, bool is_row)
{
	MemoryContext old;

	if (list_length(left->entries) + list_length(left->rows) >= LEFTOVER_LIMIT)
	{
		left->overflowed = true;
		if (is_row)
			report_row_unrecorded(state, check, item);
		else
			report_row_missing(state, check, item);
		return;
	}
	old = MemoryContextSwitchTo(check->cxt);
	if (is_row)
		left->rows = lappend(left->rows, unpaired_copy(item));
	else
		left->entries = lappend(left->entries, unpaired_copy(item));
	MemoryContextSwitchTo(old);
}

static void
spill_record_read(Datum datum, Unpaired *item, uint8 *side)
{
	bytea	   *b = DatumGetByteaPP(datum);
	const char *p = VARDATA_ANY(b);
	uint32		be_len;

	memcpy(&be_len, p, 4);
	item->key_len = pg_ntoh32(be_len);
	item->key = (char *) p + 4;
	p += 4 + item->key_len;
	*side = (uint8) *p++;
	if (*side == SPILL_ENTRY)
	{
		memcpy(&item->entry_id, p, sizeof(int64));
		memcpy(&item->block_height, p + sizeof(int64), sizeof(int64));
		memcpy(&item->version, p + 2 * sizeof(int64), sizeof(int));
		item->altered = p[2 * sizeof(int64) + sizeof(int)] != 0;
		p += 2 * sizeof(int64) + sizeof(int) + 1;
		memcpy(item->row_hash, p, MC_HASH_LEN);
		memcpy(&item->kind, p + MC_HASH_LEN, sizeof(EntryKind));
		memcpy(&item->supersedes, p + MC_HASH_LEN + sizeof(EntryKind), sizeof(int64));
		item->superseded = false;
	}
	else
	{
		memcpy(item->hash, p, MC_HASH_LEN);
		memcpy(item->hash_v1, p + MC_HASH_LEN, MC_HASH_LEN);
	}
}

static bool
spill_next(Tuplesortstate *sort, Datum *datum, Unpaired *item, uint8 *side)
{
	if (!sort_next_datum(sort, datum))
		return false;
	spill_record_read(*datum, item, side);
	return true;
}

/*
 * The sorted spill, one key at a time: its entries pair with its rows in
 * turn; whatever of a key does not pair is left over.  A key's records
 * and entries live in percall, reset when the key is done.
 */
static void
merge_spill(VerifyState *state, TableCheck *check, Leftovers *left)
{
	Datum		datum;
	Unpaired	item;
	uint8		side;
	bool		more;
	char	   *key = NULL;
	uint32		key_len = 0;
	List	   *entries = NIL;
	ListCell   *lc;

	tuplesort_performsort(check->spill);
	for (;;)
	{
		more = spill_next(check->spill, &datum, &item, &side);
		if (key != NULL &&
			(!more || item.key_len != key_len || memcmp(item.key, key, key_len) != 0))
		{
			foreach(lc, entries)
				leftover_add(state, check, left, lfirst(lc), false);
			entries = NIL;
			key = NULL;
			MemoryContextReset(state->percall);
		}
		if (!more)
			break;
		CHECK_FOR_INTERRUPTS();
		if (key == NULL)
		{
			key = MemoryContextStrdup(state->percall, pnstrdup(item.key, item.key_len));
			key_len = item.key_len;
		}
		item.key = key;
		if (side == SPILL_ENTRY)
		{
			MemoryContext old = MemoryContextSwitchTo(state->percall);

			entries = lappend(entries, unpaired_copy(&item));
			MemoryContextSwitchTo(old);
		}
		else if (entries != NIL)
		{
			pair_check(state, check, linitial(entries), item.hash, item.hash_v1);
			entries = list_delete_first(entries);
		}
		else
			leftover_add(state, check, left, &item, true);
		pfree(DatumGetPointer(datum));
	}
	tuplesort_end(check->spill);
	check->spill = NULL;
}

/* ---------- the versions of a versioned table's rows ---------- */

/* The records of one key of a versioned table, as the sort gives them. */
typedef struct KeyRecords
{
	char	   *key;
	uint32		key_len;
	List	   *entries;		/* of Unpaired *: versions and deletes */
	List	   *rows;			/* the table's row with the key, if any */
	List	   *history_rows;	/* the history table's rows with the key */
} KeyRecords;

static void
report_history(VerifyState *state, TableCheck *check, const char *finding,
			   const KeyRecords *records, const Unpaired *entry, const char *detail)
{
	report(&state->findings, finding, check->history_name,
		   canonical_json_parse(records->key, records->key_len),
		   entry != NULL ? entry->entry_id : -1, entry != NULL ? entry->block_height : -1,
		   detail);
}

static void
report_version_link(VerifyState *state, TableCheck *check, const KeyRecords *records,
					const char *finding, const Unpaired *entry, const char *detail)
{
	report(&state->findings, finding, check->relation,
		   canonical_json_parse(records->key, records->key_len),
		   entry->entry_id, entry->block_height, detail);
}

static Unpaired *
key_version(const KeyRecords *records, int64 entry_id)
{
	ListCell   *lc;

	foreach(lc, records->entries)
	{
		Unpaired   *entry = lfirst(lc);

		if (entry->entry_id == entry_id && entry->kind != ENTRY_KIND_DELETE)
			return entry;
	}
	return NULL;
}

/*
 * Follow the supersedes links of the key's updates and deletes: each must
 * name a version of the same row, and no version may be replaced twice;
 * a delete's row_hash is that of the version it removes.
 */
static void
link_versions(VerifyState *state, TableCheck *check, const KeyRecords *records)
{
	ListCell   *lc;

	foreach(lc, records->entries)
	{
		Unpaired   *change = lfirst(lc);
		Unpaired   *target;

		if (change->altered || change->supersedes == 0 ||
			(change->kind != ENTRY_KIND_UPDATE && change->kind != ENTRY_KIND_DELETE))
			continue;
		target = key_version(records, change->supersedes);
		if (target == NULL)
			report_version_link(state, check, records, "version_link_broken", change,
								psprintf("it supersedes entry %lld, which is no version of this row in its enablement",
										 (long long) change->supersedes));
		else if (target->superseded)
			report_version_link(state, check, records, "version_forked", change,
								psprintf("it supersedes entry %lld, which another update or delete superseded already",
										 (long long) change->supersedes));
		else
		{
			target->superseded = true;
			if (change->kind == ENTRY_KIND_DELETE && !target->altered &&
				memcmp(change->row_hash, target->row_hash, MC_HASH_LEN) != 0)
				report_version_link(state, check, records, "version_link_broken", change,
									psprintf("its row_hash is not that of entry %lld, the version it removes",
											 (long long) change->supersedes));
		}
	}
}

/* Remove and return the first row of rows whose hash is entry's row_hash, or NULL. */
static Unpaired *
take_matching_row(List **rows, const Unpaired *entry)
{
	ListCell   *lc;

	foreach(lc, *rows)
	{
		Unpaired   *row = lfirst(lc);

		if (memcmp(row->hash, entry->row_hash, MC_HASH_LEN) == 0)
		{
			*rows = foreach_delete_current(*rows, lc);
			return row;
		}
	}
	return NULL;
}

/*
 * The key's current row pairs with its live version, the one no change
 * supersedes; the history rows pair, by hash, with the superseded
 * versions.  A superseded version and a history row left over together
 * are one altered history row.
 */
static void
resolve_versions(VerifyState *state, TableCheck *check, KeyRecords *records, Leftovers *left)
{
	List	   *live = NIL;
	List	   *replaced = NIL;
	ListCell   *lc;

	link_versions(state, check, records);
	foreach(lc, records->entries)
	{
		Unpaired   *entry = lfirst(lc);

		if (entry->kind == ENTRY_KIND_DELETE)
			continue;
		if (entry->superseded)
			replaced = lappend(replaced, entry);
		else
			live = lappend(live, entry);
	}

	/* the table's row: at most one, its key being unique */
	foreach(lc, live)
	{
		Unpaired   *entry = lfirst(lc);
		Unpaired   *row = records->rows != NIL ? linitial(records->rows) : NULL;

		if (row != NULL)
		{
			pair_check(state, check, entry, row->hash, row->hash_v1);
			records->rows = list_delete_first(records->rows);
		}
		else
			leftover_add(state, check, left, entry, false);
	}
	foreach(lc, records->rows)
		leftover_add(state, check, left, lfirst(lc), true);

	/* the history table's rows: those kept intact first, then the rest */
	if (check->history_rel == NULL)
		return;					/* reported once for the table */
	foreach(lc, replaced)
	{
		Unpaired   *entry = lfirst(lc);

		if (!entry->altered && take_matching_row(&records->history_rows, entry) != NULL)
			replaced = foreach_delete_current(replaced, lc);
	}
	foreach(lc, replaced)
	{
		Unpaired   *entry = lfirst(lc);

		if (records->history_rows != NIL)
		{
			records->history_rows = list_delete_first(records->history_rows);
			/* an altered entry is reported with its own finding; it still claims a row */
			if (!entry->altered)
				report_history(state, check, "row_modified", records, entry,
							   "the kept version no longer hashes to its entry's row_hash");
		}
		else if (!entry->altered)
			report_history(state, check, "row_missing", records, entry,
						   "the version this entry recorded, which a later change replaced, is gone from the history table");
	}
	foreach(lc, records->history_rows)
		report_history(state, check, "row_unrecorded", records, NULL,
					   "the history table holds a version that no replaced entry records");
}

/* The sorted records of a versioned table, one key at a time. */
static void
merge_versions(VerifyState *state, TableCheck *check, Leftovers *left)
{
	Datum		datum;
	Unpaired	item;
	uint8		side;
	bool		more;
	KeyRecords	records = {NULL, 0, NIL, NIL, NIL};

	tuplesort_performsort(check->spill);
	for (;;)
	{
		MemoryContext old;

		more = spill_next(check->spill, &datum, &item, &side);
		if (records.key != NULL &&
			(!more || item.key_len != records.key_len ||
			 memcmp(item.key, records.key, records.key_len) != 0))
		{
			resolve_versions(state, check, &records, left);
			records.key = NULL;
			records.entries = records.rows = records.history_rows = NIL;
			MemoryContextReset(state->percall);
		}
		if (!more)
			break;
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(state->percall);
		if (records.key == NULL)
		{
			records.key = pnstrdup(item.key, item.key_len);
			records.key_len = item.key_len;
		}
		item.key = records.key;
		if (side == SPILL_ENTRY)
			records.entries = lappend(records.entries, unpaired_copy(&item));
		else if (side == SPILL_ROW)
			records.rows = lappend(records.rows, unpaired_copy(&item));
		else
			records.history_rows = lappend(records.history_rows, unpaired_copy(&item));
		MemoryContextSwitchTo(old);
		pfree(DatumGetPointer(datum));
	}
	tuplesort_end(check->spill);
	check->spill = NULL;
}

/*
 * A leftover entry and a leftover row that hash alike are one tamper: the
 * entry's row_key was rewritten (and its hash recomputed), so it names no
 * row while its row has no entry that names it.
 */
static void
resolve_leftovers(VerifyState *state, TableCheck *check, Leftovers *left)
{
	ListCell   *le;
	ListCell   *lr;

	foreach(le, left->entries)
	{
		Unpaired   *entry = lfirst(le);
		Unpaired   *match = NULL;

		CHECK_FOR_INTERRUPTS();
		if (entry->altered)
			continue;			/* reported with its own finding */
		foreach(lr, left->rows)
		{
			Unpaired   *row = lfirst(lr);
			const uint8 *hash = entry->version == MC_FORMAT_V1 ? row->hash_v1 : row->hash;

			if (memcmp(hash, entry->row_hash, MC_HASH_LEN) == 0)
			{
				match = row;
				break;
			}
		}
		if (match != NULL)
		{
			report_entry(&state->findings, check->relation,
						 canonical_json_parse(entry->key, entry->key_len),
						 entry->entry_id, entry->block_height,
						 psprintf("its row_key names no row of the table; the row it records has key %s",
								  pnstrdup(match->key, match->key_len)));
			left->rows = list_delete_ptr(left->rows, match);
		}
		else
			report_row_missing(state, check, entry);
	}
	foreach(lr, left->rows)
		report_row_unrecorded(state, check, lfirst(lr));
}

static void
table_check_close(TableCheck *check)
{
	if (check->history_rel != NULL)
		table_close(check->history_rel, AccessShareLock);
	table_close(check->rel, AccessShareLock);
}

/* Rows left after the last entry, then everything still unpaired. */
static void
table_check_finish(VerifyState *state, TableCheck *check)
{
	RowRecord	row;
	Leftovers	left = {NIL, NIL, false};
	HASH_SEQ_STATUS seq;
	Unpaired   *item;

	while (row_stream_next(check->stream, &row))
	{
		CHECK_FOR_INTERRUPTS();
		take_row(state, check, &row);
		MemoryContextReset(state->percall);
	}
	if (check->versioned)
	{
		while (check->history_stream != NULL && row_stream_next(check->history_stream, &row))
		{
			CHECK_FOR_INTERRUPTS();
			spill_row(check, &row, SPILL_HISTORY_ROW);
		}
		if (check->spill != NULL)
			merge_versions(state, check, &left);
	}
	else if (check->spill != NULL)
	{
		spill_unpaired(check);
		merge_spill(state, check, &left);
	}
	else
	{
		hash_seq_init(&seq, check->entries);
		while ((item = hash_seq_search(&seq)) != NULL)
			leftover_add(state, check, &left, item, false);
		hash_seq_init(&seq, check->rows);
		while ((item = hash_seq_search(&seq)) != NULL)
			leftover_add(state, check, &left, item, true);
	}
	resolve_leftovers(state, check, &left);
	MemoryContextReset(check->unpaired_cxt);
}

/* ---------- the ledgers, from the journal, and the registry's claims ---------- */

/* The relation's history, loaded once; NULL for a name no table can have. */
static LedgerHistory *
history_of(VerifyState *state, const char *relation)
{
	HistoryEntry *entry;
	bool		found;

	if (strlen(relation) >= RELATION_NAME_LEN)
		return NULL;
	entry = hash_search(state->histories, relation, HASH_ENTER, &found);
	if (!found)
		entry->history = ledger_history_load(state->journal, state->attnums, relation,
											 state->snapshot);
	return entry->history;
}

static bool
history_known(VerifyState *state, const char *relation)
{
	return strlen(relation) < RELATION_NAME_LEN &&
		hash_search(state->histories, relation, HASH_FIND, NULL) != NULL;
}

static bool
same_names(List *a, List *b)
{
	ListCell   *la;
	ListCell   *lb;

	if (list_length(a) != list_length(b))
		return false;
	forboth(la, a, lb, b)
		if (strcmp(lfirst(la), lfirst(lb)) != 0)
			return false;
	return true;
}

static char *
names_text(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
	return buf.data;
}

static char *
relation_display_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}


static void
report_registry(VerifyState *state, const char *relation, char *detail)
{
	MemoryContext old = MemoryContextSwitchTo(state->findings.cxt);

	report(&state->findings, "registry_modified", relation, NULL, -1, -1, detail);
	state->registry_reported = lappend(state->registry_reported, pstrdup(relation));
	MemoryContextSwitchTo(old);
}

/* What one registration claims, against the journal. */
static void
check_registration(VerifyState *state, const Registration *reg, LedgerHistory *history)
{
	Enablement *e = history != NULL ? ledger_history_find(history, reg->enablement_id) : NULL;

	if (e == NULL)
	{
		report_registry(state, reg->relation,
						psprintf("registration %lld names enablement %lld, for which the journal has no enable event",
								 (long long) reg->registration_id, (long long) reg->enablement_id));
		return;
	}
	if (!reg->released && e->disable_entry_id != 0)
		report_registry(state, reg->relation,
						psprintf("registration %lld says the table is a ledger table, but the journal released enablement %lld in entry %lld",
								 (long long) reg->registration_id, (long long) e->enablement_id,
								 (long long) e->disable_entry_id));
	if (!reg->released && reg->enabling != enablement_enabling(e) && e->disable_entry_id == 0)
		report_registry(state, reg->relation,
						reg->enabling ?
						psprintf("registration %lld says the table is being enabled, but the journal says the baseline of enablement %lld is complete",
								 (long long) reg->registration_id, (long long) e->enablement_id) :
						psprintf("registration %lld says the table is enabled, but the journal has no complete baseline for enablement %lld",
								 (long long) reg->registration_id, (long long) e->enablement_id));
	if (reg->released && e->disable_entry_id == 0)
		report_registry(state, reg->relation,
						psprintf("registration %lld says the table was released, but the journal has no disable event for enablement %lld",
								 (long long) reg->registration_id, (long long) e->enablement_id));
	if (e->event_intact && !same_names(reg->key_columns, e->key_columns))
		report_registry(state, reg->relation,
						psprintf("registration %lld names key columns (%s), the enable event (%s)",
								 (long long) reg->registration_id, names_text(reg->key_columns),
								 names_text(e->key_columns)));
	if (!reg->released && OidIsValid(reg->relid) &&
		reg->relid != ledger_relid_by_name(reg->relation))
		report_registry(state, reg->relation,
						psprintf("registration %lld points at table %s, not at %s",
								 (long long) reg->registration_id,
								 relation_display_name(reg->relid), reg->relation));
	if (e->event_intact && reg->versioned != e->versioned)
		report_registry(state, reg->relation,
						psprintf("registration %lld says the table is %s, the enable event %s",
								 (long long) reg->registration_id,
								 reg->versioned ? "versioned" : "append-only",
								 e->versioned ? "versioned" : "append-only"));
	if (e->event_intact && e->versioned && !reg->released &&
		(!OidIsValid(reg->history_relid) ||
		 reg->history_relid != ledger_relid_by_name(e->history_table)))
		report_registry(state, reg->relation,
						psprintf("registration %lld does not point at %s, the history table of the enable event",
								 (long long) reg->registration_id, e->history_table));
}

/* What the journal says of a relation that no active registration matches. */
static void
check_history_registered(VerifyState *state, LedgerHistory *history)
{
	ListCell   *lc;

	if (history->unreleased > 1)
		report_registry(state, history->relation,
						psprintf("the journal has %d enablements of the table that were never released: the registry was altered to let it be enabled again",
								 history->unreleased));
	if (history->current == NULL)
		return;
	/* a registration of the table was reported: that is the tamper */
	foreach(lc, state->registry_reported)
		if (strcmp(lfirst(lc), history->relation) == 0)
			return;
	foreach(lc, state->registrations)
	{
		Registration *reg = lfirst(lc);

		if (!reg->released && reg->enablement_id == history->current->enablement_id &&
			strcmp(reg->relation, history->relation) == 0)
			return;
	}
	report_registry(state, history->relation,
					psprintf("the journal says the table is a ledger table since enablement %lld, but no active registration says so",
							 (long long) history->current->enablement_id));
}

/*
 * Why the table's rows cannot be checked against its current enablement
 * (the table is gone, or its key is no longer the recorded one); NULL if
 * they can.
 */
static char *
table_unverifiable(Relation rel, const Enablement *e)
{
	TupleDesc	desc;
	Oid			keyindex;
	AttrNumber *attnums;
	List	   *names = NIL;
	int			nkeys;
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return "it is no longer an ordinary table";
	keyindex = ledger_key_index(rel);
	if (!OidIsValid(keyindex))
		return "it has no primary key or replica identity index any more";
	desc = RelationGetDescr(rel);
	attnums = ledger_key_attnums(keyindex, &nkeys);
	for (i = 0; i < nkeys; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, attnums[i] - 1);

		if (!type_supported_as_key(attr->atttypid))
			return psprintf("its key column \"%s\" is now of type %s, which has no exact JSON form",
							NameStr(attr->attname), format_type_be(attr->atttypid));
		names = lappend(names, pstrdup(NameStr(attr->attname)));
	}
	/* an altered enable event is reported as such; its key cannot be told */
	if (e->event_intact && !same_names(names, e->key_columns))
		return psprintf("its key columns are (%s), not the (%s) it was enabled with",
						names_text(names), names_text(e->key_columns));
	return NULL;
}

/*
 * A versioned table's history table, checked along with it; when it is
 * gone or no longer a table, that is reported once and its rows are not
 * compared.
 */
static void
history_check_open(VerifyState *state, TableCheck *check)
{
	const Enablement *e = check->enablement;
	Oid			relid;

	check->versioned = e->versioned;
	check->history_rel = NULL;
	check->history_stream = NULL;
	if (!e->versioned)
		return;
	strlcpy(check->history_name, e->history_table, RELATION_NAME_LEN);
	relid = ledger_relid_by_name(e->history_table);
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
	{
		report(&state->findings, "table_unverifiable", check->history_name, NULL, -1, -1,
			   psprintf("the history table of ledger table %s does not exist, so the versions its updates and deletes replaced are not checked",
						check->relation));
		return;
	}
	check->history_rel = table_open(relid, AccessShareLock);
}

/* Open the check of a relation's rows against its current enablement, or report why not. */
static TableCheck *
table_check_open(VerifyState *state, LedgerHistory *history)
{
	Oid			relid = ledger_relid_by_name(history->relation);
	Relation	rel;
	char	   *why;
	TableCheck *check;
	bool		found;

	if (!OidIsValid(relid))
	{
		report(&state->findings, "table_unverifiable", history->relation, NULL, -1, -1,
			   "the ledger table does not exist");
		return NULL;
	}
	if (OidIsValid(state->only) && relid != state->only)
		return NULL;
	/* its rows are not all recorded yet: nothing to pair them with */
	if (enablement_enabling(history->current))
	{
		report(&state->findings, "enable_incomplete", history->relation, NULL, -1, -1,
			   psprintf("the table is being enabled concurrently since enable event %lld and its baseline is not complete, so its rows are not checked; medchain.enable() with concurrently => true resumes it, medchain.disable() abandons it",
						(long long) history->current->enable_entry_id));
		return NULL;
	}
	rel = table_open(relid, AccessShareLock);
	if ((why = table_unverifiable(rel, history->current)) != NULL)
	{
		report(&state->findings, "table_unverifiable", history->relation, NULL, -1, -1,
			   psprintf("its rows cannot be checked: %s", why));
		table_close(rel, AccessShareLock);
		return NULL;
	}
	check = hash_search(state->tables, history->relation, HASH_ENTER, &found);
	check->relid = relid;
	check->rel = rel;
	check->blocks = ledger_blocks(rel);
	check->ledger = ledger_relation_get(rel);
	check->enablement = history->current;
	check->with_v1 = history->current->format_version == MC_FORMAT_V1;
	check->cxt = CurrentMemoryContext;
	check->unpaired_cxt = AllocSetContextCreate(CurrentMemoryContext, "medchain verify unpaired",
												ALLOCSET_DEFAULT_SIZES);
	check->spill = NULL;
	unpaired_tables_create(check);
	history_check_open(state, check);
	return check;
}

/*
 * The row streams of the checks: each table's, then each history
 * table's, which the checks read only at their end.
 */
static RowStreams *
check_streams_open(VerifyState *state, TableCheck **checks, int nchecks)
{
	Relation   *rels = palloc(sizeof(Relation) * Max(2 * nchecks, 1));
	bool	   *with_v1 = palloc0(sizeof(bool) * Max(2 * nchecks, 1));
	RowStreams *streams;
	int			count = 0;
	int			i;

	for (i = 0; i < nchecks; i++)
	{
		rels[count] = checks[i]->rel;
		with_v1[count++] = checks[i]->with_v1;
	}
	for (i = 0; i < nchecks; i++)
		if (checks[i]->history_rel != NULL)
			rels[count++] = checks[i]->history_rel;
	streams = row_streams_open(rels, with_v1, count, state->snapshot);
	count = nchecks;
	for (i = 0; i < nchecks; i++)
	{
		checks[i]->stream = &streams->streams[i];
		if (checks[i]->history_rel != NULL)
			checks[i]->history_stream = &streams->streams[count++];
	}
	return streams;
}

static int
check_larger_first(const ListCell *a, const ListCell *b)
{
	BlockNumber x = ((TableCheck *) lfirst(a))->blocks;
	BlockNumber y = ((TableCheck *) lfirst(b))->blocks;

	return (x < y) - (x > y);
}

/*
 * The registry's relations: their histories, the registry checked against
 * them, and a check of the rows of each that the journal says is a ledger
 * table now, with their row streams open.
 */
static void
ledgers_load(VerifyState *state)
{
	List	   *checks = NIL;
	ListCell   *lc;
	int			i;

	state->registrations = registry_all(state->snapshot);
	foreach(lc, state->registrations)
	{
		Registration *reg = lfirst(lc);

		check_registration(state, reg, history_of(state, reg->relation));
	}
	/* verify(tbl) checks the table whatever the registry says of it */
	if (OidIsValid(state->only))
		(void) history_of(state, relation_display_name(state->only));
	{
		HASH_SEQ_STATUS seq;
		HistoryEntry *entry;

		hash_seq_init(&seq, state->histories);
		while ((entry = hash_seq_search(&seq)) != NULL)
		{
			TableCheck *check;

			check_history_registered(state, entry->history);
			if (entry->history->current != NULL &&
				(check = table_check_open(state, entry->history)) != NULL)
				checks = lappend(checks, check);
		}
	}

	/* the largest first: they get the parallel workers */
	list_sort(checks, check_larger_first);
	state->nchecks = list_length(checks);
	state->checks = palloc(sizeof(TableCheck *) * Max(state->nchecks, 1));
	i = 0;
	foreach(lc, checks)
		state->checks[i++] = lfirst(lc);
	state->streams = check_streams_open(state, state->checks, state->nchecks);
}

/* ---------- blocks met during the walk ---------- */

/* Early leaves a block holds before it stops checking its root as they come. */
#define EARLY_LEAF_LIMIT 10000

/*
 * A block whose leaves are arriving.  The journal is read in physical
 * order, which is leaf order for all but a few entries (rows committed out
 * of order, a rewritten table); a leaf that arrives before its turn waits
 * in `early` until the leaves before it are in.  A block whose leaves do
 * not fit (a leaf_index taken twice or out of range, too many entries, a
 * root that does not match) is suspect: it is settled at the end, by its
 * entries in id order, where a moved entry can be told from an altered one.
 */
typedef struct OpenBlock
{
	int64		height;			/* hash key */
	bool		exists;
	bool		header_intact;	/* else the chain check reports the block */
	uint32		entry_count;
	uint8		merkle_root[MC_HASH_LEN];
	int64		first_entry_id; /* as stored */
	int64		last_entry_id;
	int64		min_id;			/* as met */
	int64		max_id;
	MerkleBuilder merkle;
	uint32		next_leaf;		/* the leaf_index the builder takes next */
	HTAB	   *early;			/* leaf_index -> entry hash, or NULL */
	bool		scrambled;		/* too many early leaves: recompute by index */
	bool		suspect;
	uint64		leaves;			/* entries met */
	uint64		explained;		/* of them, shown to belong to another block */
	bool		entry_reported; /* an entry of it was reported already */
} OpenBlock;

typedef struct EarlyLeaf
{
	uint32		leaf_index;		/* hash key */
	uint8		entry_hash[MC_HASH_LEN];
} EarlyLeaf;

typedef struct ChainWalk
{
	HTAB	   *open;
	OpenBlock  *last_block;		/* the open block of the last entry */
	Bitmapset  *seen;			/* heights with at least one entry */
	MemoryContext cxt;			/* outlives the walk, unlike each entry's */
	Snapshot	snapshot;
} ChainWalk;

/* The open block of that height; NULL if the block was complete already. */
static OpenBlock *
block_open_for(ChainWalk *walk, int64 height)
{
	bool		found;
	OpenBlock  *block;
	BlockRow	row;

	if (walk->last_block != NULL && walk->last_block->height == height)
		return walk->last_block;
	block = hash_search(walk->open, &height, HASH_FIND, NULL);
	if (block != NULL)
		return walk->last_block = block;
	if (height <= PG_INT32_MAX && bms_is_member((int) height, walk->seen))
		return NULL;

	block = hash_search(walk->open, &height, HASH_ENTER, &found);
	memset(((char *) block) + sizeof(int64), 0, sizeof(OpenBlock) - sizeof(int64));
	walk->last_block = block;
	block->exists = block_row_fetch(height, walk->snapshot, &row);
	block->header_intact = block->exists &&
		block_integrity_problem(&row, MC_FLOOR_UNKNOWN) == NULL;
	if (block->exists)
	{
		block->entry_count = row.header.entry_count;
		memcpy(block->merkle_root, row.header.merkle_root, MC_HASH_LEN);
		block->first_entry_id = row.first_entry_id;
		block->last_entry_id = row.last_entry_id;
	}
	block->min_id = PG_INT64_MAX;
	block->max_id = PG_INT64_MIN;
	merkle_begin(&block->merkle);
	if (height <= PG_INT32_MAX)
	{
		MemoryContext old = MemoryContextSwitchTo(walk->cxt);

		walk->seen = bms_add_member(walk->seen, (int) height);
		MemoryContextSwitchTo(old);
	}
	return block;
}

static void
early_leaves_drop(OpenBlock *block)
{
	if (block->early != NULL)
		hash_destroy(block->early);
	block->early = NULL;
}

/* Give the builder the leaf at `leaf`, then any early ones it unblocks. */
static void
block_add_leaf(ChainWalk *walk, OpenBlock *block, int32 leaf, int64 entry_id,
			   const uint8 entry_hash[MC_HASH_LEN])
{
	bool		found;
	EarlyLeaf  *early;

	if (leaf < (int32) block->next_leaf || (uint32) leaf >= block->entry_count)
	{
		block->suspect = true;
		return;
	}
	if (block->scrambled)
		return;
	if ((uint32) leaf > block->next_leaf)
	{
		if (block->early == NULL)
		{
			HASHCTL		ctl;

			ctl.keysize = sizeof(uint32);
			ctl.entrysize = sizeof(EarlyLeaf);
			ctl.hcxt = walk->cxt;
			block->early = hash_create("medchain verify early leaves", 64, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		}
		early = hash_search(block->early, &leaf, HASH_ENTER, &found);
		if (found)
			block->suspect = true;
		memcpy(early->entry_hash, entry_hash, MC_HASH_LEN);
		if (hash_get_num_entries(block->early) > EARLY_LEAF_LIMIT)
		{
			block->scrambled = true;
			early_leaves_drop(block);
		}
		return;
	}
	merkle_add_entry(&block->merkle, entry_hash);
	block->next_leaf++;
	while (block->early != NULL &&
		   (early = hash_search(block->early, &block->next_leaf, HASH_FIND, NULL)) != NULL)
	{
		merkle_add_entry(&block->merkle, early->entry_hash);
		hash_search(block->early, &block->next_leaf, HASH_REMOVE, NULL);
		block->next_leaf++;
	}
}

static void
add_leaf_in_order(void *arg, const uint8 *entry_hash)
{
	static const uint8 no_hash[MC_HASH_LEN];

	/* a malformed hash was reported with its entry; the root will not match */
	merkle_add_entry((MerkleBuilder *) arg, entry_hash ? entry_hash : no_hash);
}

/*
 * The root of a block whose leaves came too far out of order: its entries
 * again, through the primary key, in entry_id order.
 */
static void
block_root_in_id_order(VerifyState *state, const OpenBlock *block, uint8 root[MC_HASH_LEN])
{
	MerkleBuilder merkle;

	merkle_begin(&merkle);
	journal_block_entry_hashes(state->journal, state->attnums, state->snapshot, block->height,
							   block->first_entry_id, block->last_entry_id,
							   add_leaf_in_order, &merkle);
	merkle_root(&merkle, root);
}

/* first_entry_id and last_entry_id are not hashed: they must be the block's entries' ids. */
static void
check_entry_range(VerifyState *state, const OpenBlock *block, int64 min_id, int64 max_id)
{
	if (min_id != block->first_entry_id || max_id != block->last_entry_id)
		report(&state->findings, "block_modified", NULL, NULL, -1, block->height,
			   psprintf("its first_entry_id and last_entry_id (%lld, %lld) are not the ids of its first and last entries (%lld, %lld)",
						(long long) block->first_entry_id, (long long) block->last_entry_id,
						(long long) min_id, (long long) max_id));
}

/*
 * All its entries are in, and they fit: compare with the header.  Returns
 * false if the root does not match, which makes the block suspect.
 */
static bool
block_close(VerifyState *state, OpenBlock *block)
{
	uint8		root[MC_HASH_LEN];

	if (block->entry_reported)
		return true;			/* that entry's finding says it all */
	if (block->scrambled)
		block_root_in_id_order(state, block, root);
	else
		merkle_root(&block->merkle, root);
	if (memcmp(root, block->merkle_root, MC_HASH_LEN) != 0)
		return false;
	check_entry_range(state, block, block->min_id, block->max_id);
	return true;
}

static void
block_forget(ChainWalk *walk, OpenBlock *block)
{
	early_leaves_drop(block);
	if (walk->last_block == block)
		walk->last_block = NULL;
	hash_search(walk->open, &block->height, HASH_REMOVE, NULL);
}

/* An entry sealed in block `height`, as the walk meets it. */
static void
walk_sealed_entry(VerifyState *state, ChainWalk *walk, int64 height, int64 entry_id,
				  int32 leaf, const uint8 *entry_hash, bool intact)
{
	OpenBlock  *block = block_open_for(walk, height);

	if (block == NULL)
	{
		/* the block was complete and its root matched without this entry */
		if (intact)
			report_entry(&state->findings, NULL, NULL, entry_id, height,
						 psprintf("its block_height says %lld, but that block's leaves were complete without it",
								  (long long) height));
		return;
	}
	block->leaves++;
	block->min_id = Min(block->min_id, entry_id);
	block->max_id = Max(block->max_id, entry_id);
	if (!intact)
		block->entry_reported = true;
	if (!block->exists || !block->header_intact)
		return;					/* the chain check reports the block */
	if (block->leaves > block->entry_count)
		block->suspect = true;
	else if (intact && entry_hash != NULL)
		block_add_leaf(walk, block, leaf, entry_id, entry_hash);
	if (block->leaves == block->entry_count && !block->suspect)
	{
		if (block_close(state, block))
			block_forget(walk, block);
		else
			block->suspect = true;
	}
}

/* ---------- settling suspect blocks at the end ---------- */

typedef struct RangeLeaf
{
	int64		entry_id;
	int64		height;
	int32		leaf_index;
	uint8		entry_hash[MC_HASH_LEN];
	bool		hash_valid;
} RangeLeaf;

static void
collect_range_leaf(void *arg, const RangeEntry *entry)
{
	List	  **leaves = arg;
	RangeLeaf  *leaf = palloc0(sizeof(RangeLeaf));

	leaf->entry_id = entry->entry_id;
	leaf->height = entry->block_height;
	leaf->leaf_index = entry->leaf_index;
	leaf->hash_valid = entry->entry_hash != NULL;
	if (leaf->hash_valid)
		memcpy(leaf->entry_hash, entry->entry_hash, MC_HASH_LEN);
	*leaves = lappend(*leaves, leaf);
}

/* Leaf choices tried at most, when several entries claim the same leaves. */
#define CHOICE_LIMIT 64

/* Does one candidate per leaf, chosen by pick[], give the block's root? */
static bool
choice_gives_root(const OpenBlock *block, List **candidates, const int *pick)
{
	MerkleBuilder merkle;
	uint8		root[MC_HASH_LEN];
	uint32		i;

	merkle_begin(&merkle);
	for (i = 0; i < block->entry_count; i++)
	{
		RangeLeaf  *leaf = list_nth(candidates[i], pick[i]);

		if (!leaf->hash_valid)
			return false;
		merkle_add_entry(&merkle, leaf->entry_hash);
	}
	merkle_root(&merkle, root);
	return memcmp(root, block->merkle_root, MC_HASH_LEN) == 0;
}

/*
 * Choose one candidate for every leaf so that the leaves give the block's
 * root, trying every combination while there are few; fills pick[].
 */
static bool
choose_leaves(const OpenBlock *block, List **candidates, int *pick)
{
	uint64		combinations = 1;
	uint64		tried;
	uint32		i;

	for (i = 0; i < block->entry_count; i++)
	{
		if (candidates[i] == NIL)
			return false;
		combinations *= list_length(candidates[i]);
		if (combinations > CHOICE_LIMIT)
			combinations = CHOICE_LIMIT;
		pick[i] = 0;
	}
	for (tried = 0; tried < combinations; tried++)
	{
		if (choice_gives_root(block, candidates, pick))
			return true;
		/* the next combination, like an odometer */
		for (i = 0; i < block->entry_count; i++)
		{
			if (++pick[i] < list_length(candidates[i]))
				break;
			pick[i] = 0;
		}
	}
	return false;
}

/*
 * A block that is short of entries or whose leaves do not fit: read the
 * entries whose ids its own and its claimants' span, in id order.  Each
 * leaf's candidates are the entries that claim it there, or, for a leaf
 * nobody claims, the entries that claim another block (or none) at that
 * leaf_index.  If a choice among them gives the block's root, every
 * candidate that moved is named once: a claimant left out says it is in
 * this block and is not, a candidate taken from elsewhere says it is
 * elsewhere and is here.  Otherwise an entry is missing, or one was
 * altered and its hash recomputed.
 */
static void
block_settle(VerifyState *state, ChainWalk *walk, OpenBlock *block)
{
	List	   *range = NIL;
	List	  **candidates;
	int		   *pick;
	ListCell   *lc;
	uint32		claimed = 0;
	uint32		i;
	int64		min_id = PG_INT64_MAX;
	int64		max_id = PG_INT64_MIN;

	if (block->entry_count == 0 || block->entry_count > MaxAllocSize / sizeof(List *))
		return;
	journal_entries_in_range(state->journal, state->attnums, state->snapshot,
							 Min(block->first_entry_id, block->min_id),
							 Max(block->last_entry_id, block->max_id),
							 collect_range_leaf, &range);
	candidates = palloc0(sizeof(List *) * block->entry_count);
	pick = palloc0(sizeof(int) * block->entry_count);
	foreach(lc, range)
	{
		RangeLeaf  *leaf = lfirst(lc);

		if (leaf->height == block->height && leaf->leaf_index >= 0 &&
			(uint32) leaf->leaf_index < block->entry_count)
			candidates[leaf->leaf_index] = lappend(candidates[leaf->leaf_index], leaf);
	}
	for (i = 0; i < block->entry_count; i++)
		if (candidates[i] != NIL)
			claimed++;
	foreach(lc, range)
	{
		RangeLeaf  *leaf = lfirst(lc);

		if (leaf->height != block->height && leaf->leaf_index >= 0 &&
			(uint32) leaf->leaf_index < block->entry_count &&
			(candidates[leaf->leaf_index] == NIL ||
			 ((RangeLeaf *) linitial(candidates[leaf->leaf_index]))->height != block->height))
			candidates[leaf->leaf_index] = lappend(candidates[leaf->leaf_index], leaf);
	}

	if (!choose_leaves(block, candidates, pick))
	{
		if (claimed < block->entry_count)
			report(&state->findings, "entry_missing", NULL, NULL, -1, block->height,
				   psprintf("block %lld has %u of its %u entries",
							(long long) block->height, claimed, block->entry_count));
		else if (!block->entry_reported)
			report(&state->findings, "entry_modified", NULL, NULL, -1, block->height,
				   "an entry of this block was altered and its entry_hash recomputed: the leaves no longer give the block's Merkle root");
		return;
	}

	for (i = 0; i < block->entry_count; i++)
	{
		RangeLeaf  *chosen = list_nth(candidates[i], pick[i]);

		min_id = Min(min_id, chosen->entry_id);
		max_id = Max(max_id, chosen->entry_id);
		if (chosen->height != block->height)
		{
			OpenBlock  *elsewhere;

			report_entry(&state->findings, NULL, NULL, chosen->entry_id, block->height,
						 chosen->height >= 0 ?
						 psprintf("its block_height says %lld, but it is leaf %u of block %lld",
								  (long long) chosen->height, i, (long long) block->height) :
						 psprintf("its block_height says it is not sealed, but it is leaf %u of block %lld",
								  i, (long long) block->height));
			if (chosen->height >= 0 &&
				(elsewhere = hash_search(walk->open, &chosen->height, HASH_FIND, NULL)) != NULL)
				elsewhere->explained++;
		}
	}
	foreach(lc, range)
	{
		RangeLeaf  *leaf = lfirst(lc);

		if (leaf->height == block->height &&
			(leaf->leaf_index < 0 || (uint32) leaf->leaf_index >= block->entry_count ||
			 list_nth(candidates[leaf->leaf_index], pick[leaf->leaf_index]) != leaf))
			report_entry(&state->findings, NULL, NULL, leaf->entry_id, block->height,
						 psprintf("its block_height says %lld, but that block's Merkle root holds its leaves without it",
								  (long long) block->height));
	}
	check_entry_range(state, block, min_id, max_id);
}

/* Blocks still open: settle the short ones first, they explain moved entries. */
static void
blocks_settle(VerifyState *state, ChainWalk *walk)
{
	HASH_SEQ_STATUS seq;
	OpenBlock  *block;
	int			pass;

	for (pass = 0; pass < 3; pass++)
	{
		hash_seq_init(&seq, walk->open);
		while ((block = hash_seq_search(&seq)) != NULL)
		{
			bool		short_block = block->exists && block->header_intact &&
				block->leaves < block->entry_count;
			bool		full_block = block->exists && block->header_intact && !short_block;

			CHECK_FOR_INTERRUPTS();
			if (pass == 0 && short_block)
				block_settle(state, walk, block);
			else if (pass == 1 && full_block)
				block_settle(state, walk, block);
			else if (pass == 2 && !block->exists && block->height > state->head_height &&
					 block->leaves > block->explained)
				report(&state->findings, "chain_broken", NULL, NULL, -1, block->height,
					   psprintf("%llu entries are sealed in block %lld, which does not exist",
								(unsigned long long) (block->leaves - block->explained),
								(long long) block->height));
			MemoryContextReset(state->percall);
		}
	}
	hash_seq_init(&seq, walk->open);
	while ((block = hash_seq_search(&seq)) != NULL)
		early_leaves_drop(block);
}

/* ---------- the walk over the journal ---------- */

/* The check of the entry's table, if it is checked; the last one is kept. */
static TableCheck *
table_check_for(VerifyState *state, Datum relation)
{
	text	   *t = DatumGetTextPP(relation);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *name;

	if (state->last_check != NULL && strlen(state->last_check->relation) == len &&
		memcmp(state->last_check->relation, VARDATA_ANY(t), len) == 0)
		return state->last_check;
	if (len >= RELATION_NAME_LEN)
		return NULL;
	name = text_to_cstring(t);
	state->last_check = hash_search(state->tables, name, HASH_FIND, NULL);
	return state->last_check;
}

/*
 * A row entry of a checked table's current enablement: pair it with its
 * row.  An altered entry (checked NULL, key the text of its row_key) still
 * claims its key, so that its row is not also called unrecorded.
 */
static void
offer_entry(VerifyState *state, TableCheck *check, const CheckedEntry *checked,
			int64 entry_id, int64 height, StringInfo key)
{
	Unpaired	entry;

	if (check == NULL ||
		(checked != NULL &&
		 !enablement_includes(check->enablement, checked->format_version, entry_id,
							  checked->enablement_id)))
		return;
	memset(&entry, 0, sizeof(entry));
	entry.key = key->data;
	entry.key_len = key->len;
	entry.entry_id = entry_id;
	entry.block_height = height;
	entry.altered = checked == NULL;
	if (checked != NULL)
	{
		entry.version = checked->format_version;
		memcpy(entry.row_hash, checked->row_hash, MC_HASH_LEN);
		entry.kind = checked->kind;
		entry.supersedes = checked->supersedes;
	}
	if (!check->versioned &&
		(entry.kind == ENTRY_KIND_UPDATE || entry.kind == ENTRY_KIND_DELETE))
	{
		report(&state->findings, "version_unexpected", check->relation,
			   canonical_json_parse(key->data, key->len), entry_id, height,
			   "it records an update or delete of an append-only table");
		return;
	}
	take_entry(state, check, &entry);
}

/*
 * One entry of the journal, or of a batch (batched: an entry a batch row
 * holds, which is its own queue row).
 */
static void
walk_entry(VerifyState *state, ChainWalk *walk, HeapTuple tuple, bool batched)
{
	TupleDesc	desc = RelationGetDescr(state->journal);
	Datum	   *values = state->entry_values;
	bool	   *isnull = state->entry_isnull;
	CheckedEntry checked;
	const char *problem;
	int64		entry_id;
	int64		height;
	const AttrNumber *a = state->attnums;

	heap_deform_tuple(tuple, desc, values, isnull);
	entry_id = isnull[a[COL_ENTRY_ID] - 1] ? -1 : DatumGetInt64(values[a[COL_ENTRY_ID] - 1]);
	height = isnull[a[COL_BLOCK_HEIGHT] - 1] ? -1 :
		DatumGetInt64(values[a[COL_BLOCK_HEIGHT] - 1]);

	problem = entry_integrity_problem(a, values, isnull, &state->entry_buffers, &checked);
	if (height >= 0)
	{
		bytea	   *hash = isnull[a[COL_ENTRY_HASH] - 1] ? NULL :
			DatumGetByteaPP(values[a[COL_ENTRY_HASH] - 1]);

		walk_sealed_entry(state, walk, height, entry_id,
						  isnull[a[COL_LEAF_INDEX] - 1] ? -1 :
						  DatumGetInt32(values[a[COL_LEAF_INDEX] - 1]),
						  hash != NULL && VARSIZE_ANY_EXHDR(hash) == MC_HASH_LEN ?
						  (const uint8 *) VARDATA_ANY(hash) : NULL,
						  problem == NULL);
	}
	else if (entry_id >= 0)
	{
		tuplesort_putdatum(state->unsealed, Int64GetDatum(entry_id), false);
		if (batched)
			tuplesort_putdatum(state->batched, Int64GetDatum(entry_id), false);
	}

	if (problem != NULL)
	{
		report_entry(&state->findings,
					 isnull[a[COL_RELATION] - 1] ? NULL : TextDatumGetCString(values[a[COL_RELATION] - 1]),
					 isnull[a[COL_ROW_KEY] - 1] ? NULL : DatumGetJsonbP(values[a[COL_ROW_KEY] - 1]),
					 entry_id, height, problem);
		if (!isnull[a[COL_RELATION] - 1] && !isnull[a[COL_ROW_KEY] - 1])
		{
			resetStringInfo(&state->entry_buffers.row_key);
			canonical_json_append(&state->entry_buffers.row_key,
								  DatumGetJsonbP(values[a[COL_ROW_KEY] - 1]));
			offer_entry(state, table_check_for(state, values[a[COL_RELATION] - 1]), NULL,
						entry_id, height, &state->entry_buffers.row_key);
		}
		return;
	}

	if (checked.is_event)
	{
		/* a relation the registry does not name: checked after the walk */
		char	   *relation = TextDatumGetCString(values[a[COL_RELATION] - 1]);

		if (!history_known(state, relation) &&
			!list_member(state->late_relations, makeString(relation)))
		{
			MemoryContext old = MemoryContextSwitchTo(walk->cxt);

			state->late_relations = lappend(state->late_relations, makeString(pstrdup(relation)));
			MemoryContextSwitchTo(old);
		}
		return;
	}
	offer_entry(state, table_check_for(state, values[a[COL_RELATION] - 1]), &checked,
				entry_id, height, &state->entry_buffers.row_key);
}

/* An entry of a late relation, offered to its rows; the walk reported a broken one. */
static void
late_offer(VerifyState *state, TableCheck *check, HeapTuple tuple)
{
	CheckedEntry checked;
	const AttrNumber *a = state->attnums;
	int64		height;

	heap_deform_tuple(tuple, RelationGetDescr(state->journal),
					  state->entry_values, state->entry_isnull);
	if (entry_integrity_problem(a, state->entry_values, state->entry_isnull,
								&state->entry_buffers, &checked) == NULL &&
		!checked.is_event)
	{
		height = state->entry_isnull[a[COL_BLOCK_HEIGHT] - 1] ? -1 :
			DatumGetInt64(state->entry_values[a[COL_BLOCK_HEIGHT] - 1]);
		offer_entry(state, check, &checked,
					DatumGetInt64(state->entry_values[a[COL_ENTRY_ID] - 1]), height,
					&state->entry_buffers.row_key);
	}
}

static void
late_batch(void *arg, EntryBatch *batch)
{
	VerifyState *state = arg;
	int			i;

	for (i = 0; i < batch->nentries; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(state->percall);

		late_offer(state, state->late_check,
				   batch_entry_tuple(state->journal, state->attnums, batch,
									 &batch->entries[i], -1, 0));
		MemoryContextSwitchTo(old);
		MemoryContextReset(state->percall);
	}
}

/*
 * A relation whose events the registry does not name at all (its rows
 * were deleted): its history and rows, checked now, its entries read
 * through the (relation, row_key) index.
 */
static void
late_relation_check(VerifyState *state, const char *relation)
{
	LedgerHistory *history = history_of(state, relation);
	TableCheck *check;
	JournalScan scan;
	HeapTuple	tuple;
	RowStreams *streams;

	if (history == NULL)
		return;
	check_history_registered(state, history);
	if (history->current == NULL || (check = table_check_open(state, history)) == NULL)
		return;
	streams = check_streams_open(state, &check, 1);

	journal_scan_relation(&scan, state->journal, state->attnums, state->snapshot, relation,
						  JOURNAL_ALL, NULL);
	while ((tuple = journal_scan_next(&scan)) != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(state->percall);

		medchain_pace(1);
		late_offer(state, check, tuple);
		MemoryContextSwitchTo(old);
	}
	journal_scan_end(&scan);
	state->late_check = check;
	entry_batches_scan(state->snapshot, relation, late_batch, state);
	table_check_finish(state, check);
	row_streams_close(streams);
	table_check_close(check);
}

/* ---------- the pending queue against the unsealed entries ---------- */

static bool
next_id(Tuplesortstate *sort, int64 *id)
{
	Datum		datum;

	if (!sort_next_datum(sort, &datum))
		return false;
	*id = DatumGetInt64(datum);
	return true;
}

/*
 * Every unsealed entry must be queued for sealing, once, and the queue
 * must name nothing else: a deleted queue row would leave its entry
 * unsealed for ever, where it can be rewritten unnoticed.
 */
static void
check_pending(VerifyState *state)
{
	Relation	pending = table_open(medchain_relation("pending"), AccessShareLock);
	TableScanDesc scan = table_beginscan(pending, state->snapshot, 0, NULL);
	Tuplesortstate *queued = tuplesort_begin_datum(INT8OID, Int8LessOperator, InvalidOid,
												   false, work_mem, NULL, TUPLESORT_NONE);
	HeapTuple	tuple;
	int64		entry = 0;
	int64		queue = 0;
	int64		last_queued = -1;
	bool		have_entry;
	bool		have_queue;

	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		id = heap_getattr(tuple, 1, RelationGetDescr(pending), &isnull);

		CHECK_FOR_INTERRUPTS();
		if (!isnull)
			tuplesort_putdatum(queued, id, false);
	}
	table_endscan(scan);
	table_close(pending, AccessShareLock);
	/* a batched entry is queued by its batch row */
	tuplesort_performsort(state->batched);
	while (next_id(state->batched, &entry))
		tuplesort_putdatum(queued, Int64GetDatum(entry), false);
	tuplesort_end(state->batched);

	tuplesort_performsort(queued);
	tuplesort_performsort(state->unsealed);
	have_entry = next_id(state->unsealed, &entry);
	have_queue = next_id(queued, &queue);
	while (have_entry || have_queue)
	{
		CHECK_FOR_INTERRUPTS();
		if (have_queue && queue == last_queued)
		{
			report(&state->findings, "queue_modified", NULL, NULL, queue, -1,
				   "the pending queue names this entry more than once");
			/* a batch row copied whole copies its entries too: one finding */
			if (have_entry && entry == queue)
				have_entry = next_id(state->unsealed, &entry);
			have_queue = next_id(queued, &queue);
		}
		else if (have_entry && (!have_queue || entry < queue))
		{
			if (!entry_reported(&state->findings, entry))
				report(&state->findings, "entry_unqueued", NULL, NULL, entry, -1,
					   psprintf("the entry is neither sealed nor queued for sealing: a row of medchain.pending was deleted; re-queue it with INSERT INTO medchain.pending SELECT entry_id, ctid FROM medchain.journal WHERE entry_id = %lld",
								(long long) entry));
			have_entry = next_id(state->unsealed, &entry);
		}
		else if (!have_entry || queue < entry)
		{
			report(&state->findings, "queue_modified", NULL, NULL, queue, -1,
				   "the pending queue names an entry that is sealed or does not exist");
			last_queued = queue;
			have_queue = next_id(queued, &queue);
		}
		else
		{
			last_queued = queue;
			have_entry = next_id(state->unsealed, &entry);
			have_queue = next_id(queued, &queue);
		}
	}
	tuplesort_end(queued);
	tuplesort_end(state->unsealed);
}

/* ---------- the chain of headers ---------- */

/*
 * A signed block whose header holds: its signature, then whether the chain
 * let its key sign it.
 */
static void
check_signature(VerifyState *state, const BlockRow *row, const ChainKeys *keys)
{
	const char *finding = "signature_invalid";
	const char *problem = block_signature_problem(row);
	bool		retired;

	if (problem == NULL && (problem = block_signer_problem(row, keys, &retired)) != NULL &&
		!retired)
		finding = "signer_unknown";
	if (problem != NULL)
		report(&state->findings, finding, NULL, NULL, -1, row->header.height,
			   psprintf("block %lld: %s", (long long) row->header.height, problem));
}

/*
 * None of a block's entries is in the journal.  A block taken back from a
 * peer after a restore from an old backup (recover.c) has its entry
 * hashes in medchain.recovered_blocks instead: its entries are lost, and
 * said so, as long as those hashes give its Merkle root.  Any other block
 * is missing its entries.
 */
static void
check_entries_absent(VerifyState *state, const BlockRow *row)
{
	int64		h = row->header.height;
	uint32		count;
	uint8		(*leaves)[MC_HASH_LEN] = recovered_block_leaves(h, &count);

	if (leaves == NULL)
		report(&state->findings, "entry_missing", NULL, NULL, -1, h,
			   psprintf("none of the block's %u entries is in medchain.entries",
						row->header.entry_count));
	else if (count != row->header.entry_count ||
			 !merkle_root_matches((const uint8 (*)[MC_HASH_LEN]) leaves, count,
								  row->header.merkle_root))
		report(&state->findings, "block_modified", NULL, NULL, -1, h,
			   "the entry hashes medchain.recovered_blocks keeps for it do not give its Merkle root");
	else
		report(&state->findings, "entries_lost", NULL, NULL, -1, h,
			   psprintf("block %lld was taken back from a peer after this node was restored from an older backup: its %u entries were recorded after that backup and are lost",
						(long long) h, count));
}

/*
 * The latest consensus check found that this node's own chain is not the
 * copy a quorum of its peers hold (consensus.c): the one finding verify()
 * cannot make from this node's tables alone, since a superuser who
 * rewrote rows can re-mine a chain that holds together.  The check's row
 * is a claim like any unhashed state: deleting it silences verify() only
 * until the replicator's next check writes it again.
 */
static void
check_consensus(VerifyState *state)
{
	uint64		i;

	/* a database whose objects predate consensus checks has none to read */
	if (!OidIsValid(get_relname_relid("consensus_results", medchain_namespace())))
		return;
	SPI_connect();
	medchain_spi_execute("SELECT r.first_divergent_height, r.detail FROM medchain.consensus_results r"
						 " JOIN medchain.blocks g ON g.height OPERATOR(pg_catalog.=) 0"
						 "  AND g.block_hash OPERATOR(pg_catalog.=) r.chain_id"
						 " WHERE r.verdict OPERATOR(pg_catalog.=) 'diverged'",
						 0, NULL, NULL, true, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		height = SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(state->findings.cxt);
		char	   *detail = psprintf("The latest consensus check found that the peers hold another chain than this node's: %s.",
									  SPI_getvalue(tuple, SPI_tuptable->tupdesc, 2));

		report(&state->findings, "chain_diverged", NULL, NULL, -1,
			   isnull ? -1 : DatumGetInt64(height), detail);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

/*
 * Headers in height order, by the chain rules (chain_rules.c): each block
 * alone, the genesis block, each link, each signature and its key.  A
 * block with entries none of which the walk met lost all of them.
 */
static void
check_chain(VerifyState *state, Bitmapset *seen)
{
	Relation	blocks = table_open(medchain_relation("blocks"), AccessShareLock);
	Relation	pkey = index_open(medchain_relation("blocks_pkey"), AccessShareLock);
	SysScanDesc scan = systable_beginscan_ordered(blocks, pkey, state->snapshot, 0, NULL);
	ChainKeys  *keys = chain_keys_load(state->journal, state->attnums, state->snapshot);
	HeapTuple	tuple;
	BlockRow	previous;
	bool		have_previous = false;
	bool		previous_intact = false;
	int64		first_signed = -1;
	int64		signed_from = chain_signed_from(keys);
	bool		have_genesis = false;
	uint8		genesis_hash[MC_HASH_LEN];
	int64		floor = MC_FLOOR_UNKNOWN;

	while ((tuple = systable_getnext_ordered(scan, ForwardScanDirection)) != NULL)
	{
		BlockRow	row;
		const char *problem;
		const char *link;
		int64		h;

		CHECK_FOR_INTERRUPTS();
		block_row_from_tuple(tuple, RelationGetDescr(blocks), &row);
		h = row.header.height;

		if (!have_previous)
		{
			link = chain_genesis_problem(&row);
			if (h == 0)
			{
				floor = chain_floor(&row.header);
				memcpy(genesis_hash, row.block_hash, MC_HASH_LEN);
				have_genesis = true;
			}
		}
		else
		{
			link = chain_link_problem(&previous, &row);
			/* a link to an altered block is that block's finding */
			if (link != NULL && h == previous.header.height + 1 && !previous_intact)
				link = NULL;
		}
		problem = block_integrity_problem(&row, floor);
		if (problem == NULL && have_previous && h == previous.header.height + 1)
			problem = chain_step_problem(&previous, &row);
		if (problem == NULL && have_genesis)
			problem = chain_id_problem(&row, genesis_hash);
		if (problem != NULL)
			report(&state->findings, "block_modified", NULL, NULL, -1, h, problem);
		if (link != NULL)
			report(&state->findings, "chain_broken", NULL, NULL, -1, h, link);
		/* an altered header is that finding; its signature is not checked too */
		if (problem == NULL)
			check_signature(state, &row, keys);
		link = first_signed >= 0 ? chain_unsigned_problem(first_signed, &row) :
			chain_announced_unsigned_problem(signed_from, &row);
		if (link != NULL)
			report(&state->findings, "block_unsigned", NULL, NULL, -1, h, link);
		if (row.header.format_version >= MC_BLOCK_FORMAT_SIGNED && first_signed < 0)
			first_signed = h;

		if (row.header.entry_count > 0 &&
			(h > PG_INT32_MAX || !bms_is_member((int) h, seen)))
			check_entries_absent(state, &row);

		previous = row;
		have_previous = true;
		previous_intact = (problem == NULL);
		MemoryContextReset(state->percall);
	}
	systable_endscan_ordered(scan);
	index_close(pkey, AccessShareLock);
	table_close(blocks, AccessShareLock);
}

/* ---------- medchain.verify() ---------- */

static int64
head_height(Snapshot snapshot)
{
	BlockRow	head;

	return block_head(snapshot, &head) ? head.header.height : -1;
}

/* A batch row that cannot be read is reported whole; its entries cannot be. */
static void
report_malformed_batch(VerifyState *state, const EntryBatch *batch)
{
	report(&state->findings, "entry_modified", batch->relation, NULL, -1, -1,
		   psprintf("entry batch (%u,%u) cannot be read: %s",
					ItemPointerGetBlockNumber(&batch->tid),
					ItemPointerGetOffsetNumber(&batch->tid), batch->malformed));
}

/* Is there a journal row with this id?  A batched entry must have none. */
static bool
journal_has_entry(VerifyState *state, int64 entry_id)
{
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&key, state->attnums[COL_ENTRY_ID], BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(entry_id));
	scan = systable_beginscan(state->journal, medchain_relation("entries_pkey"), true,
							  state->snapshot, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	return found;
}

/*
 * The entries of a batch row go through the walk as the journal rows
 * seal() will make of them; each is queued by being there.
 */
static void
walk_batch(void *arg, EntryBatch *batch)
{
	VerifyState *state = arg;
	int			i;

	if (batch->malformed != NULL)
		report_malformed_batch(state, batch);
	for (i = 0; i < batch->nentries; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(state->percall);
		const BatchEntry *entry = &batch->entries[i];

		CHECK_FOR_INTERRUPTS();
		medchain_pace(1);
		if (journal_has_entry(state, entry->entry_id))
			report(&state->findings, "queue_modified", batch->relation, NULL,
				   entry->entry_id, -1,
				   psprintf("entry batch (%u,%u) holds an entry that the journal has too",
							ItemPointerGetBlockNumber(&batch->tid),
							ItemPointerGetOffsetNumber(&batch->tid)));
		else
			walk_entry(state, state->walk,
					   batch_entry_tuple(state->journal, state->attnums, batch, entry, -1, 0),
					   true);
		MemoryContextSwitchTo(old);
		MemoryContextReset(state->percall);
	}
}

static void
walk_journal(VerifyState *state)
{
	TableScanDesc scan = table_beginscan(state->journal, state->snapshot, 0, NULL);
	ChainWalk	walk;
	HASHCTL		ctl;
	HeapTuple	tuple;
	uint64		entries_walked = 0;
	ListCell   *lc;
	int			i;

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(OpenBlock);
	ctl.hcxt = CurrentMemoryContext;
	walk.open = hash_create("medchain verify open blocks", 16, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	walk.last_block = NULL;
	walk.seen = NULL;
	walk.cxt = CurrentMemoryContext;
	walk.snapshot = state->snapshot;

	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(state->percall);

		CHECK_FOR_INTERRUPTS();
		medchain_pace(1);
		heap_scan_prefetch_next(scan);
		walk_entry(state, &walk, tuple, false);
		MemoryContextSwitchTo(old);
		/* what an entry leaves behind is small: free it in batches */
		if (++entries_walked % 1024 == 0)
			MemoryContextReset(state->percall);
	}
	table_endscan(scan);
	MemoryContextReset(state->percall);
	state->walk = &walk;
	entry_batches_scan(state->snapshot, NULL, walk_batch, state);

	blocks_settle(state, &walk);

	for (i = 0; i < state->nchecks; i++)
		table_check_finish(state, state->checks[i]);
	row_streams_close(state->streams);
	for (i = 0; i < state->nchecks; i++)
		table_check_close(state->checks[i]);

	if (!OidIsValid(state->only))
		foreach(lc, state->late_relations)
			late_relation_check(state, strVal(lfirst(lc)));

	check_pending(state);
	check_chain(state, walk.seen);
	check_consensus(state);
}

/* verify(tbl): a table the journal or the registry says is a ledger table. */
static void
require_ledger_table(VerifyState *state, Oid relid)
{
	char	   *relation = relation_display_name(relid);
	LedgerHistory *history = history_of(state, relation);

	if ((history == NULL || history->current == NULL) && !registry_active(relid, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not a ledger table", relation),
				 errdetail("Neither the journal nor the registry has a current enablement of it."),
				 errhint("See medchain.ledger_tables.")));
}

/*
 * medchain.verify(tbl regclass DEFAULT NULL)
 *	RETURNS TABLE (finding text, relation text, row_key jsonb,
 *				   entry_id bigint, block_height bigint, detail text)
 *
 * With a table: that table's rows and entries, every entry and the whole
 * chain.  Without: every ledger table's rows as well.  No rows: clean.
 */
Datum
medchain_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	VerifyState state;
	HASHCTL		ctl;
	int			settings_level;

	require_auditor("verify the ledger");
	memset(&state, 0, sizeof(state));
	/* a partition's rows are checked with all of its ledger table's */
	state.only = PG_ARGISNULL(0) ? InvalidOid : ledger_table_of(PG_GETARG_OID(0));

	InitMaterializedSRF(fcinfo, 0);
	state.findings.store = rsinfo->setResult;
	state.findings.desc = rsinfo->setDesc;
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(int64);
	ctl.hcxt = CurrentMemoryContext;
	state.findings.cxt = CurrentMemoryContext;
	state.findings.reported_entries = hash_create("medchain verify reported entries", 64, &ctl,
												  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = RELATION_NAME_LEN;
	ctl.entrysize = sizeof(HistoryEntry);
	state.histories = hash_create("medchain verify histories", 16, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ctl.entrysize = sizeof(TableCheck);
	state.tables = hash_create("medchain verify tables", 16, &ctl,
							   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	/* rows are encoded, by this backend and its workers, under fixed settings */
	settings_level = medchain_value_settings_fix();
	state.snapshot = RegisterSnapshot(GetActiveSnapshot());
	state.journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(state.journal, state.attnums);
	if (OidIsValid(state.only))
		require_ledger_table(&state, state.only);
	state.entry_values = palloc(sizeof(Datum) * RelationGetDescr(state.journal)->natts);
	state.entry_isnull = palloc(sizeof(bool) * RelationGetDescr(state.journal)->natts);
	state.percall = AllocSetContextCreate(CurrentMemoryContext, "medchain verify row",
										  ALLOCSET_DEFAULT_SIZES);
	entry_check_buffers_init(&state.entry_buffers);
	state.unsealed = tuplesort_begin_datum(INT8OID, Int8LessOperator, InvalidOid,
										   false, work_mem, NULL, TUPLESORT_NONE);
	state.batched = tuplesort_begin_datum(INT8OID, Int8LessOperator, InvalidOid,
										  false, work_mem, NULL, TUPLESORT_NONE);

	state.head_height = head_height(state.snapshot);
	ledgers_load(&state);
	walk_journal(&state);

	MemoryContextDelete(state.percall);
	table_close(state.journal, AccessShareLock);
	UnregisterSnapshot(state.snapshot);
	if (settings_level >= 0)
		medchain_settings_restore(settings_level);
	return (Datum) 0;
}
