/*-------------------------------------------------------------------------
 *
 * proof.c
 *	  Digests and inclusion proofs: what auditors take out of the database
 *	  and check elsewhere (docs/FORMAT.md, "Digest" and "Inclusion proof").
 *
 * digest() names the head block in a few lines of JSON; verify_digest()
 * says whether that block is still on the chain, unchanged, with an intact
 * chain from it to the head.  proof() gathers everything that ties one
 * sealed row to its block header; verify_proof() checks such a proof from
 * its own contents, without reading any table, exactly as an outside
 * verifier would.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "block.h"
#include "journal.h"
#include "ledger_cache.h"
#include "merkle.h"
#include "privileges.h"
#include "registry.h"
#include "rows.h"
#include "wire.h"

PG_FUNCTION_INFO_V1(medchain_digest);
PG_FUNCTION_INFO_V1(medchain_verify_digest);
PG_FUNCTION_INFO_V1(medchain_proof);
PG_FUNCTION_INFO_V1(medchain_verify_proof);

/* ---------- writing JSON ---------- */

/* Bytes as a JSON string of lower-case hex digits. */
static void
put_hex_value(StringInfo buf, const uint8 *bytes, int len)
{
	static const char digits[] = "0123456789abcdef";
	int			i;

	appendStringInfoChar(buf, '"');
	for (i = 0; i < len; i++)
	{
		appendStringInfoChar(buf, digits[bytes[i] >> 4]);
		appendStringInfoChar(buf, digits[bytes[i] & 15]);
	}
	appendStringInfoChar(buf, '"');
}

static void
put_hex(StringInfo buf, const char *name, const uint8 *bytes, int len)
{
	appendStringInfo(buf, "\"%s\": ", name);
	put_hex_value(buf, bytes, len);
}

static void
put_string(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, "\"%s\": ", name);
	escape_json(buf, value);
}

static Jsonb *
jsonb_from_text(StringInfo buf)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data)));
}

/* The header fields of a block, with its hash and node name. */
static void
put_block(StringInfo buf, const BlockRow *row)
{
	appendStringInfo(buf, "{\"height\": " INT64_FORMAT ", \"format_version\": %u, ",
					 row->header.height, row->header.format_version);
	put_hex(buf, "prev_hash", row->header.prev_hash, MC_HASH_LEN);
	appendStringInfoString(buf, ", ");
	put_hex(buf, "merkle_root", row->header.merkle_root, MC_HASH_LEN);
	appendStringInfo(buf, ", \"sealed_at\": " INT64_FORMAT ", \"entry_count\": %u, \"difficulty\": %u, ",
					 mc_unix_usecs(row->header.sealed_at), row->header.entry_count,
					 row->header.difficulty);
	put_hex(buf, "node_id", row->header.node_id, MC_HASH_LEN);
	appendStringInfoString(buf, ", ");
	put_string(buf, "node_name", row->node_name);
	appendStringInfo(buf, ", \"nonce\": " UINT64_FORMAT ", ", row->header.nonce);
	put_hex(buf, "block_hash", row->block_hash, MC_HASH_LEN);
	appendStringInfoChar(buf, '}');
}

/* ---------- reading JSON ---------- */

static void
malformed(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("malformed %s", what),
			 errdetail("%s", detail),
			 errhint("Pass the value exactly as medchain produced it; docs/FORMAT.md describes it.")));
}

typedef struct JsonReader
{
	const char *what;			/* "digest" or "proof", for errors */
	JsonbContainer *object;
	const char *path;			/* where the object sits, for errors */
} JsonReader;

static JsonbValue *
member(const JsonReader *reader, const char *name, enum jbvType type)
{
	JsonbValue	key;
	JsonbValue *value;

	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	value = findJsonbValueFromContainer(reader->object, JB_FOBJECT, &key);
	if (value == NULL)
		malformed(reader->what, psprintf("Member \"%s%s\" is missing.", reader->path, name));
	if (value->type != type)
		malformed(reader->what, psprintf("Member \"%s%s\" has the wrong JSON type.",
										 reader->path, name));
	return value;
}

static JsonReader
object_member(const JsonReader *reader, const char *name)
{
	JsonbValue *value = member(reader, name, jbvBinary);
	JsonReader	inner = {reader->what, value->val.binary.data,
	psprintf("%s%s.", reader->path, name)};

	if (!JsonContainerIsObject(inner.object))
		malformed(reader->what, psprintf("Member \"%s%s\" is not an object.", reader->path, name));
	return inner;
}

static char *
string_member(const JsonReader *reader, const char *name)
{
	JsonbValue *value = member(reader, name, jbvString);

	return pnstrdup(value->val.string.val, value->val.string.len);
}

/* An integer member within [min, max]. */
static int64
integer_member(const JsonReader *reader, const char *name, int64 min, int64 max)
{
	JsonbValue *value = member(reader, name, jbvNumeric);
	Datum		numeric = NumericGetDatum(value->val.numeric);
	Datum		truncated = DirectFunctionCall2(numeric_trunc, numeric, Int32GetDatum(0));
	int64		result;

	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, numeric, truncated)))
		malformed(reader->what, psprintf("Member \"%s%s\" is not an integer.", reader->path, name));
	result = DatumGetInt64(DirectFunctionCall1(numeric_int8, numeric));
	if (result < min || result > max)
		malformed(reader->what, psprintf("Member \"%s%s\" is out of range.", reader->path, name));
	return result;
}

/* A u64 member (nonce, xact): numeric up to 2^64-1. */
static uint64
u64_member(const JsonReader *reader, const char *name)
{
	JsonbValue *value = member(reader, name, jbvNumeric);
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(value->val.numeric)));
	char	   *end;
	uint64		result;

	errno = 0;
	result = strtou64(text, &end, 10);
	if (errno != 0 || *end != '\0' || text[0] == '-' || text[0] == '\0')
		malformed(reader->what, psprintf("Member \"%s%s\" is not an unsigned 64-bit integer.",
										 reader->path, name));
	return result;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text into bytes; *len is the byte count.  False if not hex. */
static bool
hex_to_bytes(const char *hex, int hexlen, uint8 *out, int *len)
{
	int			i;

	if (hexlen % 2 != 0)
		return false;
	for (i = 0; i < hexlen; i += 2)
	{
		int			hi = hex_value(hex[i]);
		int			lo = hex_value(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8) (hi << 4 | lo);
	}
	*len = hexlen / 2;
	return true;
}

static void
hash_from_hex(const JsonReader *reader, const char *name, const char *hex, int hexlen,
			  uint8 out[MC_HASH_LEN])
{
	int			len;

	if (hexlen != 2 * MC_HASH_LEN || !hex_to_bytes(hex, hexlen, out, &len))
		malformed(reader->what, psprintf("Member \"%s%s\" is not 64 hex digits.",
										 reader->path, name));
}

static void
hash_member(const JsonReader *reader, const char *name, uint8 out[MC_HASH_LEN])
{
	JsonbValue *value = member(reader, name, jbvString);

	hash_from_hex(reader, name, value->val.string.val, value->val.string.len, out);
}

static void
block_from_json(const JsonReader *reader, BlockRow *row)
{
	row->header.height = integer_member(reader, "height", 0, PG_INT64_MAX);
	row->header.format_version = (uint32) integer_member(reader, "format_version", 0, PG_UINT32_MAX);
	hash_member(reader, "prev_hash", row->header.prev_hash);
	hash_member(reader, "merkle_root", row->header.merkle_root);
	row->header.sealed_at = mc_from_unix_usecs(integer_member(reader, "sealed_at",
															   PG_INT64_MIN / 2, PG_INT64_MAX / 2));
	row->header.entry_count = (uint32) integer_member(reader, "entry_count", 1, PG_UINT32_MAX);
	row->header.difficulty = (uint32) integer_member(reader, "difficulty", 0, MC_MAX_DIFFICULTY);
	hash_member(reader, "node_id", row->header.node_id);
	row->node_name = string_member(reader, "node_name");
	row->header.nonce = u64_member(reader, "nonce");
	hash_member(reader, "block_hash", row->block_hash);
}

/* ---------- digests ---------- */

/*
 * medchain.digest() RETURNS jsonb
 *
 * The head block: node, height, block_hash, sealed_at, format_version.
 */
Datum
medchain_digest(PG_FUNCTION_ARGS)
{
	BlockRow	head;
	StringInfoData buf;

	if (!block_head(GetActiveSnapshot(), &head))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the chain has no block yet"),
				 errdetail("A digest names a sealed block, and nothing has been sealed."),
				 errhint("Run medchain.seal() first.")));

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	put_string(&buf, "node", head.node_name);
	appendStringInfo(&buf, ", \"height\": " INT64_FORMAT ", ", head.header.height);
	put_hex(&buf, "block_hash", head.block_hash, MC_HASH_LEN);
	appendStringInfoString(&buf, ", ");
	put_string(&buf, "sealed_at", timestamptz_to_str(head.header.sealed_at));
	appendStringInfo(&buf, ", \"format_version\": %u}", head.header.format_version);
	PG_RETURN_JSONB_P(jsonb_from_text(&buf));
}

/*
 * Is the chain intact from `from` (already fetched) to the head: every
 * header hashing to its block_hash and meeting its difficulty, no
 * difficulty lower than the block before, heights without a gap, each
 * prev_hash the block_hash before it?
 */
static bool
chain_intact_from(const BlockRow *from)
{
	BlockRow	previous = *from;
	BlockRow	next;

	if (block_integrity_problem(from) != NULL)
		return false;
	while (block_row_fetch(previous.header.height + 1, GetActiveSnapshot(), &next))
	{
		CHECK_FOR_INTERRUPTS();
		if (block_integrity_problem(&next) != NULL ||
			next.header.difficulty < previous.header.difficulty ||
			memcmp(next.header.prev_hash, previous.block_hash, MC_HASH_LEN) != 0)
			return false;
		previous = next;
	}
	/* a block missing in the middle would leave blocks above it */
	return !block_head(GetActiveSnapshot(), &next) || next.header.height == previous.header.height;
}

/*
 * medchain.verify_digest(d jsonb) RETURNS boolean
 */
Datum
medchain_verify_digest(PG_FUNCTION_ARGS)
{
	Jsonb	   *digest = PG_GETARG_JSONB_P(0);
	JsonReader	reader = {"digest", &digest->root, ""};
	uint8		hash[MC_HASH_LEN];
	int64		height;
	char	   *node;
	BlockRow	block;

	if (!JB_ROOT_IS_OBJECT(digest))
		malformed("digest", "A digest is a JSON object.");
	height = integer_member(&reader, "height", 0, PG_INT64_MAX);
	hash_member(&reader, "block_hash", hash);
	if (integer_member(&reader, "format_version", 0, PG_INT32_MAX) != MC_BLOCK_FORMAT_VERSION)
		malformed("digest", psprintf("Only format_version %d is known.", MC_BLOCK_FORMAT_VERSION));
	node = string_member(&reader, "node");

	if (!block_row_fetch(height, GetActiveSnapshot(), &block) ||
		memcmp(block.block_hash, hash, MC_HASH_LEN) != 0 ||
		strcmp(block.node_name, node) != 0)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(chain_intact_from(&block));
}

/* ---------- inclusion proofs ---------- */

static void
report_altered_block(int64 height)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the entries of block %lld do not match its header", (long long) height),
			 errdetail("No proof can be built from an altered block."),
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

/* Entry hashes of the block, in leaf order; errors if they do not fit its header. */
static uint8 (*block_leaves(Relation journal, const AttrNumber *attnums,
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
		report_altered_block(block->header.height);
	return collector.leaves;
}


/* The entry's fields as FORMAT.md's proof JSON gives them. */
static void
put_entry(StringInfo buf, const AttrNumber *attnums, Datum *values, bool *isnull)
{
	Jsonb	   *key = DatumGetJsonbP(values[attnums[COL_ROW_KEY] - 1]);
	bytea	   *row_hash = DatumGetByteaPP(values[attnums[COL_ROW_HASH] - 1]);

	appendStringInfoChar(buf, '{');
	put_string(buf, "kind", TextDatumGetCString(values[attnums[COL_KIND] - 1]));
	appendStringInfo(buf, ", \"entry_id\": " INT64_FORMAT ", ",
					 DatumGetInt64(values[attnums[COL_ENTRY_ID] - 1]));
	put_string(buf, "relation", TextDatumGetCString(values[attnums[COL_RELATION] - 1]));
	appendStringInfoString(buf, ", ");
	put_string(buf, "row_key", JsonbToCString(NULL, &key->root, VARSIZE(key)));
	appendStringInfoString(buf, ", ");
	put_hex(buf, "row_hash", (const uint8 *) VARDATA_ANY(row_hash), VARSIZE_ANY_EXHDR(row_hash));
	appendStringInfoString(buf, ", ");
	put_string(buf, "recorded_by", NameStr(*DatumGetName(values[attnums[COL_RECORDED_BY] - 1])));
	appendStringInfo(buf, ", \"recorded_at\": " INT64_FORMAT ", \"xact\": " UINT64_FORMAT "}",
					 mc_unix_usecs(DatumGetTimestampTz(values[attnums[COL_RECORDED_AT] - 1])),
					 U64FromFullTransactionId(DatumGetFullTransactionId(values[attnums[COL_XACT] - 1])));
}

static void
require_table_read(Relation rel)
{
	if (pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", RelationGetRelationName(rel)),
				 errdetail("A proof contains the row itself."),
				 errhint("Ask for SELECT on the table, or for a proof from someone who has it.")));
}

/*
 * medchain.proof(tbl regclass, key jsonb) RETURNS jsonb
 *
 * Everything that ties a sealed row to its block: the row's encoding, its
 * entry, the Merkle audit path and the block header.
 */
Datum
medchain_proof(PG_FUNCTION_ARGS)
{
	Relation	rel = ledger_table_open(PG_GETARG_OID(0));
	Jsonb	   *key = PG_GETARG_JSONB_P(1);
	LedgerRelation *ledger = ledger_relation_get(rel);
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	HeapTuple	entry;
	int64		height;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *isnull;
	StringInfo	row;
	BlockRow	block;
	uint8		(*leaves)[MC_HASH_LEN];
	uint8		path[MC_MERKLE_MAX_DEPTH][MC_HASH_LEN];
	uint64		count;
	uint64		index = 0;
	int			path_length;
	int			i;
	bytea	   *entry_hash;
	StringInfoData buf;
	Registration registration;

	require_table_read(rel);
	row = ledger_row_encoding(rel, ledger, key);
	if (!registry_active(RelationGetRelid(rel), &registration))
		elog(ERROR, "ledger table %s lost its registration", ledger->relation_name);

	journal = table_open(medchain_relation("entries"), AccessShareLock);
	desc = RelationGetDescr(journal);
	entry_columns_find(journal, attnums);
	entry = journal_row_entry(journal, attnums, ledger->relation_name, key,
							  registration.prior_entry_id,
							  GetActiveSnapshot());
	if (entry == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("row %s of %s has no entry",
						JsonbToCString(NULL, &key->root, VARSIZE(key)), ledger->relation_name),
				 errdetail("The row was not recorded by medchain."),
				 errhint("Run medchain.verify() on the table.")));
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(entry, desc, values, isnull);
	if (isnull[attnums[COL_BLOCK_HEIGHT] - 1])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("row %s of %s is not sealed yet",
						JsonbToCString(NULL, &key->root, VARSIZE(key)), ledger->relation_name),
				 errdetail("Its entry %lld is pending: no block holds it.",
						   (long long) DatumGetInt64(values[attnums[COL_ENTRY_ID] - 1])),
				 errhint("Run medchain.seal(), then ask for the proof again.")));
	height = DatumGetInt64(values[attnums[COL_BLOCK_HEIGHT] - 1]);
	if (!block_row_fetch(height, GetActiveSnapshot(), &block))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block %lld of the row's entry does not exist", (long long) height),
				 errdetail("The chain was altered."),
				 errhint("Run medchain.verify() to see what was altered.")));

	leaves = block_leaves(journal, attnums, &block);
	count = block.header.entry_count;
	entry_hash = DatumGetByteaPP(values[attnums[COL_ENTRY_HASH] - 1]);
	while (index < count && memcmp(leaves[index], VARDATA_ANY(entry_hash), MC_HASH_LEN) != 0)
		index++;
	if (index == count)
		report_altered_block(block.header.height);
	for (i = 0; i < (int) count; i++)
		merkle_leaf_hash(leaves[i], leaves[i]);
	path_length = merkle_audit_path((const uint8 (*)[MC_HASH_LEN]) leaves, count, index, path);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"format_version\": %d, ", MC_BLOCK_FORMAT_VERSION);
	put_hex(&buf, "row", (const uint8 *) row->data, row->len);
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
	appendStringInfoChar(&buf, '}');

	table_close(journal, AccessShareLock);
	table_close(rel, AccessShareLock);
	PG_RETURN_JSONB_P(jsonb_from_text(&buf));
}

/*
 * medchain.verify_proof(p jsonb) RETURNS boolean
 *
 * From the proof alone: the row hashes to the entry's row_hash, the entry
 * to entry_hash, the leaf and audit path to the block's Merkle root, the
 * header to block_hash, which meets the difficulty.
 */
Datum
medchain_verify_proof(PG_FUNCTION_ARGS)
{
	Jsonb	   *proof = PG_GETARG_JSONB_P(0);
	JsonReader	reader = {"proof", &proof->root, ""};
	JsonReader	entry_reader;
	JsonReader	block_reader;
	JsonbValue *row_hex;
	JsonbValue *path_value;
	uint8	   *row;
	int			row_len;
	uint8		row_hash[MC_HASH_LEN];
	uint8		entry_hash[MC_HASH_LEN];
	uint8		computed[MC_HASH_LEN];
	uint8		path[MC_MERKLE_MAX_DEPTH][MC_HASH_LEN];
	int			path_length = 0;
	EntryFields fields;
	BlockRow	block;
	StringInfoData encoding;
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;
	uint64		leaf_index;
	uint8		node_id[MC_HASH_LEN];

	if (!JB_ROOT_IS_OBJECT(proof))
		malformed("proof", "A proof is a JSON object.");
	if (integer_member(&reader, "format_version", 0, PG_INT32_MAX) != MC_BLOCK_FORMAT_VERSION)
		malformed("proof", psprintf("Only format_version %d is known.", MC_BLOCK_FORMAT_VERSION));

	row_hex = member(&reader, "row", jbvString);
	row = palloc(row_hex->val.string.len / 2 + 1);
	if (!hex_to_bytes(row_hex->val.string.val, row_hex->val.string.len, row, &row_len))
		malformed("proof", "Member \"row\" is not hex digits.");

	entry_reader = object_member(&reader, "entry");
	fields.kind = text_slice(string_member(&entry_reader, "kind"));
	fields.entry_id = integer_member(&entry_reader, "entry_id", 0, PG_INT64_MAX);
	fields.relation = text_slice(string_member(&entry_reader, "relation"));
	fields.has_row_key = true;
	fields.row_key_text = text_slice(string_member(&entry_reader, "row_key"));
	hash_member(&entry_reader, "row_hash", row_hash);
	fields.row_hash = row_hash;
	fields.recorded_by = text_slice(string_member(&entry_reader, "recorded_by"));
	fields.recorded_at = mc_from_unix_usecs(integer_member(&entry_reader, "recorded_at",
														   PG_INT64_MIN / 2, PG_INT64_MAX / 2));
	fields.xact = u64_member(&entry_reader, "xact");
	hash_member(&reader, "entry_hash", entry_hash);
	leaf_index = (uint64) integer_member(&reader, "leaf_index", 0, PG_INT64_MAX);

	path_value = member(&reader, "audit_path", jbvBinary);
	if (!JsonContainerIsArray(path_value->val.binary.data))
		malformed("proof", "Member \"audit_path\" is not an array.");
	it = JsonbIteratorInit(path_value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		if (token != WJB_ELEM)
			continue;
		if (element.type != jbvString || path_length == MC_MERKLE_MAX_DEPTH)
			malformed("proof", "Member \"audit_path\" must hold at most 64 hashes.");
		hash_from_hex(&reader, "audit_path", element.val.string.val,
					  element.val.string.len, path[path_length++]);
	}

	block_reader = object_member(&reader, "block");
	block_from_json(&block_reader, &block);

	/* the row, its entry, the leaf, the root, the header */
	mc_sha256(row, row_len, computed);
	if (memcmp(computed, row_hash, MC_HASH_LEN) != 0)
		PG_RETURN_BOOL(false);
	initStringInfo(&encoding);
	entry_encode(&encoding, &fields);
	mc_sha256(encoding.data, encoding.len, computed);
	if (memcmp(computed, entry_hash, MC_HASH_LEN) != 0)
		PG_RETURN_BOOL(false);
	merkle_leaf_hash(entry_hash, computed);
	if (!merkle_root_from_path(computed, leaf_index, block.header.entry_count,
							   (const uint8 (*)[MC_HASH_LEN]) path, path_length, computed) ||
		memcmp(computed, block.header.merkle_root, MC_HASH_LEN) != 0)
		PG_RETURN_BOOL(false);
	block_node_id(block.node_name, node_id);
	if (memcmp(node_id, block.header.node_id, MC_HASH_LEN) != 0)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(block_integrity_problem(&block) == NULL);
}
