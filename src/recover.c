/*-------------------------------------------------------------------------
 *
 * recover.c
 *	  medchain.recover_chain(peer): a node restored from a backup older
 *	  than the blocks it last published takes those blocks back from a
 *	  peer and seals on above them (docs/DESIGN.md, "Restored from an old
 *	  backup").
 *
 * The blocks come back as the peer holds them: headers, signatures and
 * entry hashes.  Each is checked as a receiver checks a block (the chain
 * rules from this node's head up, its Merkle root), and a signed one must
 * be signed by a key of this node's own chain: the key it signs with now,
 * or one its journal announced.  The rows those blocks sealed were
 * recorded after the backup and are gone with it; their entry hashes are
 * kept in medchain.recovered_blocks, so that the chain still holds
 * together, replicates and exports, and verify() reports the entries as
 * lost rather than as altered or missing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "block.h"
#include "chain_config.h"
#include "chain_keys.h"
#include "chain_rules.h"
#include "direct_write.h"
#include "journal.h"
#include "merkle.h"
#include "node_key.h"
#include "peer_link.h"
#include "peers.h"
#include "privileges.h"
#include "recover.h"
#include "replicate.h"
#include "replication_payload.h"
#include "security_scope.h"
#include "sha256.h"

PG_FUNCTION_INFO_V1(medchain_recover_chain);

/* Blocks asked for at once. */
#define MC_RECOVER_BATCH 100

typedef struct Recovery
{
	const Peer *peer;
	uint8		chain_id[MC_HASH_LEN];
	BlockRow	head;			/* this node's newest block, then each recovered */
	int64		floor;
	ChainKeys  *keys;			/* the keys this node's journal announced */
	uint8		own_key[MC_SIGNER_KEY_LEN];
	char	   *node_name;
	DirectTable *blocks;
	int64		recovered;
	int64		entries_lost;
} Recovery;

static const Peer *
peer_named(const char *name)
{
	ListCell   *lc;

	foreach(lc, peers_load())
	{
		Peer	   *peer = lfirst(lc);

		if (strcmp(peer->name, name) == 0)
			return peer;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("peer \"%s\" does not exist", name),
			 errdetail("medchain.peers has no peer of that name."),
			 errhint("medchain.peer_status lists the peers by name.")));
	return NULL;				/* keep the compiler quiet */
}

static void
require_halt(void)
{
	medchain_spi_execute("SELECT 1 FROM medchain.sealing_halt",
						 0, NULL, NULL, false, 0, SPI_OK_SELECT, -1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this node's sealing is not halted: there is nothing to recover"),
				 errdetail("recover_chain() takes back blocks that peers hold above this node's newest block, which a replication round found and recorded in medchain.sealing_halt."),
				 errhint("Run SELECT * FROM medchain.replicate_now() first: it says whether a peer is ahead.")));
}

/* Why a recovered block cannot follow this node's chain; NULL if it can. */
static const char *
recovered_problem(Recovery *r, const ReplicatedBlock *block)
{
	const BlockRow *row = &block->row;
	const char *problem = chain_received_problem(&r->head, row, r->floor, r->chain_id);
	uint8		fingerprint[MC_HASH_LEN];

	if (problem != NULL)
		return problem;
	if (!merkle_root_matches((const uint8 (*)[MC_HASH_LEN]) block->entry_hashes,
							 row->header.entry_count, row->header.merkle_root))
		return "its entry hashes do not give its Merkle root";
	if (row->signature_len != MC_SIGNATURE_LEN)
	{
		uint8		node_id[MC_HASH_LEN];

		/* an unsigned header names its node by the hash of its name */
		block_node_id(r->node_name, node_id);
		if (memcmp(node_id, row->header.node_id, MC_HASH_LEN) != 0)
			return psprintf("it is unsigned and was not sealed under this node's name \"%s\"",
							r->node_name);
		return NULL;
	}
	medchain_key_fingerprint(row->signer_key, fingerprint);
	if (memcmp(row->signer_key, r->own_key, MC_SIGNER_KEY_LEN) != 0)
	{
		ChainKey   *key = chain_keys_find(r->keys, fingerprint);

		/* a retired key may have leaked: it vouches for nothing new */
		if (key == NULL || key->announced_height < 0 ||
			key->retired_height >= 0 || key->retire_entry_id != 0)
			return psprintf("its signer key %s is neither this node's key nor one its chain announced and did not retire",
							mc_hex(row->signer_key, MC_SIGNER_KEY_LEN));
	}
	return NULL;
}

static void
keep_recovered(Recovery *r, ReplicatedBlock *block)
{
	BlockRow   *row = &block->row;
	Oid			types[3] = {INT8OID, BYTEAOID, TEXTOID};
	Datum		args[3];
	OwnerScope	scope;
	int			rc;

	/* the entries are not in the journal: an empty range names none */
	row->node_name = r->node_name;
	row->first_entry_id = 0;
	row->last_entry_id = -1;
	direct_insert(r->blocks, block_row_to_tuple(row, RelationGetDescr(r->blocks->rel)));
	args[0] = Int64GetDatum(row->header.height);
	args[1] = PointerGetDatum(mc_bytes_to_bytea(block->entry_hashes,
												(Size) row->header.entry_count * MC_HASH_LEN));
	args[2] = CStringGetTextDatum(r->peer->name);
	medchain_become_owner(medchain_relation("recovered_blocks"), &scope);
	rc = SPI_execute_with_args("INSERT INTO medchain.recovered_blocks"
							   " (height, entry_hashes, recovered_from, recovered_at)"
							   " VALUES ($1, $2, $3, pg_catalog.now())",
							   3, types, args, NULL, false, 0);
	medchain_leave_owner(&scope);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "medchain could not keep a recovered block: %s", SPI_result_code_string(rc));
	r->head = *row;
	r->recovered++;
	r->entries_lost += row->header.entry_count;
}

/*
 * The peer's copy of this node's chain from a height, at most max blocks,
 * as payloads; NULL when the link failed or the answer is not one column
 * (link->error says why).
 */
static PGresult *
held_payloads_from(PeerLink *link, const uint8 chain_id[MC_HASH_LEN], int64 from, int max)
{
	uint64		from_be = pg_hton64((uint64) from);
	uint32		max_be = pg_hton32((uint32) max);
	const char *values[3] = {(const char *) chain_id, (const char *) &from_be,
	(const char *) &max_be};
	int			lengths[3] = {MC_HASH_LEN, sizeof(from_be), sizeof(max_be)};
	PGresult   *res;

	res = peer_link_query(link, "SELECT p FROM medchain.held_payloads($1::pg_catalog.bytea,"
						  " $2::pg_catalog.int8, $3::pg_catalog.int4) p", 3, values, lengths);
	if (res != NULL && !peer_link_shape_ok(link, res, 1))
	{
		PQclear(res);
		res = NULL;
	}
	return res;
}

/* One batch from the peer; false when it held no more. */
static bool
recover_batch(Recovery *r, PeerLink *link)
{
	PGresult   *res = held_payloads_from(link, r->chain_id, r->head.header.height + 1,
											MC_RECOVER_BATCH);
	int			n;
	int			i;

	if (res == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not take blocks back from peer \"%s\"", r->peer->name),
				 errdetail("%s.", link->error),
				 errhint("Nothing was recovered from this batch; run recover_chain() again once the peer answers.")));
	n = PQntuples(res);
	for (i = 0; i < n; i++)
	{
		bytea	   *payload = mc_bytes_to_bytea(PQgetvalue(res, i, 0), PQgetlength(res, i, 0));
		ReplicatedBlock block;
		const char *problem;

		CHECK_FOR_INTERRUPTS();
		problem = replication_payload_decode(payload, &block);
		if (problem == NULL)
			problem = recovered_problem(r, &block);
		if (problem != NULL)
		{
			char	   *reason = pstrdup(problem);

			PQclear(res);
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("peer \"%s\" sent block %lld of this node's chain that cannot follow it",
							r->peer->name, (long long) (r->head.header.height + 1)),
					 errdetail("%s.", reason),
					 errhint("Nothing was recovered; try another peer with recover_chain().")));
		}
		keep_recovered(r, &block);
	}
	PQclear(res);
	return n == MC_RECOVER_BATCH;
}

/* What judging the blocks needs: the chain's floor, keys and names. */
static void
recovery_judge_prepare(Recovery *r)
{
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];

	r->floor = block_chain_floor(GetLatestSnapshot());
	journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(journal, attnums);
	r->keys = chain_keys_load(journal, attnums, GetLatestSnapshot());
	table_close(journal, AccessShareLock);
	medchain_node_public_key(r->own_key);
	r->node_name = chain_node_name();
}

static void
recovery_begin(Recovery *r)
{
	/*
	 * No replication round meanwhile: one that began before the recovery
	 * commits would find the peers ahead still, and halt sealing again.
	 */
	replication_lock();

	/* seal() and the worker wait behind this, and it behind them */
	r->blocks = direct_open(medchain_relation("blocks"), ExclusiveLock);
	if (!block_chain_id_of_chain(GetLatestSnapshot(), r->chain_id) ||
		!block_head(GetLatestSnapshot(), &r->head))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this node has no chain to recover"),
				 errdetail("Its medchain.blocks holds no genesis block, so no peer can know its chain."),
				 errhint("A node restored from before its first seal starts a new chain: remove medchain.sealing_halt as a superuser once its peers have been told.")));
	recovery_judge_prepare(r);
}

const char *
recover_next_block_problem(PeerLink *link, const uint8 chain_id[MC_HASH_LEN],
						   const BlockRow *head)
{
	Recovery	r;
	int64		from = head->header.height + 1;
	PGresult   *res;
	ReplicatedBlock block;
	const char *problem;

	memset(&r, 0, sizeof(r));
	memcpy(r.chain_id, chain_id, MC_HASH_LEN);
	r.head = *head;
	recovery_judge_prepare(&r);
	res = held_payloads_from(link, chain_id, from, 1);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) != 1)
	{
		PQclear(res);
		return psprintf("it gives no block %lld", (long long) from);
	}
	problem = replication_payload_decode(mc_bytes_to_bytea(PQgetvalue(res, 0, 0),
														   PQgetlength(res, 0, 0)), &block);
	PQclear(res);
	if (problem == NULL)
		problem = recovered_problem(&r, &block);
	return problem != NULL ? psprintf("its block %lld does not follow this node's chain: %s",
									  (long long) from, problem) : NULL;
}

/*
 * medchain.recover_chain(peer text) RETURNS bigint
 *
 * Takes back from the peer the blocks of this node's chain above its
 * newest one, checks each, keeps them with their entry hashes, lifts the
 * halt, and returns the new newest height.
 */
Datum
medchain_recover_chain(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Recovery	r;
	PeerLink   *link;
	OwnerScope	scope;

	require_admin("recover this node's chain from a peer");
	memset(&r, 0, sizeof(r));
	SPI_connect();
	require_halt();
	r.peer = peer_named(name);
	recovery_begin(&r);
	link = peer_link_open(r.peer->conninfo, peer_timeout());
	PG_TRY();
	{
		if (link->conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not connect to peer \"%s\"", name),
					 errdetail("%s.", link->error),
					 errhint("Check medchain.peer_status, or recover from another peer.")));
		while (recover_batch(&r, link))
			;
	}
	PG_FINALLY();
	{
		peer_link_close(link);
	}
	PG_END_TRY();
	direct_close(r.blocks);
	if (r.recovered == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("peer \"%s\" holds no block of this node's chain above its newest, %lld",
						name, (long long) r.head.header.height),
				 errdetail("The peer that was ahead is another one, or it lost its copy."),
				 errhint("medchain.sealing_halt names the peer that was ahead.")));
	medchain_become_owner(medchain_relation("sealing_halt"), &scope);
	if (SPI_execute("DELETE FROM medchain.sealing_halt", false, 0) != SPI_OK_DELETE)
		elog(ERROR, "medchain could not lift the halt");
	medchain_leave_owner(&scope);
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("medchain recovered blocks %lld to %lld of this node's chain from peer \"%s\"; %lld entries they seal are lost",
					(long long) (r.head.header.height - r.recovered + 1),
					(long long) r.head.header.height, name, (long long) r.entries_lost),
			 errdetail("Those entries were recorded after the backup this node was restored from; their hashes are kept in medchain.recovered_blocks, and verify() reports them as entries_lost."),
			 errhint("Sealing goes on above block %lld.", (long long) r.head.header.height)));
	SPI_finish();
	PG_RETURN_INT64(r.head.header.height);
}

uint8		(*recovered_block_leaves(int64 height, uint32 *count))[MC_HASH_LEN]
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(height)};
	uint8		(*leaves)[MC_HASH_LEN] = NULL;

	*count = 0;
	/* objects older than 1.4 have recovered nothing */
	if (!OidIsValid(get_relname_relid("recovered_blocks", medchain_namespace())))
		return NULL;
	SPI_connect();
	medchain_spi_execute("SELECT entry_hashes FROM medchain.recovered_blocks"
						 " WHERE height OPERATOR(pg_catalog.=) $1",
						 1, types, args, true, 0, SPI_OK_SELECT, -1);
	if (SPI_processed > 0)
	{
		bool		isnull;
		bytea	   *hashes = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull));
		Size		len = VARSIZE_ANY_EXHDR(hashes);

		/* whole hashes only: a count that is not the header's tells */
		*count = (uint32) Min(len / MC_HASH_LEN, PG_UINT32_MAX);
		leaves = SPI_palloc(Max(len, 1));
		memcpy(leaves, VARDATA_ANY(hashes), (Size) *count * MC_HASH_LEN);
	}
	SPI_finish();
	return leaves;
}
