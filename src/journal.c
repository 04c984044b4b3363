/*-------------------------------------------------------------------------
 *
 * journal.c
 *	  Writing entries to medchain.entries.
 *
 * The triggers append one entry per inserted row, so this path avoids SQL
 * altogether (direct_write.c): row entries go packed into batch rows
 * (entry_batches.c), events into the journal and the pending queue.  No
 * lock beyond RowExclusiveLock is taken and nothing is shared between
 * inserters except the entry_id sequence: chaining happens at sealing
 * time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/hash.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"
#include "utils/xid8.h"

#include "canonical_json.h"
#include "entry_batches.h"
#include "journal.h"
#include "wire.h"

PG_FUNCTION_INFO_V1(medchain_key_hash);

/* By EntryColumn; found by name so column order is free. */
static const char *const entry_column_names[MC_ENTRY_COLUMNS] = {
	"entry_id", "relation", "row_key", "row_hash", "entry_hash", "kind",
	"recorded_by", "recorded_at", "xact", "detail", "block_height", "leaf_index",
	"format_version", "enablement_id", "key_hash", "supersedes", "note"
};

/* By EntryKind. */
static const char *const entry_kind_names[] = {
	NULL, MC_KIND_BASELINE, MC_KIND_INSERT, MC_KIND_UPDATE, MC_KIND_DELETE, MC_KIND_NOTARIZE
};

EntryKind
entry_kind_of(const char *kind, int len)
{
	int			i;

	for (i = ENTRY_KIND_BASELINE; i < lengthof(entry_kind_names); i++)
		if (strlen(entry_kind_names[i]) == len && memcmp(entry_kind_names[i], kind, len) == 0)
			return (EntryKind) i;
	return ENTRY_KIND_OTHER;
}

/*
 * The format an entry of this kind is written in: the kinds that
 * version 3 added need its two fields, the others keep version 2, which
 * every verifier since 1.1 reads.
 */
int
journal_kind_version(const char *kind)
{
	if (strcmp(kind, MC_KIND_UPDATE) == 0 || strcmp(kind, MC_KIND_DELETE) == 0 ||
		strcmp(kind, MC_KIND_NOTARIZE) == 0)
		return MC_FORMAT_V3;
	return MC_FORMAT_CURRENT;
}

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

/*
 * The journal's table: medchain.journal since 1.2, where medchain.entries
 * became the view of every entry; medchain.entries itself before.
 */
Oid
medchain_journal_relid(void)
{
	Oid			relid = get_relname_relid("journal", medchain_namespace());

	return OidIsValid(relid) ? relid : medchain_relation("entries");
}

/* A column of one of medchain's own tables, or InvalidAttrNumber. */
AttrNumber
medchain_attnum_if_exists(TupleDesc desc, const char *column)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);

		if (!attr->attisdropped && strcmp(NameStr(attr->attname), column) == 0)
			return attr->attnum;
	}
	return InvalidAttrNumber;
}

/* A column of one of medchain's own tables, which must exist. */
AttrNumber
medchain_attnum(TupleDesc desc, const char *column)
{
	AttrNumber	attnum = medchain_attnum_if_exists(desc, column);

	if (attnum != InvalidAttrNumber)
		return attnum;
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
 * recorded_at as microseconds since the Unix epoch.  Version 1 names the
 * table by its quoted, qualified name; version 2 by its schema and table
 * names apart, unquoted, and adds the enablement the entry belongs to;
 * version 3 appends the entry it supersedes and a note.  Written straight into a buffer sized once: every entry the row trigger
 * records and every entry verify() checks goes through here.
 */
void
entry_encode(StringInfo buf, const EntryFields *fields)
{
	bool		v2 = fields->format_version >= MC_FORMAT_V2;
	TextSlice	kind = utf8_slice(fields->kind);
	TextSlice	relation = v2 ? text_slice("") : utf8_slice(fields->relation);
	TextSlice	schema_name = v2 ? utf8_slice(fields->schema_name) : text_slice("");
	TextSlice	table_name = v2 ? utf8_slice(fields->table_name) : text_slice("");
	TextSlice	row_key = fields->has_row_key ? fields->row_key_utf8 : text_slice("");
	TextSlice	recorded_by = utf8_slice(fields->recorded_by);
	bool		v3 = fields->format_version >= MC_FORMAT_V3;
	bool		has_note = v3 && fields->has_note;
	TextSlice	note = has_note ? fields->note : text_slice("");
	int			len = 2 + (4 + kind.len) + 8 +
		(v2 ? (4 + schema_name.len) + (4 + table_name.len) + 8 : 4 + relation.len) +
		1 + (fields->has_row_key ? 4 + row_key.len : 0) +
		MC_HASH_LEN + (4 + recorded_by.len) + 8 + 8 +
		(v3 ? 8 + 1 + (has_note ? 4 + note.len : 0) : 0);
	char	   *p;

	enlargeStringInfo(buf, len);
	p = buf->data + buf->len;
	*p++ = 'E';
	*p++ = (char) fields->format_version;
	p = put_str(p, kind);
	p = wire_write_u64(p, (uint64) fields->entry_id);
	if (v2)
	{
		p = put_str(p, schema_name);
		p = put_str(p, table_name);
		p = wire_write_u64(p, (uint64) fields->enablement_id);
	}
	else
		p = put_str(p, relation);
	*p++ = fields->has_row_key ? 1 : 0;
	if (fields->has_row_key)
		p = put_str(p, row_key);
	p = wire_write_bytes(p, fields->row_hash, MC_HASH_LEN);
	p = put_str(p, recorded_by);
	p = wire_write_u64(p, (uint64) mc_unix_usecs(fields->recorded_at));
	p = wire_write_u64(p, fields->xact);
	if (v3)
	{
		p = wire_write_u64(p, (uint64) fields->supersedes);
		*p++ = has_note ? 1 : 0;
		if (has_note)
			p = put_str(p, note);
	}
	Assert(p == buf->data + buf->len + len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

/*
 * entries.relation holds the name as quote_qualified_identifier wrote it;
 * reading it back needs no keyword list, only the quoting rules.
 */
bool
ledger_name_parse(const char *display, LedgerName *name)
{
	char	   *copy = pstrdup(display);
	List	   *names;

	if (!SplitIdentifierString(copy, '.', &names) || list_length(names) != 2)
		return false;
	name->schema = pstrdup(linitial(names));
	name->table = pstrdup(lsecond(names));
	name->display = pstrdup(display);
	return true;
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
	bool		batched;		/* medchain.entry_batches exists */
} JournalTarget;

static JournalTarget journal_target;

static void
journal_target_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == journal_target.entries)
		journal_target.valid = false;
}

/*
 * The library may be newer than the extension's objects in this database
 * until ALTER EXTENSION UPDATE has run: say so rather than write an entry
 * in a format the journal cannot hold.
 */
static void
require_current_schema(TupleDesc desc)
{
	if (medchain_attnum_if_exists(desc, "format_version") != InvalidAttrNumber)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("medchain's objects in this database are older than its library"),
			 errdetail("The installed medchain library writes format version %d, which the extension's tables at version 1.0 cannot hold.",
					   MC_FORMAT_CURRENT),
			 errhint("Run ALTER EXTENSION medchain UPDATE in this database.")));
}

void
entry_columns_find(Relation entries, AttrNumber attnums[MC_ENTRY_COLUMNS])
{
	int			col;

	require_current_schema(RelationGetDescr(entries));
	for (col = 0; col < COL_KEY_HASH; col++)
		attnums[col] = medchain_attnum(RelationGetDescr(entries), entry_column_names[col]);
	/* the objects of 1.4 and before have none of the columns 1.5 added */
	for (col = COL_KEY_HASH; col < MC_ENTRY_COLUMNS; col++)
		attnums[col] = medchain_attnum_if_exists(RelationGetDescr(entries),
												 entry_column_names[col]);
}

int64
journal_key_hash(const char *relation, const char *key_utf8, int key_len)
{
	uint64		seed = hash_bytes_extended((const unsigned char *) relation,
										   (int) strlen(relation), 0);

	return (int64) hash_bytes_extended((const unsigned char *) key_utf8, key_len, seed);
}

int64
journal_document_key_hash(const uint8 document_sha256[MC_HASH_LEN])
{
	return journal_key_hash(MC_NOTARIZATIONS_RELATION, (const char *) document_sha256,
							MC_HASH_LEN);
}

/*
 * medchain.key_hash(relation text, row_key jsonb) RETURNS bigint
 *
 * What the journal's key_hash holds for a row entry, for the update that
 * fills it in for the entries of earlier versions.
 */
Datum
medchain_key_hash(PG_FUNCTION_ARGS)
{
	char	   *relation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	StringInfoData key;

	initStringInfo(&key);
	canonical_json_append(&key, PG_GETARG_JSONB_P(1));
	PG_RETURN_INT64(journal_key_hash(relation, key.data, key.len));
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
	journal_target.batched = OidIsValid(get_relname_relid("entry_batches", medchain_namespace()));
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
		entries = medchain_journal_relid();
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
	writer->batched = journal_target.batched;
	initStringInfo(&writer->scratch);
	initStringInfo(&writer->key_text);
	if (writer->batched)
	{
		writer->batches = palloc(sizeof(BatchWriter));
		batch_writer_open(writer->batches);
	}
	return writer;
}

int64
journal_next_entry_id(JournalWriter *writer)
{
	return nextval_internal(writer->sequence, false);
}

void
journal_close(JournalWriter *writer)
{
	if (writer->batched)
	{
		batch_flush(writer, writer->batches);
		batch_writer_close(writer->batches);
	}
	direct_close(writer->pending);
	direct_close(writer->entries);
}

/*
 * Insert an entry into medchain.entries and queue it: events, and row
 * entries while the objects are still those of 1.1, which have no batches.
 * With a height (not -1), the entry is sealed as it is written, as leaf
 * `leaf` of that block, and not queued.
 */
static void
entry_insert(JournalWriter *writer, const JournalRecord *record, const EntryFields *fields,
			 const uint8 *entry_hash, int64 height, int32 leaf)
{
	TupleDesc	desc = RelationGetDescr(writer->entries->rel);
	Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	HeapTuple	tuple;
	int			col;

	memset(isnull, true, sizeof(bool) * desc->natts);
	for (col = 0; col < MC_ENTRY_COLUMNS; col++)
	{
		AttrNumber	attnum = writer->attnums[col];
		Datum		value = (Datum) 0;

		if (attnum == InvalidAttrNumber)
			continue;

		switch ((EntryColumn) col)
		{
			case COL_ENTRY_ID:
				value = Int64GetDatum(fields->entry_id);
				break;
			case COL_RELATION:
				value = CStringGetTextDatum(record->name->display);
				break;
			case COL_ROW_KEY:
				if (!record->has_row_key)
					continue;
				value = JsonbPGetDatum(canonical_json_parse(writer->key_text.data,
															writer->key_text.len));
				break;
			case COL_ROW_HASH:
				value = PointerGetDatum(mc_hash_to_bytea(record->row_hash));
				break;
			case COL_ENTRY_HASH:
				value = PointerGetDatum(mc_hash_to_bytea(entry_hash));
				break;
			case COL_KIND:
				value = CStringGetTextDatum(record->kind);
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
				if (record->detail == NULL)
					continue;
				value = JsonbPGetDatum(record->detail);
				break;
			case COL_FORMAT_VERSION:
				value = Int16GetDatum(fields->format_version);
				break;
			case COL_SUPERSEDES:
				if (fields->format_version < MC_FORMAT_V3)
					continue;
				value = Int64GetDatum(fields->supersedes);
				break;
			case COL_NOTE:
				if (record->note == NULL)
					continue;
				value = CStringGetTextDatum(record->note);
				break;
			case COL_ENABLEMENT_ID:
				value = Int64GetDatum(record->enablement_id);
				break;
			case COL_KEY_HASH:
				if (record->has_row_key)
					value = Int64GetDatum(journal_key_hash(record->name->display,
														   writer->key_text.data,
														   writer->key_text.len));
				else if (strcmp(record->kind, MC_KIND_NOTARIZE) == 0)
					value = Int64GetDatum(journal_document_key_hash(record->row_hash));
				else
					continue;
				break;
			case COL_BLOCK_HEIGHT:
				if (height < 0)
					continue;	/* NULL until sealed */
				value = Int64GetDatum(height);
				break;
			case COL_LEAF_INDEX:
				if (height < 0)
					continue;
				value = Int32GetDatum(leaf);
				break;
		}
		values[attnum - 1] = value;
		isnull[attnum - 1] = false;
	}
	tuple = heap_form_tuple(desc, values, isnull);
	direct_insert(writer->entries, tuple);
	if (height < 0)
		pending_append(writer->pending, fields->entry_id, &tuple->t_self);
}

/* The fields, encoding and hash of an entry in the current format. */
static void
entry_fields_fill(JournalWriter *writer, const JournalRecord *record, int64 entry_id,
				  EntryFields *fields, uint8 entry_hash[MC_HASH_LEN])
{
	fields->format_version = journal_kind_version(record->kind);
	fields->kind = text_slice(record->kind);
	fields->entry_id = entry_id;
	fields->schema_name = text_slice(record->name->schema);
	fields->table_name = text_slice(record->name->table);
	fields->enablement_id = record->enablement_id;
	fields->has_row_key = record->has_row_key;
	if (record->has_row_key)
	{
		fields->row_key_utf8.data = writer->key_text.data;
		fields->row_key_utf8.len = writer->key_text.len;
	}
	fields->row_hash = record->row_hash;
	fields->recorded_by = text_slice(NameStr(writer->recorded_by));
	fields->recorded_at = writer->recorded_at;
	fields->xact = U64FromFullTransactionId(writer->xact);
	fields->supersedes = record->supersedes;
	fields->has_note = record->note != NULL;
	if (fields->has_note)
		fields->note = utf8_slice(text_slice(record->note));

	resetStringInfo(&writer->scratch);
	entry_encode(&writer->scratch, fields);
	mc_sha256(writer->scratch.data, writer->scratch.len, entry_hash);
}

/* Append one entry, in the current format, and return its entry_id. */
int64
journal_append(JournalWriter *writer, const JournalRecord *record)
{
	EntryFields fields;
	uint8		entry_hash[MC_HASH_LEN];

	entry_fields_fill(writer, record, journal_next_entry_id(writer), &fields, entry_hash);
	/* batches hold version 2 row entries; amendments are rare enough */
	if (record->has_row_key && writer->batched && !record->unbatched &&
		fields.format_version == MC_FORMAT_V2)
	{
		BatchGroup	group = {record->name, record->enablement_id, record->kind};

		batch_append(writer, writer->batches, &group, fields.entry_id, record->row_hash,
					 entry_hash, fields.row_key_utf8);
	}
	else
		entry_insert(writer, record, &fields, entry_hash, -1, 0);
	return fields.entry_id;
}

void
journal_append_sealed(JournalWriter *writer, const JournalRecord *record, int64 entry_id,
					  int64 height, int32 leaf, uint8 entry_hash[MC_HASH_LEN])
{
	EntryFields fields;

	Assert(!record->has_row_key && height >= 0);
	entry_fields_fill(writer, record, entry_id, &fields, entry_hash);
	entry_insert(writer, record, &fields, entry_hash, height, leaf);
}

void
journal_event_record(JournalRecord *record, const LedgerName *name, int64 enablement_id,
					 const char *detail_json, uint8 row_hash[MC_HASH_LEN])
{
	record->kind = MC_KIND_EVENT;
	record->name = name;
	record->enablement_id = enablement_id;
	record->has_row_key = false;
	record->detail = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(detail_json)));
	record->supersedes = 0;
	record->note = NULL;
	record->unbatched = false;
	event_detail_hash(record->detail, MC_FORMAT_CURRENT, row_hash);
	record->row_hash = row_hash;
}

/*
 * An event's row_hash: SHA-256 of its detail's text in UTF-8, canonical
 * JSON in version 2, jsonb_out's text in version 1.
 */
void
event_detail_hash(Jsonb *detail, int version, uint8 out[MC_HASH_LEN])
{
	StringInfoData text;

	initStringInfo(&text);
	if (version >= MC_FORMAT_V2)
		canonical_json_append(&text, detail);
	else
	{
		char	   *jsonb_text = JsonbToCString(NULL, &detail->root, VARSIZE(detail));
		char	   *utf8 = pg_server_to_any(jsonb_text, strlen(jsonb_text), PG_UTF8);

		appendStringInfoString(&text, utf8);
	}
	mc_sha256(text.data, text.len, out);
	pfree(text.data);
}

/* A bytea that must be a 32-byte digest; NULL if it is not. */
const uint8 *
stored_hash(Datum value, bool isnull)
{
	bytea	   *b;

	if (isnull)
		return NULL;
	b = DatumGetByteaPP(value);
	return VARSIZE_ANY_EXHDR(b) == MC_HASH_LEN ? (const uint8 *) VARDATA_ANY(b) : NULL;
}

void
entry_check_buffers_init(EntryCheckBuffers *buffers)
{
	initStringInfo(&buffers->encoding);
	initStringInfo(&buffers->row_key);
	initStringInfo(&buffers->v1_row_key);
	buffers->last_relation = NULL;
	buffers->last_name_valid = false;
}

/* The two names of entries.relation, parsed once per run of equal names. */
static bool
entry_relation_names(EntryCheckBuffers *buffers, TextSlice relation, LedgerName **name)
{
	if (buffers->last_relation == NULL ||
		strlen(buffers->last_relation) != relation.len ||
		memcmp(buffers->last_relation, relation.data, relation.len) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		if (buffers->last_relation != NULL)
			pfree(buffers->last_relation);
		buffers->last_relation = pnstrdup(relation.data, relation.len);
		buffers->last_name_valid = ledger_name_parse(buffers->last_relation,
													 &buffers->last_name);
		MemoryContextSwitchTo(old);
	}
	*name = &buffers->last_name;
	return buffers->last_name_valid;
}

/*
 * Why a stored entry (its columns deformed by attnums) does not hash to
 * its entry_hash; NULL when it does.  For an intact entry, checked says
 * what it holds, and buffers->row_key the canonical text of its row_key.
 */
const char *
entry_integrity_problem(const AttrNumber *attnums, Datum *values, bool *isnull,
						EntryCheckBuffers *buffers, CheckedEntry *checked)
{
	static const EntryColumn required[] = {
		COL_ENTRY_ID, COL_RELATION, COL_KIND, COL_RECORDED_BY, COL_RECORDED_AT, COL_XACT,
		COL_FORMAT_VERSION
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

	fields.format_version = DatumGetInt16(VALUE(COL_FORMAT_VERSION));
	if (fields.format_version < MC_FORMAT_V1 || fields.format_version > MC_FORMAT_V3)
		return psprintf("its format_version %d is not a known version", fields.format_version);
	fields.kind = text_datum_slice(VALUE(COL_KIND));
	fields.entry_id = DatumGetInt64(VALUE(COL_ENTRY_ID));
	fields.relation = text_datum_slice(VALUE(COL_RELATION));
	fields.enablement_id = 0;
	if (fields.format_version >= MC_FORMAT_V2)
	{
		LedgerName *name;

		if (ISNULL(COL_ENABLEMENT_ID))
			return "its enablement_id is NULL";
		fields.enablement_id = DatumGetInt64(VALUE(COL_ENABLEMENT_ID));
		if (!entry_relation_names(buffers, fields.relation, &name))
			return "its relation is not a schema-qualified table name";
		fields.schema_name = text_slice(name->schema);
		fields.table_name = text_slice(name->table);
	}
	else if (!ISNULL(COL_ENABLEMENT_ID))
		return "it is a version 1 entry with an enablement_id";

	fields.has_row_key = !ISNULL(COL_ROW_KEY);
	resetStringInfo(&buffers->row_key);
	if (fields.has_row_key)
	{
		Jsonb	   *key = DatumGetJsonbP(VALUE(COL_ROW_KEY));

		canonical_json_append(&buffers->row_key, key);
		if (fields.format_version >= MC_FORMAT_V2)
		{
			fields.row_key_utf8.data = buffers->row_key.data;
			fields.row_key_utf8.len = buffers->row_key.len;
		}
		else
		{
			resetStringInfo(&buffers->v1_row_key);
			JsonbToCString(&buffers->v1_row_key, &key->root, VARSIZE(key));
			fields.row_key_utf8 = utf8_slice(text_slice(buffers->v1_row_key.data));
		}
	}
	fields.row_hash = stored_row_hash;
	fields.recorded_by = text_slice(NameStr(*DatumGetName(VALUE(COL_RECORDED_BY))));
	fields.recorded_at = DatumGetTimestampTz(VALUE(COL_RECORDED_AT));
	fields.xact = U64FromFullTransactionId(DatumGetFullTransactionId(VALUE(COL_XACT)));
	fields.supersedes = 0;
	fields.has_note = false;
	if (fields.format_version >= MC_FORMAT_V3)
	{
		if (attnums[COL_SUPERSEDES] == InvalidAttrNumber || ISNULL(COL_SUPERSEDES))
			return "it is a version 3 entry without supersedes";
		fields.supersedes = DatumGetInt64(VALUE(COL_SUPERSEDES));
		fields.has_note = !ISNULL(COL_NOTE);
		if (fields.has_note)
			fields.note = utf8_slice(text_datum_slice(VALUE(COL_NOTE)));
	}
	else if (attnums[COL_SUPERSEDES] != InvalidAttrNumber &&
			 (!ISNULL(COL_SUPERSEDES) || !ISNULL(COL_NOTE)))
		return "an entry older than version 3 has a supersedes or a note";

	resetStringInfo(&buffers->encoding);
	entry_encode(&buffers->encoding, &fields);
	mc_sha256(buffers->encoding.data, buffers->encoding.len, computed);
	if (memcmp(computed, stored_entry_hash, MC_HASH_LEN) != 0)
		return "its fields no longer hash to its entry_hash";

	checked->format_version = fields.format_version;
	memcpy(checked->row_hash, stored_row_hash, MC_HASH_LEN);
	checked->enablement_id = fields.enablement_id;
	checked->is_event = text_slice_is(fields.kind, MC_KIND_EVENT);
	checked->kind = entry_kind_of(fields.kind.data, fields.kind.len);
	checked->supersedes = fields.supersedes;
	if (checked->is_event)
	{
		if (ISNULL(COL_DETAIL))
			return "it is an event without detail";
		if (fields.has_row_key)
			return "it is an event with a row_key";
		event_detail_hash(DatumGetJsonbP(VALUE(COL_DETAIL)), fields.format_version, computed);
		if (memcmp(computed, stored_row_hash, MC_HASH_LEN) != 0)
			return "its detail no longer hashes to its row_hash";
	}
	else if (checked->kind == ENTRY_KIND_NOTARIZE)
	{
		if (fields.has_row_key)
			return "it is a notarization with a row_key";
		if (fields.format_version != MC_FORMAT_V3 || fields.enablement_id != 0 ||
			fields.supersedes != 0 ||
			fields.relation.len != strlen(MC_NOTARIZATIONS_RELATION) ||
			memcmp(fields.relation.data, MC_NOTARIZATIONS_RELATION, fields.relation.len) != 0)
			return "it is a notarization but not a version 3 entry of " MC_NOTARIZATIONS_RELATION
				" with enablement_id 0 and supersedes 0";
	}
	else if (!fields.has_row_key)
		return "it records a row but has no row_key";
	return NULL;
#undef VALUE
#undef ISNULL
}

/*
 * Call fn for every entry with an id within first_entry_id ..
 * last_entry_id, in entry_id order, with where it says it is sealed.  An
 * entry_hash that is not a 32-byte digest is passed as NULL.
 */
void
journal_entries_in_range(Relation journal, const AttrNumber *attnums, Snapshot snapshot,
						 int64 first_entry_id, int64 last_entry_id,
						 RangeEntryCallback fn, void *arg)
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
		RangeEntry	entry;
		bool		isnull;
		Datum		value;

		CHECK_FOR_INTERRUPTS();
		entry.entry_id = DatumGetInt64(heap_getattr(tuple, attnums[COL_ENTRY_ID], desc, &isnull));
		value = heap_getattr(tuple, attnums[COL_BLOCK_HEIGHT], desc, &isnull);
		entry.block_height = isnull ? -1 : DatumGetInt64(value);
		value = heap_getattr(tuple, attnums[COL_LEAF_INDEX], desc, &isnull);
		entry.leaf_index = isnull ? -1 : DatumGetInt32(value);
		value = heap_getattr(tuple, attnums[COL_ENTRY_HASH], desc, &isnull);
		entry.entry_hash = stored_hash(value, isnull);
		fn(arg, &entry);
	}
	systable_endscan_ordered(scan);
	index_close(pkey, AccessShareLock);
}

typedef struct BlockHashes
{
	int64		height;
	EntryHashCallback fn;
	void	   *arg;
} BlockHashes;

static void
block_hash_of(void *arg, const RangeEntry *entry)
{
	BlockHashes *block = arg;

	if (entry->block_height == block->height)
		block->fn(block->arg, entry->entry_hash);
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
	BlockHashes block = {height, fn, arg};

	journal_entries_in_range(journal, attnums, snapshot, first_entry_id, last_entry_id,
							 block_hash_of, &block);
}

void
journal_report_altered_block(int64 height)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the entries of block %lld do not match its header", (long long) height),
			 errdetail("Neither a proof nor a copy for peers is built from an altered block."),
			 errhint("Run medchain.verify() to see what was altered.")));
}

/* Collecting a block's entry hashes for an audit path. */
typedef struct LeafCollector
{
	uint8		(*leaves)[MC_HASH_LEN];
	uint64		count;
	uint64		capacity;		/* the header's entry_count */
	bool		altered;
} LeafCollector;

static void
collect_leaf(void *arg, const uint8 *entry_hash)
{
	LeafCollector *collector = arg;

	if (entry_hash == NULL || collector->count >= collector->capacity)
		collector->altered = true;
	else
		memcpy(collector->leaves[collector->count++], entry_hash, MC_HASH_LEN);
}

uint8		(*journal_block_leaves(Relation journal, const AttrNumber *attnums,
							const BlockRow *block))[MC_HASH_LEN]
{
	LeafCollector collector;

	collector.capacity = block->header.entry_count;
	collector.leaves = palloc_extended(sizeof(*collector.leaves) * collector.capacity,
									   MCXT_ALLOC_HUGE);
	collector.count = 0;
	collector.altered = false;
	journal_block_entry_hashes(journal, attnums, GetActiveSnapshot(), block->header.height,
							   block->first_entry_id, block->last_entry_id,
							   collect_leaf, &collector);
	if (collector.altered || collector.count != collector.capacity)
		journal_report_altered_block(block->header.height);
	return collector.leaves;
}

void
journal_scan_relation(JournalScan *js, Relation journal, const AttrNumber *attnums,
					  Snapshot snapshot, const char *relation, JournalScanWhat what,
					  Jsonb *row_key)
{
	ScanKeyData keys[2];
	int			nkeys = 1;

	js->hash_scan = NULL;
	js->index_lock = AccessShareLock;
	js->index = index_open(medchain_relation("entries_relation_row_key_idx"), js->index_lock);
	/* the index's collation: the scan positions itself by it */
	ScanKeyEntryInitialize(&keys[0], 0, attnums[COL_RELATION], BTEqualStrategyNumber,
						   InvalidOid, js->index->rd_indcollation[0], F_TEXTEQ,
						   CStringGetTextDatum(relation));
	if (what == JOURNAL_ROW_KEY)
		ScanKeyEntryInitialize(&keys[nkeys++], 0, attnums[COL_ROW_KEY], BTEqualStrategyNumber,
							   InvalidOid, InvalidOid, F_JSONB_EQ, JsonbPGetDatum(row_key));
	else if (what == JOURNAL_EVENTS)
		ScanKeyEntryInitialize(&keys[nkeys++], SK_ISNULL | SK_SEARCHNULL, attnums[COL_ROW_KEY],
							   InvalidStrategy, InvalidOid, InvalidOid, InvalidOid, (Datum) 0);
	js->scan = systable_beginscan(journal, RelationGetRelid(js->index), true, snapshot,
								  nkeys, keys);
}

void
journal_scan_key_hash(JournalScan *js, Relation journal, Snapshot snapshot, int64 key_hash,
					  Oid index)
{
	ScanKeyData key;

	/* a lock the caller holds already is not taken again at every lookup */
	js->index_lock = OidIsValid(index) ? NoLock : AccessShareLock;
	js->index = index_open(OidIsValid(index) ? index : medchain_relation(MC_KEY_HASH_INDEX),
						   js->index_lock);
	js->scan = NULL;
	js->slot = table_slot_create(journal, NULL);
	/* one bucket of the hash index instead of a descent through a btree */
	ScanKeyInit(&key, 1, HTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key_hash));
	js->hash_scan = index_beginscan(journal, js->index, snapshot, 1, 0);
	index_rescan(js->hash_scan, &key, 1, NULL, 0);
}

HeapTuple
journal_scan_next(JournalScan *js)
{
	CHECK_FOR_INTERRUPTS();
	if (js->hash_scan == NULL)
		return systable_getnext(js->scan);
	if (!index_getnext_slot(js->hash_scan, ForwardScanDirection, js->slot))
		return NULL;
	return ExecFetchSlotHeapTuple(js->slot, false, NULL);
}

void
journal_scan_end(JournalScan *js)
{
	if (js->hash_scan != NULL)
	{
		index_endscan(js->hash_scan);
		ExecDropSingleTupleTableSlot(js->slot);
	}
	else
		systable_endscan(js->scan);
	index_close(js->index, js->index_lock);
}
