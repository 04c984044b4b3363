/*-------------------------------------------------------------------------
 *
 * journal.c
 *	  Writing entries to medchain.entries.
 *
 * The row trigger appends one entry per inserted row, so this path avoids
 * SQL altogether (direct_write.c).  No lock beyond RowExclusiveLock is
 * taken and nothing is shared between inserters except the entry_id
 * sequence: chaining happens at sealing time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/xid8.h"

#include "journal.h"
#include "wire.h"

/* By EntryColumn; found by name so column order is free. */
static const char *const entry_column_names[MC_ENTRY_COLUMNS] = {
	"entry_id", "relation", "row_key", "row_hash", "entry_hash", "kind",
	"recorded_by", "recorded_at", "xact", "detail", "block_height", "leaf_index"
};

Oid
medchain_namespace(void)
{
	Oid			nsp = get_namespace_oid("medchain", true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"medchain\" does not exist"),
				 errdetail("The medchain library is loaded but the extension is not installed in this database."),
				 errhint("Run CREATE EXTENSION medchain.")));
	return nsp;
}

Oid
medchain_relation(const char *name)
{
	Oid			relid = get_relname_relid(name, medchain_namespace());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"medchain.%s\" does not exist", name),
				 errdetail("The medchain extension's objects are incomplete."),
				 errhint("Reinstall the extension from a backup of the database.")));
	return relid;
}

/* A column of one of medchain's own tables, which must exist. */
AttrNumber
medchain_attnum(TupleDesc desc, const char *column)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (!attr->attisdropped && strcmp(NameStr(attr->attname), column) == 0)
			return attr->attnum;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" of a medchain table is missing", column),
			 errdetail("The medchain extension's objects are incomplete."),
			 errhint("Reinstall the extension from a backup of the database.")));
	return InvalidAttrNumber;	/* keep compiler quiet */
}

/* The text in UTF-8: the same bytes when the database is UTF-8. */
static TextSlice
utf8_slice(TextSlice text)
{
	char	   *utf8 = pg_server_to_any(text.data, text.len, PG_UTF8);

	return utf8 == text.data ? text : text_slice(utf8);
}

/* FORMAT.md `str` */
static inline char *
put_str(char *p, TextSlice text)
{
	p = wire_write_u32(p, (uint32) text.len);
	return wire_write_bytes(p, text.data, text.len);
}

/*
 * The entry encoding: 'E', version, then the fields in a fixed order;
 * recorded_at as microseconds since the Unix epoch.  Written straight into
 * a buffer sized once: every entry the row trigger records and every entry
 * verify() checks goes through here.
 */
void
entry_encode(StringInfo buf, const EntryFields *fields)
{
	TextSlice	kind = utf8_slice(fields->kind);
	TextSlice	relation = utf8_slice(fields->relation);
	TextSlice	row_key = fields->has_row_key ? utf8_slice(fields->row_key_text) : text_slice("");
	TextSlice	recorded_by = utf8_slice(fields->recorded_by);
	int			len = 2 + (4 + kind.len) + 8 + (4 + relation.len) +
		1 + (fields->has_row_key ? 4 + row_key.len : 0) +
		MC_HASH_LEN + (4 + recorded_by.len) + 8 + 8;
	char	   *p;

	enlargeStringInfo(buf, len);
	p = buf->data + buf->len;
	*p++ = 'E';
	*p++ = MC_ENTRY_FORMAT_VERSION;
	p = put_str(p, kind);
	p = wire_write_u64(p, (uint64) fields->entry_id);
	p = put_str(p, relation);
	*p++ = fields->has_row_key ? 1 : 0;
	if (fields->has_row_key)
		p = put_str(p, row_key);
	p = wire_write_bytes(p, fields->row_hash, MC_HASH_LEN);
	p = put_str(p, recorded_by);
	p = wire_write_u64(p, (uint64) mc_unix_usecs(fields->recorded_at));
	p = wire_write_u64(p, fields->xact);
	Assert(p == buf->data + buf->len + len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

/*
 * What journal_open() looks up by name, kept across transactions: the row
 * trigger opens a writer for every row.  Dropping and re-creating the
 * extension changes these OIDs; the relcache invalidation of the old
 * medchain.entries resets them.
 */
typedef struct JournalTarget
{
	bool		valid;
	Oid			entries;
	Oid			pending;
	Oid			sequence;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];	/* by EntryColumn */
	Oid			session_user;	/* whose name recorded_by holds */
	NameData	recorded_by;
} JournalTarget;

static JournalTarget journal_target;

static void
journal_target_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == journal_target.entries)
		journal_target.valid = false;
}

void
entry_columns_find(Relation entries, AttrNumber attnums[MC_ENTRY_COLUMNS])
{
	int			col;

	for (col = 0; col < MC_ENTRY_COLUMNS; col++)
		attnums[col] = medchain_attnum(RelationGetDescr(entries), entry_column_names[col]);
}

static void
journal_target_load(DirectTable *entries)
{
	static bool callback_registered = false;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(journal_target_invalidate, (Datum) 0);
		callback_registered = true;
	}
	entry_columns_find(entries->rel, journal_target.attnums);
	journal_target.sequence = medchain_relation("entries_entry_id_seq");
	journal_target.pending = medchain_relation("pending");
	journal_target.entries = RelationGetRelid(entries->rel);
	journal_target.valid = true;
}

/* The pending row: (entry_id, entry_tid), in that column order. */
static void
pending_append(DirectTable *pending, int64 entry_id, ItemPointer entry_tid)
{
	Datum		values[2];
	bool		isnull[2] = {false, false};

	values[0] = Int64GetDatum(entry_id);
	values[1] = PointerGetDatum(entry_tid);
	direct_insert(pending, heap_form_tuple(RelationGetDescr(pending->rel), values, isnull));
}

JournalWriter *
journal_open(void)
{
	JournalWriter *writer = palloc0(sizeof(JournalWriter));
	Oid			session_user = GetSessionUserId();
	Oid			entries = InvalidOid;

	/*
	 * Locking processes pending invalidations; if they include a drop of the
	 * cached table, look it up by name again.
	 */
	if (journal_target.valid)
	{
		entries = journal_target.entries;
		LockRelationOid(entries, RowExclusiveLock);
		if (!journal_target.valid)
		{
			UnlockRelationOid(entries, RowExclusiveLock);
			entries = InvalidOid;
		}
	}
	if (!OidIsValid(entries))
		entries = medchain_relation("entries");
	writer->entries = direct_open(entries, RowExclusiveLock);
	if (!journal_target.valid)
		journal_target_load(writer->entries);
	writer->pending = direct_open(journal_target.pending, RowExclusiveLock);
	if (journal_target.session_user != session_user)
	{
		namestrcpy(&journal_target.recorded_by, GetUserNameFromId(session_user, false));
		journal_target.session_user = session_user;
	}
	memcpy(writer->attnums, journal_target.attnums, sizeof(writer->attnums));
	writer->sequence = journal_target.sequence;
	writer->recorded_by = journal_target.recorded_by;
	writer->recorded_at = GetCurrentTransactionStartTimestamp();
	writer->xact = GetTopFullTransactionId();
	initStringInfo(&writer->scratch);
	return writer;
}

void
journal_close(JournalWriter *writer)
{
	direct_close(writer->pending);
	direct_close(writer->entries);
}

/*
 * Append one entry and return its entry_id.  row_key is NULL for events;
 * detail is NULL for row entries.
 */
int64
journal_append(JournalWriter *writer, const char *kind, const char *relation,
			   Jsonb *row_key, const uint8 *row_hash, Jsonb *detail)
{
	TupleDesc	desc = RelationGetDescr(writer->entries->rel);
	Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	EntryFields fields;
	uint8		entry_hash[MC_HASH_LEN];
	HeapTuple	tuple;
	int			col;

	fields.kind = text_slice(kind);
	fields.entry_id = nextval_internal(writer->sequence, false);
	fields.relation = text_slice(relation);
	fields.has_row_key = row_key != NULL;
	if (row_key != NULL)
		fields.row_key_text = text_slice(JsonbToCString(NULL, &row_key->root, VARSIZE(row_key)));
	fields.row_hash = row_hash;
	fields.recorded_by = text_slice(NameStr(writer->recorded_by));
	fields.recorded_at = writer->recorded_at;
	fields.xact = U64FromFullTransactionId(writer->xact);

	resetStringInfo(&writer->scratch);
	entry_encode(&writer->scratch, &fields);
	mc_sha256(writer->scratch.data, writer->scratch.len, entry_hash);

	memset(isnull, true, sizeof(bool) * desc->natts);
	for (col = 0; col < MC_ENTRY_COLUMNS; col++)
	{
		AttrNumber	attnum = writer->attnums[col];
		Datum		value = (Datum) 0;

		switch ((EntryColumn) col)
		{
			case COL_ENTRY_ID:
				value = Int64GetDatum(fields.entry_id);
				break;
			case COL_RELATION:
				value = CStringGetTextDatum(relation);
				break;
			case COL_ROW_KEY:
				if (row_key == NULL)
					continue;
				value = JsonbPGetDatum(row_key);
				break;
			case COL_ROW_HASH:
				value = PointerGetDatum(mc_hash_to_bytea(row_hash));
				break;
			case COL_ENTRY_HASH:
				value = PointerGetDatum(mc_hash_to_bytea(entry_hash));
				break;
			case COL_KIND:
				value = CStringGetTextDatum(kind);
				break;
			case COL_RECORDED_BY:
				value = NameGetDatum(&writer->recorded_by);
				break;
			case COL_RECORDED_AT:
				value = TimestampTzGetDatum(writer->recorded_at);
				break;
			case COL_XACT:
				value = FullTransactionIdGetDatum(writer->xact);
				break;
			case COL_DETAIL:
				if (detail == NULL)
					continue;
				value = JsonbPGetDatum(detail);
				break;
			case COL_BLOCK_HEIGHT:
			case COL_LEAF_INDEX:
				continue;		/* NULL until sealed */
		}
		values[attnum - 1] = value;
		isnull[attnum - 1] = false;
	}

	tuple = heap_form_tuple(desc, values, isnull);
	direct_insert(writer->entries, tuple);
	pending_append(writer->pending, fields.entry_id, &tuple->t_self);
	return fields.entry_id;
}

/* An event's row_hash: SHA-256 of its detail's jsonb text in UTF-8. */
void
event_detail_hash(Jsonb *detail, uint8 out[MC_HASH_LEN])
{
	char	   *canonical = JsonbToCString(NULL, &detail->root, VARSIZE(detail));
	char	   *utf8 = pg_server_to_any(canonical, strlen(canonical), PG_UTF8);

	mc_sha256(utf8, strlen(utf8), out);
}

/* A bytea that must be a 32-byte digest; NULL if it is not. */
static const uint8 *
stored_hash(Datum value, bool isnull)
{
	bytea	   *b;

	if (isnull)
		return NULL;
	b = DatumGetByteaPP(value);
	return VARSIZE_ANY_EXHDR(b) == MC_HASH_LEN ? (const uint8 *) VARDATA_ANY(b) : NULL;
}

/* A text datum's bytes, without copying them. */
static TextSlice
text_datum_slice(Datum value)
{
	text	   *t = DatumGetTextPP(value);
	TextSlice	slice = {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};

	return slice;
}

/*
 * Why a stored entry (its columns deformed by attnums) does not hash to
 * its entry_hash; NULL when it does.  The entry's row_hash is copied to
 * row_hash when it is well-formed.
 */
const char *
entry_integrity_problem(const AttrNumber *attnums, Datum *values, bool *isnull,
						EntryCheckBuffers *buffers, uint8 row_hash[MC_HASH_LEN])
{
	static const EntryColumn required[] = {
		COL_ENTRY_ID, COL_RELATION, COL_KIND, COL_RECORDED_BY, COL_RECORDED_AT, COL_XACT
	};
	EntryFields fields;
	const uint8 *stored_row_hash;
	const uint8 *stored_entry_hash;
	uint8		computed[MC_HASH_LEN];
	int			i;

#define VALUE(col) values[attnums[col] - 1]
#define ISNULL(col) isnull[attnums[col] - 1]
	for (i = 0; i < lengthof(required); i++)
		if (ISNULL(required[i]))
			return psprintf("its %s is NULL", entry_column_names[required[i]]);
	stored_row_hash = stored_hash(VALUE(COL_ROW_HASH), ISNULL(COL_ROW_HASH));
	stored_entry_hash = stored_hash(VALUE(COL_ENTRY_HASH), ISNULL(COL_ENTRY_HASH));
	if (stored_row_hash == NULL)
		return "its row_hash is not a 32-byte digest";
	if (stored_entry_hash == NULL)
		return "its entry_hash is not a 32-byte digest";
	memcpy(row_hash, stored_row_hash, MC_HASH_LEN);

	fields.kind = text_datum_slice(VALUE(COL_KIND));
	fields.entry_id = DatumGetInt64(VALUE(COL_ENTRY_ID));
	fields.relation = text_datum_slice(VALUE(COL_RELATION));
	fields.has_row_key = !ISNULL(COL_ROW_KEY);
	if (fields.has_row_key)
	{
		Jsonb	   *key = DatumGetJsonbP(VALUE(COL_ROW_KEY));

		resetStringInfo(&buffers->row_key);
		JsonbToCString(&buffers->row_key, &key->root, VARSIZE(key));
		fields.row_key_text.data = buffers->row_key.data;
		fields.row_key_text.len = buffers->row_key.len;
	}
	fields.row_hash = stored_row_hash;
	fields.recorded_by = text_slice(NameStr(*DatumGetName(VALUE(COL_RECORDED_BY))));
	fields.recorded_at = DatumGetTimestampTz(VALUE(COL_RECORDED_AT));
	fields.xact = U64FromFullTransactionId(DatumGetFullTransactionId(VALUE(COL_XACT)));

	resetStringInfo(&buffers->encoding);
	entry_encode(&buffers->encoding, &fields);
	mc_sha256(buffers->encoding.data, buffers->encoding.len, computed);
	if (memcmp(computed, stored_entry_hash, MC_HASH_LEN) != 0)
		return "its fields no longer hash to its entry_hash";

	if (fields.kind.len == strlen(MC_KIND_EVENT) &&
		memcmp(fields.kind.data, MC_KIND_EVENT, fields.kind.len) == 0)
	{
		if (ISNULL(COL_DETAIL))
			return "it is an event without detail";
		event_detail_hash(DatumGetJsonbP(VALUE(COL_DETAIL)), computed);
		if (memcmp(computed, stored_row_hash, MC_HASH_LEN) != 0)
			return "its detail no longer hashes to its row_hash";
	}
	return NULL;
#undef VALUE
#undef ISNULL
}

/*
 * The latest entry, after prior_entry_id, that records a row of relation
 * with this key (a copy), or NULL: the row's entry in the table's current
 * enablement.
 */
HeapTuple
journal_row_entry(Relation journal, const AttrNumber *attnums, const char *relation,
				  Jsonb *key, int64 prior_entry_id, Snapshot snapshot)
{
	Relation	index = index_open(medchain_relation("entries_relation_row_key_idx"),
								   AccessShareLock);
	TupleDesc	desc = RelationGetDescr(journal);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	HeapTuple	found = NULL;

	ScanKeyEntryInitialize(&keys[0], 0, attnums[COL_RELATION], BTEqualStrategyNumber,
						   InvalidOid, DEFAULT_COLLATION_OID, F_TEXTEQ,
						   CStringGetTextDatum(relation));
	ScanKeyEntryInitialize(&keys[1], 0, attnums[COL_ROW_KEY], BTEqualStrategyNumber,
						   InvalidOid, InvalidOid, F_JSONB_EQ, JsonbPGetDatum(key));
	scan = systable_beginscan(journal, RelationGetRelid(index), true, snapshot, 2, keys);
	while ((tuple = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		int64		entry_id = DatumGetInt64(heap_getattr(tuple, attnums[COL_ENTRY_ID], desc, &isnull));
		char	   *kind = TextDatumGetCString(heap_getattr(tuple, attnums[COL_KIND], desc, &isnull));

		if (entry_id > prior_entry_id &&
			(strcmp(kind, MC_KIND_BASELINE) == 0 || strcmp(kind, MC_KIND_INSERT) == 0))
		{
			found = heap_copytuple(tuple);
			prior_entry_id = entry_id;	/* a later one wins */
		}
	}
	systable_endscan(scan);
	index_close(index, AccessShareLock);
	return found;
}

/*
 * Call fn with the entry hash of every entry of block `height` whose id is
 * within first_entry_id .. last_entry_id, in entry_id order, which is leaf
 * order.  An entry_hash that is not a 32-byte digest is passed as NULL.
 */
void
journal_block_entry_hashes(Relation journal, const AttrNumber *attnums, Snapshot snapshot,
						   int64 height, int64 first_entry_id, int64 last_entry_id,
						   EntryHashCallback fn, void *arg)
{
	Relation	pkey = index_open(medchain_relation("entries_pkey"), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(journal);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&keys[0], attnums[COL_ENTRY_ID], BTGreaterEqualStrategyNumber, F_INT8GE,
				Int64GetDatum(first_entry_id));
	ScanKeyInit(&keys[1], attnums[COL_ENTRY_ID], BTLessEqualStrategyNumber, F_INT8LE,
				Int64GetDatum(last_entry_id));
	scan = systable_beginscan_ordered(journal, pkey, snapshot, 2, keys);
	while ((tuple = systable_getnext_ordered(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		block = heap_getattr(tuple, attnums[COL_BLOCK_HEIGHT], desc, &isnull);
		Datum		hash;

		CHECK_FOR_INTERRUPTS();
		if (isnull || DatumGetInt64(block) != height)
			continue;
		hash = heap_getattr(tuple, attnums[COL_ENTRY_HASH], desc, &isnull);
		fn(arg, stored_hash(hash, isnull));
	}
	systable_endscan_ordered(scan);
	index_close(pkey, AccessShareLock);
}
