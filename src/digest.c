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
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "block.h"
#include "chain_keys.h"
#include "chain_rules.h"
#include "digest.h"
#include "evidence_json.h"
#include "journal.h"
#include "row_encoding.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_digest);
PG_FUNCTION_INFO_V1(medchain_verify_digest);

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
 * medchain.digest() RETURNS jsonb
 *
 * The head block: format_version, node, height, block_hash, sealed_at and
 * the chain's difficulty floor; for a signed block also its chain's id,
 * its signer key and its signature, with which the digest can be checked
 * on its own.
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
	"chain_id", "signer_key", "signature", NULL
};

/*
 * Does the header match every member the digest gives?  The floor is
 * checked by the caller, against the chain it belongs to.
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
	return true;
}

/* The digest's height, after checking that it is a digest at all. */
int64
digest_height(Jsonb *digest, int64 *floor)
{
	JsonReader	reader = {"digest", &digest->root, ""};
	uint8		hash[MC_HASH_LEN];

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
	*floor = member_if_present(&reader, "min_difficulty") != NULL ?
		integer_member(&reader, "min_difficulty", 0, MC_MAX_DIFFICULTY) : MC_FLOOR_UNKNOWN;
	return integer_member(&reader, "height", 0, PG_INT64_MAX);
}

/*
 * medchain.verify_digest(d jsonb) RETURNS boolean
 *
 * True when the block at the digest's height is still on the chain,
 * matching every member the digest gives, and the chain from it to the
 * head is intact.
 */
Datum
medchain_verify_digest(PG_FUNCTION_ARGS)
{
	Jsonb	   *digest = PG_GETARG_JSONB_P(0);
	int64		claimed_floor;
	int64		height = digest_height(digest, &claimed_floor);
	int64		floor = block_chain_floor(GetActiveSnapshot());
	BlockRow	block;

	if (claimed_floor != MC_FLOOR_UNKNOWN && claimed_floor != floor)
		PG_RETURN_BOOL(false);
	if (!block_row_fetch(height, GetActiveSnapshot(), &block) ||
		!digest_matches_block(digest, &block))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(chain_intact_from(&block, floor));
}
