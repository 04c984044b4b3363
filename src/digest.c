/*-------------------------------------------------------------------------
 *
 * digest.c
 *	  medchain.digest() and medchain.verify_digest(): a few lines of JSON
 *	  that name a block, to keep outside the database, and the check that
 *	  the chain still holds that block (docs/FORMAT.md, "Digest").
 *
 * A digest is printed the same whoever asks for it: its sealed_at is in
 * UTC, in ISO 8601, whatever the session's TimeZone and DateStyle.  Every
 * member a digest gives is checked, and one that medchain does not write
 * is an error rather than something silently ignored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "block.h"
#include "chain_keys.h"
#include "chain_rules.h"
#include "digest.h"
#include "evidence_json.h"
#include "journal.h"
#include "node_key.h"
#include "row_encoding.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_digest);
PG_FUNCTION_INFO_V1(medchain_verify_digest);
PG_FUNCTION_INFO_V1(medchain_verify_digest_cosigned);

/* Most cosignatures a digest may carry: far more than a network has nodes. */
#define MC_MAX_DIGEST_COSIGNATURES 256

/* A peer's receipt for the digest's block (docs/FORMAT.md, "Receipts"). */
typedef struct Cosignature
{
	uint8		key[MC_SIGNER_KEY_LEN];
	uint8		signature[MC_SIGNATURE_LEN];
} Cosignature;

/* YYYY-MM-DDTHH:MM:SS.ffffffZ */
static char *
iso_utc(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(t) || timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 1 || tm.tm_year > 9999)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the head block's sealed_at is out of range"),
				 errdetail("A digest prints sealed_at as a date between the years 1 and 9999."),
				 errhint("Someone with superuser rights altered medchain.blocks; run medchain.verify().")));
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year, tm.tm_mon,
					tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/*
 * The peers' receipts this node keeps for a block, as the digest's
 * "cosignatures" member; nothing when there are none (or, in a database
 * whose objects predate them, no table to keep them).  Read as the
 * table's owner: whoever may take a digest may see who cosigned it.
 */
static void
put_cosignatures(StringInfo buf, const BlockRow *block)
{
	Oid			relid = get_relname_relid("cosignatures", medchain_namespace());
	Oid			types[2] = {INT8OID, BYTEAOID};
	Datum		args[2] = {Int64GetDatum(block->header.height),
	PointerGetDatum(mc_bytes_to_bytea(block->block_hash, MC_HASH_LEN))};
	OwnerScope	scope;
	int			rc;
	uint64		i;

	if (!OidIsValid(relid))
		return;
	SPI_connect();
	medchain_become_owner(relid, &scope);
	rc = SPI_execute_with_args("SELECT cosigner_key, signature FROM medchain.cosignatures"
							   " WHERE height OPERATOR(pg_catalog.=) $1"
							   "   AND block_hash OPERATOR(pg_catalog.=) $2"
							   " ORDER BY cosigner_key LIMIT " CppAsString2(MC_MAX_DIGEST_COSIGNATURES),
							   2, types, args, NULL, true, 0);
	medchain_leave_owner(&scope);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "medchain could not read the cosignatures: %s", SPI_result_code_string(rc));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bytea	   *key = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		bytea	   *signature = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

		appendStringInfoString(buf, i == 0 ? ", \"cosignatures\": [{" : ", {");
		put_hex(buf, "key", (const uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
		appendStringInfoString(buf, ", ");
		put_hex(buf, "signature", (const uint8 *) VARDATA_ANY(signature), VARSIZE_ANY_EXHDR(signature));
		appendStringInfoChar(buf, '}');
	}
	if (SPI_processed > 0)
		appendStringInfoChar(buf, ']');
	SPI_finish();
}

/*
 * medchain.digest() RETURNS jsonb
 *
 * The head block: format_version, node, height, block_hash, sealed_at and
 * the chain's difficulty floor; for a signed block also its chain's id,
 * its signer key and its signature, with which the digest can be checked
 * on its own; and the peers' receipts for the block, once there are any.
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
	appendStringInfo(&buf, "{\"format_version\": %u, ", head.header.format_version);
	put_string(&buf, "node", head.node_name);
	appendStringInfo(&buf, ", \"height\": " INT64_FORMAT ", ", head.header.height);
	put_hex(&buf, "block_hash", head.block_hash, MC_HASH_LEN);
	appendStringInfoString(&buf, ", ");
	put_string(&buf, "sealed_at", iso_utc(head.header.sealed_at));
	appendStringInfo(&buf, ", \"min_difficulty\": " INT64_FORMAT,
					 block_chain_floor(GetActiveSnapshot()));
	if (head.header.format_version >= MC_BLOCK_FORMAT_SIGNED)
	{
		uint8		chain_id[MC_HASH_LEN];

		block_chain_id(&head, chain_id);
		appendStringInfoString(&buf, ", ");
		put_hex(&buf, "chain_id", chain_id, MC_HASH_LEN);
		put_block_signature(&buf, &head);
	}
	put_cosignatures(&buf, &head);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_JSONB_P(jsonb_from_text(&buf));
}

/*
 * Is the chain intact from `from` (already fetched) to the head: every
 * block by the chain rules, at the chain's floor, linked to the one below?
 */
static bool
chain_intact_from(const BlockRow *from, int64 floor)
{
	BlockRow	previous = *from;
	BlockRow	next;
	uint8		chain_id[MC_HASH_LEN];
	bool		have_genesis = block_chain_id_of_chain(GetActiveSnapshot(), chain_id);
	Relation	journal = table_open(medchain_journal_relid(), AccessShareLock);
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	ChainKeys  *keys;

	entry_columns_find(journal, attnums);
	keys = chain_keys_load(journal, attnums, GetActiveSnapshot());
	table_close(journal, AccessShareLock);
	if (block_standing_problem(from, floor, have_genesis ? chain_id : NULL, keys) != NULL)
		return false;
	while (block_row_fetch(previous.header.height + 1, GetActiveSnapshot(), &next))
	{
		CHECK_FOR_INTERRUPTS();
		if (block_standing_problem(&next, floor, have_genesis ? chain_id : NULL, keys) != NULL ||
			chain_next_problem(&previous, &next) != NULL)
			return false;
		previous = next;
	}
	/* a block missing in the middle would leave blocks above it */
	return !block_head(GetActiveSnapshot(), &next) || next.header.height == previous.header.height;
}

static const char *const digest_members[] = {
	"format_version", "node", "height", "block_hash", "sealed_at", "min_difficulty",
	"chain_id", "signer_key", "signature", "cosignatures", NULL
};

static const char *const cosignature_members[] = {"key", "signature", NULL};

/*
 * The digest's cosignatures into *out (palloc'd); how many.  Errors when
 * the member is not an array of {"key", "signature"} objects of the right
 * sizes, or holds more than any network has nodes.
 */
static int
digest_cosignatures(Jsonb *digest, Cosignature **out)
{
	JsonReader	reader = {"digest", &digest->root, ""};
	JsonbValue *value = member_if_present(&reader, "cosignatures");
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;
	int			n = 0;

	*out = NULL;
	if (value == NULL)
		return 0;
	if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data))
		malformed("digest", "Member \"cosignatures\" is not an array.");
	*out = palloc(sizeof(Cosignature) * MC_MAX_DIGEST_COSIGNATURES);
	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		JsonReader	cosignature;

		if (token != WJB_ELEM)
			continue;
		if (n == MC_MAX_DIGEST_COSIGNATURES)
			malformed("digest", psprintf("Member \"cosignatures\" holds more than %d cosignatures.",
										 MC_MAX_DIGEST_COSIGNATURES));
		if (element.type != jbvBinary || !JsonContainerIsObject(element.val.binary.data))
			malformed("digest", "Each of \"cosignatures\" is an object with a key and a signature.");
		cosignature.what = "digest";
		cosignature.object = element.val.binary.data;
		cosignature.path = "cosignatures[].";
		only_known_members(&cosignature, cosignature_members);
		if (bytes_member(&cosignature, "key", (*out)[n].key, MC_SIGNER_KEY_LEN) != MC_SIGNER_KEY_LEN ||
			bytes_member(&cosignature, "signature", (*out)[n].signature, MC_SIGNATURE_LEN) != MC_SIGNATURE_LEN)
			malformed("digest", "A cosignature's key has 32 bytes and its signature 64.");
		n++;
	}
	return n;
}

/* Does every cosignature verify, as a receipt for this block, under its key? */
static bool
cosignatures_valid(Jsonb *digest, const BlockRow *block)
{
	Cosignature *cosignatures;
	int			n = digest_cosignatures(digest, &cosignatures);
	uint8		chain_id[MC_HASH_LEN];
	int			i;

	block_chain_id(block, chain_id);
	for (i = 0; i < n; i++)
		if (!medchain_signature_valid(SIGNED_RECEIPT, cosignatures[i].key, chain_id,
									  block->header.height, block->block_hash,
									  cosignatures[i].signature))
			return false;
	return true;
}

/* How many distinct keys among the cosignatures are registered peers'. */
static int
registered_cosigners(const Cosignature *cosignatures, int n)
{
	int			count = 0;
	int			i;
	int			j;
	uint64		k;

	SPI_connect();
	medchain_spi_execute("SELECT public_key FROM medchain.peer_directory",
						 0, NULL, NULL, true, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < n; i++)
	{
		bool		seen = false;

		for (j = 0; j < i && !seen; j++)
			seen = memcmp(cosignatures[j].key, cosignatures[i].key, MC_SIGNER_KEY_LEN) == 0;
		for (k = 0; k < SPI_processed && !seen; k++)
		{
			bool		isnull;
			bytea	   *key = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[k],
															SPI_tuptable->tupdesc, 1, &isnull));

			if (VARSIZE_ANY_EXHDR(key) == MC_SIGNER_KEY_LEN &&
				memcmp(VARDATA_ANY(key), cosignatures[i].key, MC_SIGNER_KEY_LEN) == 0)
			{
				count++;
				break;
			}
		}
	}
	SPI_finish();
	return count;
}

/*
 * Does the header match every member the digest gives, each cosignature
 * a peer's valid receipt for it?  The floor is checked by the caller,
 * against the chain it belongs to.
 */
bool
digest_matches_block(Jsonb *digest, const BlockRow *block)
{
	JsonReader	reader = {"digest", &digest->root, ""};
	uint8		hash[MC_HASH_LEN];
	JsonbValue *value;

	hash_member(&reader, "block_hash", hash);
	if (memcmp(hash, block->block_hash, MC_HASH_LEN) != 0)
		return false;
	if (member_if_present(&reader, "node") != NULL &&
		strcmp(string_member(&reader, "node"), block->node_name) != 0)
		return false;
	if (member_if_present(&reader, "format_version") != NULL &&
		integer_member(&reader, "format_version", 1, MC_BLOCK_FORMAT_SIGNED) !=
		block->header.format_version)
		return false;
	if (member_if_present(&reader, "chain_id") != NULL)
	{
		uint8		chain_id[MC_HASH_LEN];

		hash_member(&reader, "chain_id", hash);
		block_chain_id(block, chain_id);
		if (block->header.format_version < MC_BLOCK_FORMAT_SIGNED ||
			memcmp(hash, chain_id, MC_HASH_LEN) != 0)
			return false;
	}
	if (member_if_present(&reader, "signer_key") != NULL)
	{
		uint8		key[MC_SIGNER_KEY_LEN];

		if (bytes_member(&reader, "signer_key", key, MC_SIGNER_KEY_LEN) != block->signer_key_len ||
			memcmp(key, block->signer_key, MC_SIGNER_KEY_LEN) != 0)
			return false;
	}
	if (member_if_present(&reader, "signature") != NULL)
	{
		uint8		signature[MC_SIGNATURE_LEN];

		if (bytes_member(&reader, "signature", signature, MC_SIGNATURE_LEN) != block->signature_len ||
			memcmp(signature, block->signature, MC_SIGNATURE_LEN) != 0)
			return false;
	}
	if ((value = member_if_present(&reader, "sealed_at")) != NULL)
	{
		/* format 2 prints it in UTC; format 1 in the session's settings */
		int			settings_level = medchain_value_settings_fix();
		TimestampTz sealed_at;

		sealed_at = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
															CStringGetDatum(string_member(&reader, "sealed_at")),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));
		if (settings_level >= 0)
			medchain_settings_restore(settings_level);
		if (sealed_at != block->header.sealed_at)
			return false;
	}
	return cosignatures_valid(digest, block);
}

/* The digest's height, after checking that it is a digest at all. */
int64
digest_height(Jsonb *digest, int64 *floor)
{
	JsonReader	reader = {"digest", &digest->root, ""};
	uint8		hash[MC_HASH_LEN];
	Cosignature *cosignatures;

	if (!JB_ROOT_IS_OBJECT(digest))
		malformed("digest", "A digest is a JSON object.");
	only_known_members(&reader, digest_members);
	hash_member(&reader, "block_hash", hash);
	if (member_if_present(&reader, "format_version") != NULL)
		(void) integer_member(&reader, "format_version", 1, MC_BLOCK_FORMAT_SIGNED);
	if (member_if_present(&reader, "chain_id") != NULL)
		hash_member(&reader, "chain_id", hash);
	if (member_if_present(&reader, "signer_key") != NULL)
	{
		uint8		key[MC_SIGNER_KEY_LEN];

		(void) bytes_member(&reader, "signer_key", key, MC_SIGNER_KEY_LEN);
	}
	if (member_if_present(&reader, "signature") != NULL)
	{
		uint8		signature[MC_SIGNATURE_LEN];

		(void) bytes_member(&reader, "signature", signature, MC_SIGNATURE_LEN);
	}
	if (member_if_present(&reader, "node") != NULL)
		(void) string_member(&reader, "node");
	if (member_if_present(&reader, "sealed_at") != NULL)
		(void) string_member(&reader, "sealed_at");
	(void) digest_cosignatures(digest, &cosignatures);
	*floor = member_if_present(&reader, "min_difficulty") != NULL ?
		integer_member(&reader, "min_difficulty", 0, MC_MAX_DIFFICULTY) : MC_FLOOR_UNKNOWN;
	return integer_member(&reader, "height", 0, PG_INT64_MAX);
}

/*
 * Does the digest hold: its block still on the chain, matching every
 * member the digest gives (each cosignature a valid receipt for it), and
 * the chain intact from it to the head?  The cosignatures are returned.
 */
static bool
digest_holds(Jsonb *digest, BlockRow *block, Cosignature **cosignatures, int *ncosignatures)
{
	int64		claimed_floor;
	int64		height = digest_height(digest, &claimed_floor);
	int64		floor = block_chain_floor(GetActiveSnapshot());

	*ncosignatures = digest_cosignatures(digest, cosignatures);
	if (claimed_floor != MC_FLOOR_UNKNOWN && claimed_floor != floor)
		return false;
	if (!block_row_fetch(height, GetActiveSnapshot(), block) ||
		!digest_matches_block(digest, block))
		return false;
	return chain_intact_from(block, floor);
}

/*
 * medchain.verify_digest(d jsonb) RETURNS boolean
 *
 * True when the block at the digest's height is still on the chain,
 * matching every member the digest gives, the chain from it to the head
 * is intact, and every cosignature it carries verifies.
 */
Datum
medchain_verify_digest(PG_FUNCTION_ARGS)
{
	BlockRow	block;
	Cosignature *cosignatures;
	int			n;

	PG_RETURN_BOOL(digest_holds(PG_GETARG_JSONB_P(0), &block, &cosignatures, &n));
}

/*
 * medchain.verify_digest(d jsonb, min_cosigners integer) RETURNS boolean
 *
 * The same, and at least min_cosigners distinct peers registered on this
 * node (medchain.peer_directory) cosigned the digest's block.
 */
Datum
medchain_verify_digest_cosigned(PG_FUNCTION_ARGS)
{
	int32		min_cosigners = PG_GETARG_INT32(1);
	BlockRow	block;
	Cosignature *cosignatures;
	int			n;

	if (min_cosigners < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_cosigners must not be negative"),
				 errdetail("It is the number of peers whose receipts the digest must carry."),
				 errhint("Pass 0 to require none, or up to the number of peers.")));
	if (!digest_holds(PG_GETARG_JSONB_P(0), &block, &cosignatures, &n))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(min_cosigners == 0 || registered_cosigners(cosignatures, n) >= min_cosigners);
}
