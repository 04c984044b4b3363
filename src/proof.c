/*-------------------------------------------------------------------------
 *
 * proof.c
 *	  Inclusion proofs: what ties one sealed row, or one event, to its
 *	  block, and the block to a digest kept elsewhere (docs/FORMAT.md,
 *	  "Inclusion proof").
 *
 * proof() gathers the row's encoding, its entry, the Merkle audit path,
 * the block header and the headers above it up to an anchor height (the
 * head by default); event_proof() does the same for an event entry, with
 * its detail instead of a row.  verify_proof() checks such a proof from
 * its own contents, without reading any table, exactly as an outside
 * verifier would; given a trusted digest it also checks that the proof's
 * block lies on the chain the digest names.  A proof without one shows
 * only that the row is in a block with that hash: anyone can forge such a
 * block from nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "block.h"
#include "canonical_json.h"
#include "chain_rules.h"
#include "digest.h"
#include "evidence_json.h"
#include "journal.h"
#include "ledger_cache.h"
#include "merkle.h"
#include "privileges.h"
#include "proof.h"
#include "rows.h"
#include "security_scope.h"
#include "wire.h"

PG_FUNCTION_INFO_V1(medchain_proof);
PG_FUNCTION_INFO_V1(medchain_event_proof);
PG_FUNCTION_INFO_V1(medchain_verify_proof);
PG_FUNCTION_INFO_V1(medchain_verify_proof_on_copy);

/* The version of the proof document this code writes. */
#define MC_PROOF_FORMAT_VERSION 2

/* ---------- inclusion proofs ---------- */



/* ---------- building a proof ---------- */

/* UTF-8 text as a JSON member, in the server encoding jsonb holds. */
static void
put_utf8_string(StringInfo buf, const char *name, const char *utf8, int len)
{
	char	   *server = pg_any_to_server(utf8, len, PG_UTF8);

	put_string(buf, name, server == utf8 ? pnstrdup(utf8, len) : server);
}

/*
 * A jsonb value as the text that format `version` hashes (a row key, an
 * event's detail), as a JSON string member.
 */
static void
put_hashed_json(StringInfo buf, const char *name, Jsonb *value, int version)
{
	StringInfoData text;

	initStringInfo(&text);
	if (version >= MC_FORMAT_V2)
	{
		canonical_json_append(&text, value);
		put_utf8_string(buf, name, text.data, text.len);
	}
	else
		put_string(buf, name, JsonbToCString(NULL, &value->root, VARSIZE(value)));
}

/*
 * The entry's fields as FORMAT.md's proof JSON gives them: those its
 * version hashes, with row_key as the exact text hashed.
 */
static void
put_entry(StringInfo buf, const AttrNumber *attnums, Datum *values, bool *isnull)
{
	int			version = DatumGetInt16(values[attnums[COL_FORMAT_VERSION] - 1]);
	bytea	   *row_hash = DatumGetByteaPP(values[attnums[COL_ROW_HASH] - 1]);
	char	   *relation = TextDatumGetCString(values[attnums[COL_RELATION] - 1]);

	appendStringInfo(buf, "{\"format_version\": %d, ", version);
	put_string(buf, "kind", TextDatumGetCString(values[attnums[COL_KIND] - 1]));
	appendStringInfo(buf, ", \"entry_id\": " INT64_FORMAT ", ",
					 DatumGetInt64(values[attnums[COL_ENTRY_ID] - 1]));
	if (version >= MC_FORMAT_V2)
	{
		LedgerName	name;

		if (!ledger_name_parse(relation, &name))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("entry %lld names no table", (long long) DatumGetInt64(values[attnums[COL_ENTRY_ID] - 1])),
					 errdetail("Its relation \"%s\" is not a schema-qualified table name.", relation),
					 errhint("Someone with superuser rights altered medchain.entries; run medchain.verify().")));
		put_string(buf, "schema", name.schema);
		appendStringInfoString(buf, ", ");
		put_string(buf, "table", name.table);
		appendStringInfo(buf, ", \"enablement_id\": " INT64_FORMAT ", ",
						 DatumGetInt64(values[attnums[COL_ENABLEMENT_ID] - 1]));
	}
	else
	{
		put_string(buf, "relation", relation);
		appendStringInfoString(buf, ", ");
	}
	if (isnull[attnums[COL_ROW_KEY] - 1])
		appendStringInfoString(buf, "\"row_key\": null");
	else
		put_hashed_json(buf, "row_key", DatumGetJsonbP(values[attnums[COL_ROW_KEY] - 1]), version);
	appendStringInfoString(buf, ", ");
	put_hex(buf, "row_hash", (const uint8 *) VARDATA_ANY(row_hash), VARSIZE_ANY_EXHDR(row_hash));
	appendStringInfoString(buf, ", ");
	put_string(buf, "recorded_by", NameStr(*DatumGetName(values[attnums[COL_RECORDED_BY] - 1])));
	appendStringInfo(buf, ", \"recorded_at\": " INT64_FORMAT ", \"xact\": " UINT64_FORMAT,
					 mc_unix_usecs(DatumGetTimestampTz(values[attnums[COL_RECORDED_AT] - 1])),
					 U64FromFullTransactionId(DatumGetFullTransactionId(values[attnums[COL_XACT] - 1])));
	if (version >= MC_FORMAT_V3)
	{
		appendStringInfo(buf, ", \"supersedes\": " INT64_FORMAT ", ",
						 DatumGetInt64(values[attnums[COL_SUPERSEDES] - 1]));
		if (isnull[attnums[COL_NOTE] - 1])
			appendStringInfoString(buf, "\"note\": null");
		else
			put_string(buf, "note", TextDatumGetCString(values[attnums[COL_NOTE] - 1]));
	}
	appendStringInfoChar(buf, '}');
}

/* Is the entry (deformed in values) a notarization? */
static bool
is_notarization(const AttrNumber *attnums, Datum *values)
{
	text	   *kind = DatumGetTextPP(values[attnums[COL_KIND] - 1]);

	return entry_kind_of(VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind)) == ENTRY_KIND_NOTARIZE;
}

/* The height a proof of block_height reaches up to: *anchor_height, or the head. */
static int64
anchor_of(const int64 *anchor_height, int64 block_height)
{
	BlockRow	head;
	int64		anchor;

	if (!block_head(GetActiveSnapshot(), &head))
		elog(ERROR, "the chain has no head block");
	if (anchor_height == NULL)
		return head.header.height;
	anchor = *anchor_height;
	if (anchor < block_height || anchor > head.header.height)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("anchor height %lld is outside blocks %lld to %lld",
						(long long) anchor, (long long) block_height,
						(long long) head.header.height),
				 errdetail("A proof carries the headers from its own block up to the anchor, which must be a sealed block at or above it."),
				 errhint("Pass the height of a digest kept since the row was sealed, or NULL for the head.")));
	return anchor;
}

/* proof.h */
const int64 *
anchor_height_argument(FunctionCallInfo fcinfo, int argno, int64 *height)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	*height = PG_GETARG_INT64(argno);
	return height;
}

/* proof.h */
Jsonb *
entry_proof_build(Relation journal, const AttrNumber *attnums, Datum *values, bool *isnull,
				  StringInfo row, const int64 *anchor_height)
{
	int64		entry_id = DatumGetInt64(values[attnums[COL_ENTRY_ID] - 1]);
	int			version = DatumGetInt16(values[attnums[COL_FORMAT_VERSION] - 1]);
	int64		height;
	int64		anchor;
	int64		h;
	BlockRow	block;
	uint8		(*leaves)[MC_HASH_LEN];
	uint8		path[MC_MERKLE_MAX_DEPTH][MC_HASH_LEN];
	uint64		count;
	uint64		index = 0;
	int			path_length;
	int			i;
	bytea	   *entry_hash;
	StringInfoData buf;

	if (isnull[attnums[COL_BLOCK_HEIGHT] - 1])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("entry %lld is not sealed yet", (long long) entry_id),
				 errdetail("The entry is pending: no block holds it."),
				 errhint("Run medchain.seal(), then ask for the proof again.")));
	height = DatumGetInt64(values[attnums[COL_BLOCK_HEIGHT] - 1]);
	if (!block_row_fetch(height, GetActiveSnapshot(), &block))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block %lld of entry %lld does not exist", (long long) height,
						(long long) entry_id),
				 errdetail("The chain was altered."),
				 errhint("Run medchain.verify() to see what was altered.")));
	anchor = anchor_of(anchor_height, height);

	leaves = journal_block_leaves(journal, attnums, &block);
	count = block.header.entry_count;
	entry_hash = DatumGetByteaPP(values[attnums[COL_ENTRY_HASH] - 1]);
	while (index < count && memcmp(leaves[index], VARDATA_ANY(entry_hash), MC_HASH_LEN) != 0)
		index++;
	if (index == count)
		journal_report_altered_block(block.header.height);
	for (i = 0; i < (int) count; i++)
		merkle_leaf_hash(leaves[i], leaves[i]);
	path_length = merkle_audit_path((const uint8 (*)[MC_HASH_LEN]) leaves, count, index, path);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"format_version\": %d, ", MC_PROOF_FORMAT_VERSION);
	if (row != NULL)
		put_hex(&buf, "row", (const uint8 *) row->data, row->len);
	else if (is_notarization(attnums, values))
	{
		bytea	   *document_hash = DatumGetByteaPP(values[attnums[COL_ROW_HASH] - 1]);

		put_hex(&buf, "document_sha256", (const uint8 *) VARDATA_ANY(document_hash),
				VARSIZE_ANY_EXHDR(document_hash));
	}
	else
		put_hashed_json(&buf, "detail", DatumGetJsonbP(values[attnums[COL_DETAIL] - 1]), version);
	appendStringInfoString(&buf, ", \"entry\": ");
	put_entry(&buf, attnums, values, isnull);
	appendStringInfoString(&buf, ", ");
	put_hex(&buf, "entry_hash", (const uint8 *) VARDATA_ANY(entry_hash), MC_HASH_LEN);
	appendStringInfo(&buf, ", \"leaf_index\": " UINT64_FORMAT ", \"audit_path\": [", index);
	for (i = 0; i < path_length; i++)
	{
		appendStringInfoString(&buf, i > 0 ? ", " : "");
		put_hex_value(&buf, path[i], MC_HASH_LEN);
	}
	appendStringInfoString(&buf, "], \"block\": ");
	put_block(&buf, &block);
	appendStringInfoString(&buf, ", \"chain\": [");
	for (h = height + 1; h <= anchor; h++)
	{
		BlockRow	above;

		CHECK_FOR_INTERRUPTS();
		if (!block_row_fetch(h, GetActiveSnapshot(), &above))
			journal_report_altered_block(h);
		appendStringInfoString(&buf, h > height + 1 ? ", " : "");
		put_block(&buf, &above);
	}
	appendStringInfoString(&buf, "]}");
	return jsonb_from_text(&buf);
}

/*
 * medchain.proof(tbl regclass, key jsonb, anchor_height bigint DEFAULT NULL)
 *	RETURNS jsonb
 *
 * Everything that ties a sealed row to its block, and the block to the
 * block at anchor_height: the row's encoding, its entry, the Merkle audit
 * path, the block header and the headers above it.  Works for the rows of
 * released tables too, while they are as they were recorded.
 */
Datum
medchain_proof(PG_FUNCTION_ARGS)
{
	Jsonb	   *key;
	RecordedRow row;
	StringInfo	encoding;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *isnull;
	uint8		hash[MC_HASH_LEN];
	bytea	   *row_hash;
	int64		anchor_height;
	Jsonb	   *proof;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	key = PG_GETARG_JSONB_P(1);
	recorded_row_find(PG_GETARG_OID(0), key, &row);
	encoding = ledger_row_encoding(row.rel, row.ledger, key, row.format_version);
	if (row.entry == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("row %s of %s has no entry",
						JsonbToCString(NULL, &key->root, VARSIZE(key)), row.ledger->relation_name),
				 errdetail("The row was not recorded by medchain in the table's %s enablement.",
						   row.history->current != NULL ? "current" : "last"),
				 errhint("Run medchain.verify() on the table.")));
	desc = RelationGetDescr(row.journal);
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(row.entry, desc, values, isnull);

	if (isnull[row.attnums[COL_BLOCK_HEIGHT] - 1])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("row %s of %s is not sealed yet",
						JsonbToCString(NULL, &key->root, VARSIZE(key)), row.ledger->relation_name),
				 errdetail("Its entry %lld is pending: no block holds it.",
						   (long long) DatumGetInt64(values[row.attnums[COL_ENTRY_ID] - 1])),
				 errhint("Run medchain.seal(), then ask for the proof again.")));
	mc_sha256(encoding->data, encoding->len, hash);
	row_hash = DatumGetByteaPP(values[row.attnums[COL_ROW_HASH] - 1]);
	if (VARSIZE_ANY_EXHDR(row_hash) != MC_HASH_LEN ||
		memcmp(hash, VARDATA_ANY(row_hash), MC_HASH_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("row %s of %s no longer matches its entry",
						JsonbToCString(NULL, &key->root, VARSIZE(key)), row.ledger->relation_name),
				 errdetail("The row does not hash to the row_hash its entry recorded, so no proof can show it."),
				 errhint("Run medchain.verify() on the table.")));
	proof = entry_proof_build(row.journal, row.attnums, values, isnull, encoding,
							  anchor_height_argument(fcinfo, 2, &anchor_height));
	recorded_row_close(&row);
	PG_RETURN_JSONB_P(proof);
}

/* Who may see an event: auditors, and whoever may read its table. */
static void
require_event_read(const char *relation)
{
	if (!may_read_relation(relation))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for the events of %s", relation),
				 errdetail("An event is shown to auditors and to those who may read its table."),
				 errhint("Ask for SELECT on the table, or for membership in %s.", MC_AUDITOR_ROLE)));
}

/*
 * medchain.event_proof(entry_id bigint, anchor_height bigint DEFAULT NULL)
 *	RETURNS jsonb
 *
 * The proof of a sealed event entry: an enablement, a release.
 */
Datum
medchain_event_proof(PG_FUNCTION_ARGS)
{
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	TupleDesc	desc;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Datum	   *values;
	bool	   *isnull;
	int64		entry_id;
	int64		anchor_height;
	Jsonb	   *proof;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	entry_id = PG_GETARG_INT64(0);
	journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(journal, attnums);
	desc = RelationGetDescr(journal);
	ScanKeyInit(&key, attnums[COL_ENTRY_ID], BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(entry_id));
	scan = systable_beginscan(journal, medchain_relation("entries_pkey"), true,
							  GetActiveSnapshot(), 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		tuple = heap_copytuple(tuple);
	systable_endscan(scan);
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);
	if (HeapTupleIsValid(tuple))
		heap_deform_tuple(tuple, desc, values, isnull);
	if (!HeapTupleIsValid(tuple) || isnull[attnums[COL_KIND] - 1] ||
		strcmp(TextDatumGetCString(values[attnums[COL_KIND] - 1]), MC_KIND_EVENT) != 0 ||
		isnull[attnums[COL_DETAIL] - 1])
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("entry %lld is not an event", (long long) entry_id),
				 errdetail("event_proof() proves event entries; there is no event with this entry_id."),
				 errhint("Prove a row with medchain.proof(table, key).")));
	require_event_read(TextDatumGetCString(values[attnums[COL_RELATION] - 1]));
	proof = entry_proof_build(journal, attnums, values, isnull, NULL,
							  anchor_height_argument(fcinfo, 1, &anchor_height));
	table_close(journal, AccessShareLock);
	PG_RETURN_JSONB_P(proof);
}

/* ---------- checking a proof ---------- */

/* A UTF-8 copy of a string member (jsonb holds the server encoding). */
static TextSlice
utf8_member(const JsonReader *reader, const char *name)
{
	char	   *text = string_member(reader, name);

	return text_slice(pg_server_to_any(text, strlen(text), PG_UTF8));
}

/* The entry's fields from a proof; row_hash points into storage. */
static void
entry_from_json(const JsonReader *reader, bool in_v1_proof, EntryFields *fields,
				uint8 row_hash[MC_HASH_LEN])
{
	JsonbValue *key;

	fields->format_version = in_v1_proof ? MC_FORMAT_V1 :
		(int) integer_member(reader, "format_version", MC_FORMAT_V1, MC_FORMAT_V3);
	fields->kind = text_slice(string_member(reader, "kind"));
	fields->entry_id = integer_member(reader, "entry_id", 0, PG_INT64_MAX);
	if (fields->format_version >= MC_FORMAT_V2)
	{
		fields->schema_name = text_slice(string_member(reader, "schema"));
		fields->table_name = text_slice(string_member(reader, "table"));
		fields->enablement_id = integer_member(reader, "enablement_id", 0, PG_INT64_MAX);
	}
	else
		fields->relation = text_slice(string_member(reader, "relation"));
	key = member_if_present(reader, "row_key");
	fields->has_row_key = key != NULL && key->type != jbvNull;
	if (fields->has_row_key)
		fields->row_key_utf8 = utf8_member(reader, "row_key");
	hash_member(reader, "row_hash", row_hash);
	fields->row_hash = row_hash;
	fields->recorded_by = text_slice(string_member(reader, "recorded_by"));
	fields->recorded_at = mc_from_unix_usecs(integer_member(reader, "recorded_at",
															PG_INT64_MIN / 2, PG_INT64_MAX / 2));
	fields->xact = u64_member(reader, "xact");
	fields->supersedes = 0;
	fields->has_note = false;
	if (fields->format_version >= MC_FORMAT_V3)
	{
		JsonbValue *note = member_if_present(reader, "note");

		fields->supersedes = integer_member(reader, "supersedes", 0, PG_INT64_MAX);
		fields->has_note = note != NULL && note->type != jbvNull;
		if (fields->has_note)
			fields->note = utf8_member(reader, "note");
	}
}

static int
audit_path_from_json(const JsonReader *reader, uint8 (*path)[MC_HASH_LEN])
{
	JsonbValue *value = member(reader, "audit_path", jbvBinary);
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;
	int			length = 0;

	if (!JsonContainerIsArray(value->val.binary.data))
		malformed("proof", "Member \"audit_path\" is not an array.");
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		if (token != WJB_ELEM)
			continue;
		if (element.type != jbvString || length == MC_MERKLE_MAX_DEPTH)
			malformed("proof", "Member \"audit_path\" must hold at most 64 hashes.");
		hash_from_hex(reader, "audit_path", element.val.string.val,
					  element.val.string.len, path[length++]);
	}
	return length;
}

/* The headers above the proof's block, in height order (at most `limit`). */
static List *
chain_from_json(const JsonReader *reader)
{
	JsonbValue *value = member_if_present(reader, "chain");
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;
	List	   *chain = NIL;

	if (value == NULL)
		return NIL;
	if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data))
		malformed("proof", "Member \"chain\" is not an array.");
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		JsonReader	header;
		BlockRow   *row;

		if (token != WJB_ELEM)
			continue;
		CHECK_FOR_INTERRUPTS();
		if (element.type != jbvBinary || !JsonContainerIsObject(element.val.binary.data))
			malformed("proof", "Member \"chain\" must hold block objects.");
		header.what = "proof";
		header.object = element.val.binary.data;
		header.path = "chain[].";
		row = palloc0(sizeof(BlockRow));
		block_from_json(&header, row);
		chain = lappend(chain, row);
	}
	return chain;
}

/*
 * An unsigned header's node_id is the SHA-256 of its node_name; a signed
 * one's is its signer key's fingerprint, which the signature rule checks.
 */
static bool
node_id_matches(const BlockRow *row)
{
	uint8		node_id[MC_HASH_LEN];

	if (row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
		return true;
	block_node_id(row->node_name, node_id);
	return memcmp(node_id, row->header.node_id, MC_HASH_LEN) == 0;
}

/*
 * The block and the headers above it obey the chain rules at the floor;
 * with a trusted digest, one of them is the digest's block.
 */
static bool
anchored(const BlockRow *block, List *chain, Jsonb *trusted)
{
	int64		floor = MC_FLOOR_UNKNOWN;
	int64		trusted_floor = MC_FLOOR_UNKNOWN;
	int64		trusted_height = -1;
	const BlockRow *previous = block;
	bool		found = false;
	ListCell   *lc;

	/* the floor: the trusted digest's, else any version 2 header's */
	if (block->header.format_version >= 2)
		floor = block->header.min_difficulty;
	foreach(lc, chain)
		if (floor == MC_FLOOR_UNKNOWN && ((BlockRow *) lfirst(lc))->header.format_version >= 2)
			floor = ((BlockRow *) lfirst(lc))->header.min_difficulty;
	if (trusted != NULL)
	{
		trusted_height = digest_height(trusted, &trusted_floor);
		if (trusted_floor != MC_FLOOR_UNKNOWN)
			floor = trusted_floor;
	}
	if (!node_id_matches(block) || block_problem(block, floor) != NULL)
		return false;
	if (trusted != NULL && block->header.height == trusted_height)
		found = digest_matches_block(trusted, block);
	foreach(lc, chain)
	{
		const BlockRow *next = lfirst(lc);

		if (!node_id_matches(next) || block_problem(next, floor) != NULL ||
			chain_next_problem(previous, next) != NULL)
			return false;
		if (trusted != NULL && next->header.height == trusted_height)
			found = digest_matches_block(trusted, next);
		previous = next;
	}
	return trusted == NULL || found;
}

/*
 * From the proof alone: the row (or the event's detail) hashes to the
 * entry's row_hash (a notarization's document_sha256 is its row_hash),
 * the entry to entry_hash, the leaf and audit path to the block's Merkle
 * root.  *block and *chain are the proof's block and the headers above
 * it, whose rules anchored() checks.
 */
static bool
proof_holds(Jsonb *proof, BlockRow *block, List **chain)
{
	JsonReader	reader;
	JsonReader	entry_reader;
	JsonReader	block_reader;
	int			version;
	uint8		row_hash[MC_HASH_LEN];
	uint8		entry_hash[MC_HASH_LEN];
	uint8		computed[MC_HASH_LEN];
	uint8		path[MC_MERKLE_MAX_DEPTH][MC_HASH_LEN];
	int			path_length;
	EntryFields fields;
	StringInfoData encoding;
	uint64		leaf_index;
	JsonbValue *row_hex;
	bool		notarization;

	reader.what = "proof";
	reader.object = &proof->root;
	reader.path = "";
	if (!JB_ROOT_IS_OBJECT(proof))
		malformed("proof", "A proof is a JSON object.");
	version = (int) integer_member(&reader, "format_version", 0, PG_INT32_MAX);
	if (version != 1 && version != MC_PROOF_FORMAT_VERSION)
		malformed("proof", "Only proof format_versions 1 and 2 are known.");

	entry_reader = object_member(&reader, "entry");
	entry_from_json(&entry_reader, version == 1, &fields, row_hash);
	hash_member(&reader, "entry_hash", entry_hash);
	leaf_index = (uint64) integer_member(&reader, "leaf_index", 0, PG_INT64_MAX);
	path_length = audit_path_from_json(&reader, path);
	block_reader = object_member(&reader, "block");
	block_from_json(&block_reader, block);
	*chain = chain_from_json(&reader);

	/* the row, the event's detail, or the notarized document's hash */
	row_hex = member_if_present(&reader, "row");
	notarization = entry_kind_of(fields.kind.data, fields.kind.len) == ENTRY_KIND_NOTARIZE;
	if ((member_if_present(&reader, "document_sha256") != NULL) != notarization)
		malformed("proof", "A proof of a notarization entry, and no other, has member \"document_sha256\".");
	if (notarization)
		hash_member(&reader, "document_sha256", computed);
	else if (row_hex != NULL)
	{
		uint8	   *row;
		int			row_len;

		if (row_hex->type != jbvString)
			malformed("proof", "Member \"row\" is not a string.");
		row = palloc(row_hex->val.string.len / 2 + 1);
		if (!hex_to_bytes(row_hex->val.string.val, row_hex->val.string.len, row, &row_len))
			malformed("proof", "Member \"row\" is not hex digits.");
		mc_sha256(row, row_len, computed);
	}
	else
	{
		TextSlice	detail = utf8_member(&reader, "detail");

		mc_sha256(detail.data, detail.len, computed);
	}
	if (memcmp(computed, row_hash, MC_HASH_LEN) != 0)
		return false;

	/* the entry, the leaf, the root, the headers */
	initStringInfo(&encoding);
	entry_encode(&encoding, &fields);
	mc_sha256(encoding.data, encoding.len, computed);
	if (memcmp(computed, entry_hash, MC_HASH_LEN) != 0)
		return false;
	merkle_leaf_hash(entry_hash, computed);
	return merkle_root_from_path(computed, leaf_index, block->header.entry_count,
								 (const uint8 (*)[MC_HASH_LEN]) path, path_length, computed) &&
		memcmp(computed, block->header.merkle_root, MC_HASH_LEN) == 0;
}

/*
 * medchain.verify_proof(p jsonb, trusted jsonb DEFAULT NULL) RETURNS boolean
 *
 * From the proof alone: it holds (proof_holds()), its block meets its
 * difficulty and the headers above link up by the chain rules.  With a
 * trusted digest, the digest's block must be among them, matching it.
 */
Datum
medchain_verify_proof(PG_FUNCTION_ARGS)
{
	Jsonb	   *trusted = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	BlockRow	block;
	List	   *chain;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_BOOL(proof_holds(PG_GETARG_JSONB_P(0), &block, &chain) &&
				   anchored(&block, chain, trusted));
}

/*
 * Does this node hold one of the proof's blocks, on the chain they name:
 * its own chain, or its copy of a peer's?  The chain is named by a signed
 * header's chain id (a genesis block's by its own hash); the headers of a
 * proof are linked, so one held block anchors them all.
 */
static bool
held_here(const BlockRow *block, List *chain)
{
	List	   *headers = lcons((void *) block, list_copy(chain));
	uint8		chain_id[MC_HASH_LEN];
	bool		named = false;
	bool		held = false;
	ListCell   *lc;

	foreach(lc, headers)
	{
		const BlockRow *row = lfirst(lc);

		if (!named && (row->header.height == 0 ||
					   row->header.format_version >= MC_BLOCK_FORMAT_SIGNED))
		{
			block_chain_id(row, chain_id);
			named = true;
		}
	}
	if (!named)
		return false;
	SPI_connect();
	foreach(lc, headers)
	{
		const BlockRow *row = lfirst(lc);
		Oid			types[3] = {BYTEAOID, INT8OID, BYTEAOID};
		Datum		args[3] = {PointerGetDatum(mc_bytes_to_bytea(chain_id, MC_HASH_LEN)),
			Int64GetDatum(row->header.height),
		PointerGetDatum(mc_bytes_to_bytea(row->block_hash, MC_HASH_LEN))};

		medchain_spi_execute("SELECT 1 FROM medchain.held_hashes($1, ARRAY[$2]) h"
							 " WHERE h.block_hash OPERATOR(pg_catalog.=) $3",
							 3, types, args, true, 0, SPI_OK_SELECT, -1);
		if (SPI_processed > 0)
		{
			held = true;
			break;
		}
	}
	SPI_finish();
	return held;
}

/*
 * medchain.verify_proof_on_copy(p jsonb) RETURNS boolean
 *
 * A proof another hospital sent with a record, checked against the copy
 * of its chain this node holds: it holds from its own contents, and its
 * block, or one of the headers above it, is the block this node holds at
 * that height of that chain.  Nothing is asked of the origin.
 */
Datum
medchain_verify_proof_on_copy(PG_FUNCTION_ARGS)
{
	BlockRow	block;
	List	   *chain;

	PG_RETURN_BOOL(proof_holds(PG_GETARG_JSONB_P(0), &block, &chain) &&
				   anchored(&block, chain, NULL) &&
				   held_here(&block, chain));
}
