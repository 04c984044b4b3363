/*-------------------------------------------------------------------------
 *
 * chain_keys.c
 *	  The node keys a chain knows: announced by node_key events, retired
 *	  by retire_node_key events, both events of medchain.blocks; and the SQL
 *	  functions medchain.node_identity() and medchain.retire_node_key().
 *
 * A signature shows which key signed a block, not that the key was this
 * chain's: anybody can make a key.  So seal() announces each key in the
 * chain itself, in the block the key first signs, and verify() accepts a
 * block only from a key announced at or below it and not retired at or
 * below it.  The announcement is hashed like every entry, sealed under the
 * Merkle root of the block it authorizes, and survives dump and restore
 * with the journal.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "chain_config.h"
#include "chain_keys.h"
#include "enable.h"
#include "enablement.h"
#include "evidence_json.h"
#include "node_key.h"
#include "privileges.h"

PG_FUNCTION_INFO_V1(medchain_node_identity);
PG_FUNCTION_INFO_V1(medchain_retire_node_key);

void
chain_events_name(LedgerName *name)
{
	name->schema = MC_CHAIN_EVENTS_SCHEMA;
	name->table = MC_CHAIN_EVENTS_TABLE;
	name->display = MC_CHAIN_EVENTS_RELATION;
}

/* A member of 2 * len lower-case hex digits into out; false if it is not. */
static bool
detail_hex(Jsonb *detail, const char *name, uint8 *out, int len)
{
	JsonbValue *value = detail_member(detail, name);
	int			got;
	int			i;

	if (value == NULL || value->type != jbvString || value->val.string.len != 2 * len)
		return false;
	for (i = 0; i < value->val.string.len; i++)
		if (!((value->val.string.val[i] >= '0' && value->val.string.val[i] <= '9') ||
			  (value->val.string.val[i] >= 'a' && value->val.string.val[i] <= 'f')))
			return false;
	return hex_to_bytes(value->val.string.val, value->val.string.len, out, &got) && got == len;
}

ChainKey *
chain_keys_find(const ChainKeys *keys, const uint8 fingerprint[MC_HASH_LEN])
{
	ListCell   *lc;

	foreach(lc, keys->keys)
	{
		ChainKey   *key = lfirst(lc);

		if (memcmp(key->fingerprint, fingerprint, MC_HASH_LEN) == 0)
			return key;
	}
	return NULL;
}

static ChainKey *
chain_keys_add(ChainKeys *keys, const uint8 fingerprint[MC_HASH_LEN])
{
	ChainKey   *key = chain_keys_find(keys, fingerprint);

	if (key != NULL)
		return key;
	key = palloc0(sizeof(ChainKey));
	memcpy(key->fingerprint, fingerprint, MC_HASH_LEN);
	key->announced_height = -1;
	key->retired_height = -1;
	keys->keys = lappend(keys->keys, key);
	return key;
}

/* The lower of two heights, -1 standing for none. */
static int64
lowest_height(int64 a, int64 b)
{
	return a < 0 ? b : b < 0 ? a : Min(a, b);
}

ChainKeys *
chain_keys_load(Relation journal, const AttrNumber *attnums, Snapshot snapshot)
{
	ChainKeys  *keys = palloc0(sizeof(ChainKeys));
	TupleDesc	desc = RelationGetDescr(journal);
	JournalScan scan;
	HeapTuple	tuple;

	journal_scan_relation(&scan, journal, attnums, snapshot, MC_CHAIN_EVENTS_RELATION,
						  JOURNAL_EVENTS, NULL);
	while ((tuple = journal_scan_next(&scan)) != NULL)
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, attnums[COL_DETAIL], desc, &isnull);
		Jsonb	   *detail;
		int64		height;
		int64		entry_id;
		uint8		public_key[MC_SIGNER_KEY_LEN];
		uint8		fingerprint[MC_HASH_LEN];
		uint8		computed[MC_HASH_LEN];
		ChainKey   *key;

		if (isnull)
			continue;
		detail = DatumGetJsonbPCopy(value);
		value = heap_getattr(tuple, attnums[COL_BLOCK_HEIGHT], desc, &isnull);
		height = isnull ? -1 : DatumGetInt64(value);
		value = heap_getattr(tuple, attnums[COL_ENTRY_ID], desc, &isnull);
		entry_id = isnull ? 0 : DatumGetInt64(value);
		if (!detail_hex(detail, "fingerprint", fingerprint, MC_HASH_LEN))
			continue;
		if (detail_action_is(detail, MC_ACTION_NODE_KEY))
		{
			/* an announcement names its key by the key's own hash */
			if (!detail_hex(detail, "public_key", public_key, MC_SIGNER_KEY_LEN))
				continue;
			medchain_key_fingerprint(public_key, computed);
			if (memcmp(computed, fingerprint, MC_HASH_LEN) != 0 || height < 0)
				continue;
			key = chain_keys_add(keys, fingerprint);
			memcpy(key->public_key, public_key, MC_SIGNER_KEY_LEN);
			key->announced_height = lowest_height(key->announced_height, height);
		}
		else if (detail_action_is(detail, MC_ACTION_RETIRE_NODE_KEY))
		{
			JsonbValue *reason = detail_member(detail, "reason");

			key = chain_keys_add(keys, fingerprint);
			if (key->retire_entry_id != 0 &&
				(height < 0 || (key->retired_height >= 0 && key->retired_height <= height)))
				continue;		/* an earlier retirement stands */
			key->retired_height = height;
			key->retire_entry_id = entry_id;
			key->retire_reason = reason != NULL && reason->type == jbvString ?
				pnstrdup(reason->val.string.val, reason->val.string.len) : "";
		}
	}
	journal_scan_end(&scan);
	return keys;
}

void
chain_keys_announcement(JournalRecord *record, LedgerName *name,
						const uint8 public_key[MC_SIGNER_KEY_LEN], uint8 row_hash[MC_HASH_LEN])
{
	uint8		fingerprint[MC_HASH_LEN];
	StringInfoData detail;

	medchain_key_fingerprint(public_key, fingerprint);
	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"action\": \"%s\", ", MC_ACTION_NODE_KEY);
	put_hex(&detail, "public_key", public_key, MC_SIGNER_KEY_LEN);
	appendStringInfoString(&detail, ", ");
	put_hex(&detail, "fingerprint", fingerprint, MC_HASH_LEN);
	appendStringInfoString(&detail, ", ");
	put_string(&detail, "node_name", chain_node_name());
	appendStringInfoChar(&detail, '}');
	chain_events_name(name);
	journal_event_record(record, name, 0, detail.data, row_hash);
}

/*
 * medchain.node_identity() RETURNS jsonb
 *
 * Who seals this database's blocks: the node's name, its key and the key's
 * fingerprint (what identifies the node), and the chain's id.
 */
Datum
medchain_node_identity(PG_FUNCTION_ARGS)
{
	uint8		public_key[MC_SIGNER_KEY_LEN];
	uint8		fingerprint[MC_HASH_LEN];
	uint8		chain_id[MC_HASH_LEN];
	StringInfoData buf;

	medchain_node_public_key(public_key);
	medchain_key_fingerprint(public_key, fingerprint);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	put_string(&buf, "node_name", chain_node_name());
	appendStringInfoString(&buf, ", \"algorithm\": \"ed25519\", ");
	put_hex(&buf, "public_key", public_key, MC_SIGNER_KEY_LEN);
	appendStringInfoString(&buf, ", ");
	put_hex(&buf, "fingerprint", fingerprint, MC_HASH_LEN);
	if (block_chain_id_of_chain(GetActiveSnapshot(), chain_id))
	{
		appendStringInfoString(&buf, ", ");
		put_hex(&buf, "chain_id", chain_id, MC_HASH_LEN);
	}
	else
		appendStringInfoString(&buf, ", \"chain_id\": null");
	appendStringInfoChar(&buf, '}');
	PG_RETURN_JSONB_P(jsonb_from_text(&buf));
}

/* The fingerprint argument: 64 hex digits, either case. */
static void
fingerprint_argument(const char *text, uint8 fingerprint[MC_HASH_LEN])
{
	int			len;

	if (strlen(text) != 2 * MC_HASH_LEN ||
		!hex_to_bytes(text, 2 * MC_HASH_LEN, fingerprint, &len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node key fingerprint \"%s\"", text),
				 errdetail("A fingerprint is the SHA-256 of a raw Ed25519 public key: 64 hex digits."),
				 errhint("medchain.node_identity() and the detail of each node_key event in medchain.entries give fingerprints.")));
}

/*
 * medchain.retire_node_key(fingerprint text, reason text) RETURNS bigint
 *
 * Records that a key the chain knows may sign no more blocks; returns the
 * event's entry_id.  The next block seals it, and from that block on a
 * block signed by the key is signature_invalid.
 */
Datum
medchain_retire_node_key(PG_FUNCTION_ARGS)
{
	uint8		fingerprint[MC_HASH_LEN];
	uint8		public_key[MC_SIGNER_KEY_LEN];
	uint8		current[MC_HASH_LEN];
	char	   *reason;
	char	   *hex;
	Relation	blocks;
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	Snapshot	snapshot;
	ChainKey   *key;
	StringInfoData detail;
	LedgerName	name;
	JournalWriter *writer;
	int64		entry_id;

	require_admin("retire node keys");
	fingerprint_argument(PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0)),
						 fingerprint);
	hex = mc_hex(fingerprint, MC_HASH_LEN);
	reason = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (reason[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a reason is required to retire a node key"),
				 errdetail("The reason is recorded in the chain with the retirement."),
				 errhint("Say why the key may sign no more blocks, for example that it was compromised.")));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot retire a node key during recovery"),
				 errdetail("This server is a standby; its chain comes from the primary."),
				 errhint("Run medchain.retire_node_key() on the primary.")));

	/* as seal() does: a seal sees a retirement committed before it began */
	blocks = table_open(medchain_relation("blocks"), ExclusiveLock);
	journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(journal, attnums);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	key = chain_keys_find(chain_keys_load(journal, attnums, snapshot), fingerprint);
	UnregisterSnapshot(snapshot);
	table_close(journal, AccessShareLock);
	if (key == NULL || key->announced_height < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no node key with fingerprint %s is known to this chain", hex),
				 errdetail("Only a key announced by a sealed node_key event of this database's chain can be retired."),
				 errhint("The node_key events are the entries of relation medchain.blocks in medchain.entries.")));
	if (key->retire_entry_id != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node key %s is already retired", hex),
				 errdetail("Entry %lld retired it.", (long long) key->retire_entry_id),
				 errhint("A key is retired once; nothing more is needed.")));
	medchain_node_public_key(public_key);
	medchain_key_fingerprint(public_key, current);
	if (memcmp(current, fingerprint, MC_HASH_LEN) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot retire node key %s: this node signs with it", hex),
				 errdetail("Retiring it would leave the node unable to seal."),
				 errhint("Replace the node's key first: stop the server, move the file medchain.node_key_file names away, start the server and seal; then retire the old key.")));

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"action\": \"%s\", ", MC_ACTION_RETIRE_NODE_KEY);
	put_hex(&detail, "fingerprint", fingerprint, MC_HASH_LEN);
	appendStringInfoString(&detail, ", ");
	put_string(&detail, "reason", reason);
	appendStringInfoChar(&detail, '}');
	chain_events_name(&name);
	writer = journal_open();
	entry_id = enable_record_event(writer, &name, 0, &detail);
	journal_close(writer);
	table_close(blocks, NoLock);
	PG_RETURN_INT64(entry_id);
}
