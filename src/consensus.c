/*-------------------------------------------------------------------------
 *
 * consensus.c
 *	  medchain.consensus_check(): for each chain this node holds, its own
 *	  and its copies of its peers', ask every peer for its copy and count
 *	  who agrees.
 *
 * Each chain has one writer, its origin; the others hold, check and
 * cosign copies.  So there is nothing to elect: a check compares copies.
 * Two copies are compared at the lower of their two heights (one node
 * may simply not have received the newest blocks yet), with one query per
 * peer for every head and one for a hash at the common height when the
 * heads differ in height; only when the hashes there differ is the first
 * height at which they part searched for, by bisection, a query per
 * step.
 *
 * The verdict for a chain:
 *	 equivocation  this node holds evidence that the chain's key signed two
 *				   blocks at one height (medchain.equivocations);
 *	 diverged	   this node's copy disagrees with a quorum of the nodes, or
 *				   (for a peer's chain) it agrees with a quorum and the
 *				   origin's own chain is not that copy any more: the origin
 *				   rewrote what it had published;
 *	 agreed		   a quorum, this node included, holds this copy;
 *	 no_quorum	   too few nodes answered either way.
 * The quorum is medchain.quorum, or when that is 0 a strict majority of
 * all known nodes (the peers and this one).  A node that cannot be
 * reached, or holds none of the chain, counts as unreachable.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"

#include "block.h"
#include "chain_config.h"
#include "consensus.h"
#include "journal.h"
#include "peer_link.h"
#include "peers.h"
#include "privileges.h"
#include "replicate.h"
#include "security_scope.h"
#include "sha256.h"

PG_FUNCTION_INFO_V1(medchain_consensus_check);

static int	consensus_interval_setting = 60000;
static int	quorum_setting = 0;

void
consensus_define(void)
{
	DefineCustomIntVariable("medchain.consensus_interval",
							"How often the replicator checks that the peers hold the same chains.",
							NULL,
							&consensus_interval_setting,
							60000, 100, 24 * 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medchain.quorum",
							"How many nodes, this one included, must hold a copy for a consensus verdict.",
							"0 means a strict majority of all known nodes: the peers and this node.",
							&quorum_setting,
							0, 0, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
}

int
consensus_interval(void)
{
	return consensus_interval_setting;
}

/* A chain this node holds, and what the peers said of it. */
typedef struct ChainView
{
	uint8		chain_id[MC_HASH_LEN];
	char	   *origin;
	bool		own;			/* this node's own chain */
	bool		has_origin_id;	/* a peer's chain: the key that vouches for it */
	uint8		origin_id[MC_HASH_LEN];
	bool		equivocation;
	int64		height;
	uint8		head[MC_HASH_LEN];
	int			agreeing;		/* this node included */
	int			disagreeing;
	int			unreachable;
	bool		origin_disagrees;
	int64		first_divergent;	/* -1: none found */
	char	   *verdict;
	char	   *detail;
} ChainView;

static void
spi_bytes(HeapTuple tuple, TupleDesc desc, int col, uint8 *out, int len, bool *isnull)
{
	Datum		value = SPI_getbinval(tuple, desc, col, isnull);
	bytea	   *bytes;

	if (*isnull)
		return;
	bytes = DatumGetByteaPP(value);
	if (VARSIZE_ANY_EXHDR(bytes) != len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a hash or node id held by medchain is not %d bytes", len),
				 errdetail("medchain.held_heads() read it from medchain.blocks or medchain.peer_blocks."),
				 errhint("Run medchain.verify(): someone with superuser rights altered those tables.")));
	memcpy(out, VARDATA_ANY(bytes), len);
}

/* The name under which the consensus rows name a chain's origin. */
static char *
origin_name(const ChainView *chain, List *peers)
{
	ListCell   *lc;

	if (chain->own)
		return chain_node_name();
	foreach(lc, peers)
	{
		Peer	   *peer = lfirst(lc);

		if (chain->has_origin_id && memcmp(peer->node_id, chain->origin_id, MC_HASH_LEN) == 0)
			return pstrdup(peer->name);
	}
	return psprintf("chain %s", mc_hex(chain->chain_id, MC_HASH_LEN));
}

static void
chains_name(List *chains, List *peers)
{
	ListCell   *lc;

	foreach(lc, chains)
	{
		ChainView  *chain = lfirst(lc);

		chain->origin = origin_name(chain, peers);
	}
}

static List *
chains_load(List *peers)
{
	List	   *chains = NIL;
	uint64		i;

	medchain_spi_execute("SELECT h.chain_id, h.height, h.block_hash,"
						 "  coalesce((SELECT g.block_hash OPERATOR(pg_catalog.=) h.chain_id"
						 "              FROM medchain.blocks g WHERE g.height OPERATOR(pg_catalog.=) 0), false),"
						 "  (SELECT p.vouched_by FROM medchain.peer_blocks p"
						 "    WHERE p.chain_id OPERATOR(pg_catalog.=) h.chain_id"
						 "    ORDER BY p.height DESC LIMIT 1),"
						 "  EXISTS (SELECT 1 FROM medchain.equivocations e"
						 "           WHERE e.chain_id OPERATOR(pg_catalog.=) h.chain_id)"
						 "  FROM medchain.held_heads() h ORDER BY 4 DESC, 1",
						 0, NULL, NULL, false, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ChainView  *chain = palloc0(sizeof(ChainView));
		bool		isnull;

		spi_bytes(tuple, desc, 1, chain->chain_id, MC_HASH_LEN, &isnull);
		chain->height = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		spi_bytes(tuple, desc, 3, chain->head, MC_HASH_LEN, &isnull);
		chain->own = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
		spi_bytes(tuple, desc, 5, chain->origin_id, MC_HASH_LEN, &isnull);
		chain->has_origin_id = !isnull;
		chain->equivocation = DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull));
		chain->agreeing = 1;
		chain->first_divergent = -1;
		chains = lappend(chains, chain);
	}
	chains_name(chains, peers);
	return chains;
}

/* This node's hash of a chain's block at a height. */
static void
local_hash(const ChainView *chain, int64 height, uint8 out[MC_HASH_LEN])
{
	Oid			types[2] = {BYTEAOID, INT8OID};
	Datum		args[2] = {PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN)),
	Int64GetDatum(height)};
	bool		isnull;

	medchain_spi_execute("SELECT h.block_hash FROM medchain.held_hashes($1, ARRAY[$2]) h",
						 2, types, args, true, 0, SPI_OK_SELECT, 1);
	spi_bytes(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, out, MC_HASH_LEN, &isnull);
}

/* The peer's hash of a chain's block at a height; false if the link failed. */
static bool
remote_hash(PeerLink *link, const ChainView *chain, int64 height, uint8 out[MC_HASH_LEN])
{
	uint64		height_be = pg_hton64((uint64) height);
	const char *values[2] = {(const char *) chain->chain_id, (const char *) &height_be};
	int			lengths[2] = {MC_HASH_LEN, sizeof(height_be)};
	PGresult   *res;
	bool		ok;

	res = peer_link_query(link, "SELECT h.block_hash FROM medchain.held_hashes($1::pg_catalog.bytea,"
						  " ARRAY[$2::pg_catalog.int8]) h", 2, values, lengths);
	if (res == NULL)
		return false;
	ok = peer_link_shape_ok(link, res, 1);
	if (ok && PQntuples(res) != 1)
	{
		link->error = psprintf("the peer holds no block at height %lld of a chain whose head it gave above it",
							   (long long) height);
		ok = false;
	}
	ok = ok && peer_link_bytes(link, res, 0, 0, MC_HASH_LEN, out);
	PQclear(res);
	return ok;
}

/*
 * The first height at which the copies differ, knowing they differ at
 * `differs`; -1 if the link failed on the way.
 */
static int64
first_divergence(PeerLink *link, const ChainView *chain, int64 differs)
{
	int64		low = 0;
	int64		high = differs;

	while (low < high)
	{
		int64		mid = low + (high - low) / 2;
		uint8		ours[MC_HASH_LEN];
		uint8		theirs[MC_HASH_LEN];

		CHECK_FOR_INTERRUPTS();
		if (!remote_hash(link, chain, mid, theirs))
			return -1;
		local_hash(chain, mid, ours);
		if (memcmp(ours, theirs, MC_HASH_LEN) != 0)
			high = mid;
		else
			low = mid + 1;
	}
	return high;
}

/* Compare this node's copy with the peer's, whose head is given. */
static void
compare_copy(PeerLink *link, ChainView *chain, const Peer *peer,
			 int64 their_height, const uint8 their_head[MC_HASH_LEN])
{
	int64		common = Min(chain->height, their_height);
	uint8		ours[MC_HASH_LEN];
	uint8		theirs[MC_HASH_LEN];
	int64		first;

	if (their_height == common)
		memcpy(theirs, their_head, MC_HASH_LEN);
	else if (!remote_hash(link, chain, common, theirs))
	{
		chain->unreachable++;
		return;
	}
	local_hash(chain, common, ours);
	if (memcmp(ours, theirs, MC_HASH_LEN) == 0)
	{
		chain->agreeing++;
		return;
	}
	chain->disagreeing++;
	if (chain->has_origin_id && memcmp(chain->origin_id, peer->node_id, MC_HASH_LEN) == 0)
		chain->origin_disagrees = true;
	first = first_divergence(link, chain, common);
	if (first < 0)
		first = common;
	if (chain->first_divergent < 0 || first < chain->first_divergent)
		chain->first_divergent = first;
}

/* Ask one peer about every chain. */
static void
ask_peer(List *chains, const Peer *peer)
{
	PeerLink   *link = peer_link_open(peer->conninfo, peer_timeout());
	PGresult   *volatile res = NULL;
	ListCell   *lc;

	PG_TRY();
	{
		if (link->conn != NULL)
			res = peer_link_query(link, "SELECT h.chain_id, h.height, h.block_hash FROM medchain.held_heads() h",
								  0, NULL, NULL);
		if (res != NULL && !peer_link_shape_ok(link, res, 3))
		{
			PQclear(res);
			res = NULL;
		}
		foreach(lc, chains)
		{
			ChainView  *chain = lfirst(lc);
			int			row = -1;
			int			i;
			int64		their_height = -1;
			uint8		their_head[MC_HASH_LEN];

			for (i = 0; res != NULL && i < PQntuples(res) && row < 0; i++)
				if (PQgetlength(res, i, 0) == MC_HASH_LEN &&
					memcmp(PQgetvalue(res, i, 0), chain->chain_id, MC_HASH_LEN) == 0)
					row = i;
			if (row < 0 || link->conn == NULL ||
				!peer_link_int8(link, res, row, 1, &their_height) ||
				!peer_link_bytes(link, res, row, 2, MC_HASH_LEN, their_head) ||
				their_height < 0)
				chain->unreachable++;
			else
				compare_copy(link, chain, peer, their_height, their_head);
		}
	}
	PG_FINALLY();
	{
		PQclear(res);
		peer_link_close(link);
	}
	PG_END_TRY();
}

static int
quorum_of(int nodes)
{
	return quorum_setting > 0 ? quorum_setting : nodes / 2 + 1;
}

static void
decide(ChainView *chain, int nodes)
{
	int			quorum = quorum_of(nodes);

	if (chain->equivocation)
	{
		chain->verdict = "equivocation";
		chain->detail = "medchain.equivocations holds two validly signed blocks of this chain at one height";
	}
	else if (chain->disagreeing >= quorum)
	{
		chain->verdict = "diverged";
		chain->detail = psprintf("%d of %d nodes hold another block than this node's copy, the first from height %lld",
								 chain->disagreeing, nodes, (long long) chain->first_divergent);
	}
	else if (chain->agreeing >= quorum && chain->origin_disagrees)
	{
		chain->verdict = "diverged";
		chain->detail = psprintf("the origin %s no longer holds the copy that %d of %d nodes hold: its chain differs from height %lld",
								 chain->origin, chain->agreeing, nodes,
								 (long long) chain->first_divergent);
	}
	else if (chain->agreeing >= quorum)
		chain->verdict = "agreed";
	else
	{
		chain->verdict = "no_quorum";
		chain->detail = psprintf("%d agree, %d disagree and %d did not answer, of %d nodes; a verdict needs %d",
								 chain->agreeing, chain->disagreeing, chain->unreachable,
								 nodes, quorum);
	}
}

/* The verdicts of the previous check, to log only what changed. */
static char *
previous_verdict(const ChainView *chain)
{
	Oid			types[1] = {BYTEAOID};
	Datum		args[1] = {PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN))};

	medchain_spi_execute("SELECT verdict FROM medchain.consensus_results"
						 " WHERE chain_id OPERATOR(pg_catalog.=) $1",
						 1, types, args, false, 0, SPI_OK_SELECT, -1);
	return SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
}

static void
result_keep(const ChainView *chain)
{
	Oid			types[10] = {BYTEAOID, TEXTOID, INT8OID, BYTEAOID, INT4OID, INT4OID, INT4OID,
	TEXTOID, INT8OID, TEXTOID};
	Datum		args[10];
	char		nulls[11] = "          ";

	args[0] = PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN));
	args[1] = CStringGetTextDatum(chain->origin);
	args[2] = Int64GetDatum(chain->height);
	args[3] = PointerGetDatum(mc_bytes_to_bytea(chain->head, MC_HASH_LEN));
	args[4] = Int32GetDatum(chain->agreeing);
	args[5] = Int32GetDatum(chain->disagreeing);
	args[6] = Int32GetDatum(chain->unreachable);
	args[7] = CStringGetTextDatum(chain->verdict);
	args[8] = Int64GetDatum(chain->first_divergent);
	nulls[8] = chain->first_divergent < 0 ? 'n' : ' ';
	args[9] = chain->detail != NULL ? CStringGetTextDatum(chain->detail) : (Datum) 0;
	nulls[9] = chain->detail != NULL ? ' ' : 'n';
	medchain_spi_execute_nulls("INSERT INTO medchain.consensus_results (chain_id, origin, height,"
							   "   local_hash, agreeing, disagreeing, unreachable, verdict,"
							   "   first_divergent_height, detail, checked_at)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, pg_catalog.now())",
							   10, types, args, nulls, false, 0, SPI_OK_INSERT, 1);
}

/* A verdict other than agreed is logged when it is new. */
static void
verdict_log(const ChainView *chain, const char *before)
{
	if (before != NULL && strcmp(before, chain->verdict) == 0)
		return;
	if (strcmp(chain->verdict, "agreed") == 0)
	{
		if (before != NULL)
			ereport(LOG,
					(errmsg("medchain consensus: the nodes agree on the chain of %s again",
							chain->origin)));
		return;
	}
	ereport(strcmp(chain->verdict, "no_quorum") == 0 ? LOG : WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("medchain consensus on the chain of %s%s: %s", chain->origin,
					chain->own ? " (this node)" : "", chain->verdict),
			 errdetail("%s.", chain->detail),
			 errhint("See medchain.consensus_status and docs/DESIGN.md, \"The network\".")));
}

static void
put_result(ReturnSetInfo *rsinfo, const ChainView *chain)
{
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	values[0] = CStringGetTextDatum(chain->origin);
	values[1] = Int64GetDatum(chain->height);
	values[2] = PointerGetDatum(mc_bytes_to_bytea(chain->head, MC_HASH_LEN));
	values[3] = Int32GetDatum(chain->agreeing);
	values[4] = Int32GetDatum(chain->disagreeing);
	values[5] = Int32GetDatum(chain->unreachable);
	values[6] = CStringGetTextDatum(chain->verdict);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

void
consensus_run(ReturnSetInfo *rsinfo)
{
	List	   *peers = peers_load();
	List	   *chains = chains_load(peers);
	int			nodes = list_length(peers) + 1;
	List	   *before = NIL;
	OwnerScope	scope;
	ListCell   *lc;

	foreach(lc, peers)
	{
		CHECK_FOR_INTERRUPTS();
		ask_peer(chains, lfirst(lc));
	}
	foreach(lc, chains)
	{
		decide(lfirst(lc), nodes);
		before = lappend(before, previous_verdict(lfirst(lc)));
	}
	/* the table holds the latest check alone */
	medchain_become_owner(medchain_relation("consensus_results"), &scope);
	medchain_spi_execute("DELETE FROM medchain.consensus_results",
						 0, NULL, NULL, false, 0, SPI_OK_DELETE, -1);
	foreach(lc, chains)
		result_keep(lfirst(lc));
	medchain_leave_owner(&scope);
	foreach(lc, chains)
	{
		ChainView  *chain = lfirst(lc);

		verdict_log(chain, list_nth(before, foreach_current_index(lc)));
		if (rsinfo != NULL)
			put_result(rsinfo, chain);
	}
}

/*
 * medchain.consensus_check()
 * RETURNS TABLE(origin text, height bigint, local_hash bytea,
 *				 agreeing integer, disagreeing integer, unreachable integer,
 *				 verdict text)
 */
Datum
medchain_consensus_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	require_admin("check consensus with the peers");
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	consensus_run(rsinfo);
	SPI_finish();
	return (Datum) 0;
}
