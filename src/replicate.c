/*-------------------------------------------------------------------------
 *
 * replicate.c
 *	  Replication rounds: every sealed block of this node, in height order,
 *	  to every peer that does not hold it yet, and the peers' receipts
 *	  back (docs/DESIGN.md, "The network").
 *
 * This node pushes: it asks each peer how much of its chain the peer
 * holds (medchain.held_head() there), sends the blocks above that in
 * batches to medchain.receive_blocks(), which checks each before keeping
 * it, and asks for receipts (medchain.block_receipts()) for the blocks
 * the peer holds that it has not cosigned yet.  Before sending, the
 * peer's newest block of this chain is compared with this node's block at
 * that height: a peer that holds another block there, or more of this
 * chain than this node has, is sent nothing (diverged, ahead) and the
 * round says so, since a block sent on top would only be refused.
 *
 * A peer that cannot be reached or fails mid-way costs at most the
 * timeout (peer_link.c) and is recorded in medchain.peer_state; the round
 * goes on with the others.  Rounds on one node run one at a time (a lock
 * on medchain.peer_state), so the worker and replicate_now() never send
 * the same blocks twice at once (the receiver is idempotent anyway), and
 * never while recover_chain() takes blocks back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "block.h"
#include "journal.h"
#include "peer_link.h"
#include "peers.h"
#include "privileges.h"
#include "receipts.h"
#include "recover.h"
#include "replicate.h"
#include "replication_payload.h"
#include "security_scope.h"
#include "sha256.h"

PG_FUNCTION_INFO_V1(medchain_replicate_now);

/* A delivery: at most this many blocks, and about this many bytes. */
#define MC_BATCH_BLOCKS 100
#define MC_BATCH_BYTES (8 * 1024 * 1024)

/* Receipts asked of one peer per round. */
#define MC_RECEIPTS_PER_ROUND 1000

static int	replication_interval_setting = 1000;
static int	peer_timeout_setting = 10000;

void
replication_define(void)
{
	DefineCustomIntVariable("medchain.replication_interval",
							"How often the worker sends new blocks to the peers.",
							"Each round asks every peer what it holds, sends what it lacks and takes its receipts.",
							&replication_interval_setting,
							1000, 10, 24 * 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medchain.peer_timeout",
							"How long a connection to a peer, or one query on it, may take.",
							"A peer that does not answer within it is marked unreachable until the next round.",
							&peer_timeout_setting,
							10000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

int
replication_interval(void)
{
	return replication_interval_setting;
}

int
peer_timeout(void)
{
	return peer_timeout_setting;
}

/* This node's side of a round. */
typedef struct Round
{
	bool		has_chain;
	uint8		chain_id[MC_HASH_LEN];
	int64		head;			/* -1 while nothing is sealed */
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
} Round;

typedef struct PeerOutcome
{
	bool		reached;
	int			blocks_sent;
	bool		height_known;
	int64		their_height;	/* -1: the peer holds none of this chain */
	const char *status;
	char	   *error;
} PeerOutcome;

/* The peer's newest block of this node's chain; false if the link failed. */
static bool
their_head(PeerLink *link, const Round *round, int64 *height, uint8 hash[MC_HASH_LEN])
{
	const char *values[1] = {(const char *) round->chain_id};
	int			lengths[1] = {MC_HASH_LEN};
	PGresult   *res;
	bool		ok;

	res = peer_link_query(link, "SELECT h.height, h.block_hash"
						  "  FROM medchain.held_head($1::pg_catalog.bytea) h",
						  1, values, lengths);
	if (res == NULL)
		return false;
	ok = peer_link_shape_ok(link, res, 2);
	*height = -1;
	if (ok && PQntuples(res) > 0)
		ok = peer_link_int8(link, res, 0, 0, height) &&
			peer_link_bytes(link, res, 0, 1, MC_HASH_LEN, hash);
	PQclear(res);
	return ok;
}

/* The remote call for a delivery of n payloads. */
static char *
delivery_sql(int n)
{
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT r.status, r.reason FROM medchain.receive_blocks($1::pg_catalog.bytea, ARRAY[");
	for (i = 0; i < n; i++)
		appendStringInfo(&sql, "%s$%d::pg_catalog.bytea", i > 0 ? ", " : "", i + 2);
	appendStringInfoString(&sql, "]) r");
	return sql.data;
}

/*
 * What the peer made of a delivery of n blocks from height `first`:
 * false when it refused one (out says which and why) or answered
 * something else than a row per block.
 */
static bool
delivery_taken(PeerLink *link, PGresult *res, int n, int64 first, PeerOutcome *out)
{
	int			i;

	if (!peer_link_shape_ok(link, res, 2))
		return false;
	if (PQntuples(res) != n)
	{
		link->error = psprintf("the peer answered a delivery of %d blocks with %d rows",
							   n, PQntuples(res));
		return false;
	}
	for (i = 0; i < n; i++)
	{
		const char *status = PQgetvalue(res, i, 0);

		if (strcmp(status, "stored") == 0)
			out->blocks_sent++;
		else if (strcmp(status, "duplicate") != 0)
		{
			out->status = "refused";
			out->error = psprintf("the peer refused block %lld: %s: %s",
								  (long long) (first + i), peer_link_text(status),
								  PQgetisnull(res, i, 1) ? "no reason given" :
								  peer_link_text(PQgetvalue(res, i, 1)));
			return false;
		}
		out->their_height = first + i;
	}
	return true;
}

/*
 * Send the blocks from `from` up, a batch at a time; false when the link
 * failed or the peer refused one.
 */
static bool
send_blocks(PeerLink *link, Round *round, int64 from, PeerOutcome *out)
{
	MemoryContext batchcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain delivery",
												   ALLOCSET_DEFAULT_SIZES);
	const char **values = palloc(sizeof(char *) * (MC_BATCH_BLOCKS + 1));
	int		   *lengths = palloc(sizeof(int) * (MC_BATCH_BLOCKS + 1));
	int64		next = from;
	bool		ok = true;

	values[0] = (const char *) round->chain_id;
	lengths[0] = MC_HASH_LEN;
	while (ok && next <= round->head)
	{
		MemoryContext old = MemoryContextSwitchTo(batchcxt);
		Size		bytes = 0;
		int			n = 0;
		PGresult   *res;

		/* the payloads live in batchcxt, the outcome in the caller's */
		while (n < MC_BATCH_BLOCKS && next + n <= round->head && bytes < MC_BATCH_BYTES)
		{
			bytea	   *payload;

			CHECK_FOR_INTERRUPTS();
			payload = replication_payload_of_block(round->journal, round->attnums, next + n);
			if (payload == NULL)
				break;
			values[n + 1] = VARDATA(payload);
			lengths[n + 1] = VARSIZE(payload) - VARHDRSZ;
			bytes += lengths[n + 1];
			n++;
		}
		MemoryContextSwitchTo(old);
		if (n == 0)
			break;
		res = peer_link_query(link, delivery_sql(n), n + 1, values, lengths);
		ok = res != NULL && delivery_taken(link, res, n, next, out);
		PQclear(res);
		next += n;
		MemoryContextReset(batchcxt);
	}
	MemoryContextDelete(batchcxt);
	return ok;
}

/* The highest of this node's blocks the peer has cosigned, or -1. */
static int64
cosigned_up_to(const Peer *peer)
{
	Oid			types[1] = {BYTEAOID};
	Datum		args[1] = {PointerGetDatum(mc_bytes_to_bytea(peer->node_id, MC_HASH_LEN))};
	bool		isnull;
	Datum		value;

	medchain_spi_execute("SELECT pg_catalog.max(height) FROM medchain.cosignatures"
						 " WHERE cosigner_id OPERATOR(pg_catalog.=) $1",
						 1, types, args, false, 0, SPI_OK_SELECT, 1);
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : DatumGetInt64(value);
}

/*
 * Ask the peer for receipts for the blocks it holds above those it has
 * cosigned, and keep them; false when the link failed or a receipt does
 * not hold (out says why: it is kept in no case).
 */
static bool
take_receipts(PeerLink *link, const Round *round, const Peer *peer, PeerOutcome *out)
{
	int64		from = cosigned_up_to(peer) + 1;
	int64		to = Min(out->their_height, from + MC_RECEIPTS_PER_ROUND - 1);
	uint64		from_be = pg_hton64((uint64) from);
	uint64		to_be = pg_hton64((uint64) to);
	const char *values[3] = {(const char *) round->chain_id, (const char *) &from_be,
	(const char *) &to_be};
	int			lengths[3] = {MC_HASH_LEN, sizeof(from_be), sizeof(to_be)};
	PGresult   *res;
	bool		ok;
	int			i;

	if (from > to)
		return true;
	res = peer_link_query(link, "SELECT r.height, r.block_hash, r.cosigner_key, r.signature"
						  "  FROM medchain.block_receipts($1::pg_catalog.bytea,"
						  "       ARRAY(SELECT pg_catalog.generate_series($2::pg_catalog.int8, $3::pg_catalog.int8))) r",
						  3, values, lengths);
	if (res == NULL)
		return false;
	ok = peer_link_shape_ok(link, res, 4);
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		Receipt		receipt;
		const char *problem;

		CHECK_FOR_INTERRUPTS();
		ok = peer_link_int8(link, res, i, 0, &receipt.height) &&
			peer_link_bytes(link, res, i, 1, MC_HASH_LEN, receipt.block_hash) &&
			peer_link_bytes(link, res, i, 2, MC_SIGNER_KEY_LEN, receipt.cosigner_key) &&
			peer_link_bytes(link, res, i, 3, MC_SIGNATURE_LEN, receipt.signature);
		if (ok && (problem = receipt_accept(peer->public_key, round->chain_id, &receipt)) != NULL)
		{
			out->status = "receipt_invalid";
			out->error = pstrdup(problem);
			ok = false;
		}
	}
	PQclear(res);
	return ok;
}

/*
 * The peer holds this node's chain above this node's newest block: this
 * node was restored from an older backup, or lost blocks.  Sealing on
 * would fork the chain at heights the peers hold already, so it stops
 * until a DBA has recovered (docs/DESIGN.md, "Restored from an old
 * backup").  Logged once, when the halt is set.
 */
static void
halt_sealing(const Round *round, const Peer *peer, int64 published)
{
	Oid			types[3] = {TEXTOID, INT8OID, INT8OID};
	Datum		args[3] = {CStringGetTextDatum(peer->name), Int64GetDatum(round->head),
	Int64GetDatum(published)};
	OwnerScope	scope;
	int			rc;

	medchain_become_owner(medchain_relation("sealing_halt"), &scope);
	rc = SPI_execute_with_args("INSERT INTO medchain.sealing_halt (halted_at, peer, own_height, published_height)"
							   " VALUES (pg_catalog.now(), $1, $2, $3) ON CONFLICT DO NOTHING",
							   3, types, args, NULL, false, 0);
	medchain_leave_owner(&scope);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "medchain could not halt sealing: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("medchain stops sealing: peer \"%s\" holds this node's chain up to height %lld, above its newest block %lld",
						peer->name, (long long) published, (long long) round->head),
				 errdetail("This node was restored from a backup older than the blocks it last published, or lost blocks; a block sealed now would fork its chain at heights its peers hold."),
				 errhint("See medchain.sealing_halt and docs/DESIGN.md, \"Restored from an old backup\".")));
}

/* The peer's side of the round over an open link. */
static void
exchange(PeerLink *link, Round *round, const Peer *peer, PeerOutcome *out)
{
	uint8		their_hash[MC_HASH_LEN];
	BlockRow	own;

	bool		held;
	const char *problem;

	if (!their_head(link, round, &out->their_height, their_hash))
		return;
	out->height_known = true;
	if (out->their_height > round->head)
	{
		/*
		 * A height proves nothing: the peer must give the next block of this
		 * chain, signed by this node's key, before this node stops sealing.
		 */
		if (!block_row_fetch(round->head, GetActiveSnapshot(), &own))
			return;
		problem = recover_next_block_problem(link, round->chain_id, &own);
		if (link->conn == NULL)
			return;
		if (problem != NULL)
		{
			out->status = "invalid";
			out->error = psprintf("the peer says it holds this node's chain up to height %lld, but %s",
								  (long long) out->their_height, problem);
			return;
		}
		out->status = "ahead";
		out->error = psprintf("the peer holds this node's chain up to height %lld, above this node's newest block %lld: this node was restored from an older backup, or lost blocks",
							  (long long) out->their_height, (long long) round->head);
		halt_sealing(round, peer, out->their_height);
		return;
	}
	held = out->their_height >= 0 && block_row_fetch(out->their_height, GetActiveSnapshot(), &own);
	if (out->their_height >= 0 &&
		(!held || memcmp(own.block_hash, their_hash, MC_HASH_LEN) != 0))
	{
		out->status = "diverged";
		out->error = psprintf("the peer holds block %s at height %lld, where this node's block is %s",
							  mc_hex(their_hash, MC_HASH_LEN), (long long) out->their_height,
							  held ? mc_hex(own.block_hash, MC_HASH_LEN) : "none");
		return;
	}
	if (send_blocks(link, round, out->their_height + 1, out) &&
		take_receipts(link, round, peer, out))
		out->status = out->blocks_sent > 0 ? "sent" : "current";
}

/* The peer holds every block this node sent it. */
static bool
status_is_good(const char *status)
{
	return strcmp(status, "sent") == 0 || strcmp(status, "current") == 0;
}

/*
 * The replicator keeps its connections from round to round: a new one
 * per peer and round would cost a backend's start on the peer each time,
 * which is most of what a round with one new block costs.  A link is kept
 * for one peer at one conninfo, and dropped when anything failed on it.
 */
typedef struct KeptLink
{
	uint8		node_id[MC_HASH_LEN];
	char	   *conninfo;
	PeerLink   *link;
} KeptLink;

static List *kept_links = NIL;	/* of KeptLink *, in TopMemoryContext */

static KeptLink *
kept_link_of(const Peer *peer)
{
	ListCell   *lc;

	foreach(lc, kept_links)
	{
		KeptLink   *kept = lfirst(lc);

		if (memcmp(kept->node_id, peer->node_id, MC_HASH_LEN) == 0)
			return kept;
	}
	return NULL;
}

static void
kept_link_drop(KeptLink *kept)
{
	peer_link_close(kept->link);
	kept_links = list_delete_ptr(kept_links, kept);
	pfree(kept->conninfo);
	pfree(kept->link);
	pfree(kept);
}

/*
 * A link to the peer: the kept one while it is sound (the peer may have
 * closed it since: a restart, an idle timeout), else a new one, kept when
 * keep is set.
 */
static PeerLink *
link_to(const Peer *peer, bool keep)
{
	KeptLink   *kept = kept_link_of(peer);
	MemoryContext old;

	if (kept != NULL)
	{
		PGconn	   *conn = kept->link->conn;

		if (strcmp(kept->conninfo, peer->conninfo) == 0 && conn != NULL &&
			PQconsumeInput(conn) && PQstatus(conn) == CONNECTION_OK &&
			PQtransactionStatus(conn) == PQTRANS_IDLE)
		{
			kept->link->error = NULL;
			kept->link->timeout_ms = peer_timeout();
			return kept->link;
		}
		kept_link_drop(kept);
	}
	if (!keep)
		return peer_link_open(peer->conninfo, peer_timeout());
	old = MemoryContextSwitchTo(TopMemoryContext);
	kept = palloc0(sizeof(KeptLink));
	memcpy(kept->node_id, peer->node_id, MC_HASH_LEN);
	kept->conninfo = pstrdup(peer->conninfo);
	kept->link = peer_link_open(peer->conninfo, peer_timeout());
	kept_links = lappend(kept_links, kept);
	MemoryContextSwitchTo(old);
	return kept->link;
}

/* Close the kept links of peers no longer registered. */
static void
kept_links_prune(List *peers)
{
	ListCell   *lc;

	foreach(lc, kept_links)
	{
		KeptLink   *kept = lfirst(lc);
		ListCell   *pc;
		bool		registered = false;

		foreach(pc, peers)
			registered = registered ||
				memcmp(((Peer *) lfirst(pc))->node_id, kept->node_id, MC_HASH_LEN) == 0;
		if (!registered)
		{
			kept_link_drop(kept);
			/* the list changed under the loop: the rest waits for next round */
			return;
		}
	}
}

/* Done with a link: closed unless it is kept and sound. */
static void
link_done(const Peer *peer, PeerLink *link, bool failed)
{
	KeptLink   *kept = kept_link_of(peer);

	if (kept != NULL && kept->link == link)
	{
		if (failed || link->conn == NULL || link->error != NULL)
			kept_link_drop(kept);
		return;
	}
	peer_link_close(link);
}

static void
replicate_to(Round *round, const Peer *peer, PeerOutcome *out, bool keep)
{
	PeerLink   *link = link_to(peer, keep);

	memset(out, 0, sizeof(PeerOutcome));
	out->reached = link->conn != NULL;
	PG_TRY();
	{
		if (out->reached)
			exchange(link, round, peer, out);
	}
	PG_CATCH();
	{
		link_done(peer, link, true);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (out->status == NULL)
	{
		out->status = out->reached ? "failed" : "unreachable";
		out->error = link->error != NULL ? pstrdup(link->error) : NULL;
	}
	link_done(peer, link, !status_is_good(out->status));
}

/*
 * Keep the outcome in medchain.peer_state; a change of status is logged
 * (a peer that stays unreachable is logged once, not every round).
 */
static void
peer_state_keep(const Peer *peer, const PeerOutcome *out)
{
	Oid			types[5] = {BYTEAOID, BOOLOID, INT8OID, TEXTOID, TEXTOID};
	Datum		args[5];
	char		nulls[6] = "     ";
	OwnerScope	scope;
	int			rc;
	char	   *before = NULL;

	args[0] = PointerGetDatum(mc_bytes_to_bytea(peer->node_id, MC_HASH_LEN));
	args[1] = BoolGetDatum(out->reached);
	args[2] = Int64GetDatum(out->their_height);
	nulls[2] = out->height_known ? ' ' : 'n';
	args[3] = CStringGetTextDatum(out->status);
	args[4] = out->error != NULL ? CStringGetTextDatum(out->error) : (Datum) 0;
	nulls[4] = out->error != NULL ? ' ' : 'n';
	medchain_become_owner(medchain_relation("peer_state"), &scope);
	rc = SPI_execute_with_args("WITH before AS (SELECT last_status FROM medchain.peer_state"
							   "                 WHERE node_id OPERATOR(pg_catalog.=) $1)"
							   " INSERT INTO medchain.peer_state AS s (node_id, reachable, last_attempt,"
							   "   last_contact, their_height, last_status, last_error)"
							   " VALUES ($1, $2, pg_catalog.now(), CASE WHEN $2 THEN pg_catalog.now() END,"
							   "   $3, $4, $5)"
							   " ON CONFLICT (node_id) DO UPDATE SET reachable = excluded.reachable,"
							   "   last_attempt = excluded.last_attempt,"
							   "   last_contact = coalesce(excluded.last_contact, s.last_contact),"
							   "   their_height = coalesce(excluded.their_height, s.their_height),"
							   "   last_status = excluded.last_status, last_error = excluded.last_error"
							   " RETURNING (SELECT last_status FROM before)",
							   5, types, args, nulls, false, 0);
	medchain_leave_owner(&scope);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "medchain could not keep the state of peer \"%s\": %s",
			 peer->name, SPI_result_code_string(rc));
	before = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (status_is_good(out->status) && (before == NULL || status_is_good(before)))
		return;
	if (before != NULL && strcmp(before, out->status) == 0)
		return;
	if (status_is_good(out->status))
		ereport(LOG,
				(errmsg("medchain peer \"%s\" is reached again", peer->name)));
	else
		ereport(strcmp(out->status, "unreachable") == 0 || strcmp(out->status, "failed") == 0 ?
				LOG : WARNING,
				(errcode(ERRCODE_CONNECTION_EXCEPTION),
				 errmsg("medchain replication to peer \"%s\": %s", peer->name, out->status),
				 out->error != NULL ? errdetail("%s.", out->error) : 0,
				 errhint("See medchain.peer_status.")));
}

void
replication_lock(void)
{
	OwnerScope	scope;

	medchain_become_owner(medchain_relation("peer_state"), &scope);
	medchain_spi_execute("LOCK TABLE medchain.peer_state IN SHARE ROW EXCLUSIVE MODE",
						 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
	medchain_leave_owner(&scope);
}

static void
round_begin(Round *round)
{
	BlockRow	head;

	/*
	 * One round at a time on this node, and none while recover_chain()
	 * runs; the chain is read as it is once the lock is held, not as the
	 * transaction's first snapshot saw it before the wait.
	 */
	replication_lock();
	PushActiveSnapshot(GetLatestSnapshot());
	round->has_chain = block_chain_id_of_chain(GetActiveSnapshot(), round->chain_id);
	round->head = block_head(GetActiveSnapshot(), &head) ? head.header.height : -1;
	round->journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(round->journal, round->attnums);
}

static void
put_outcome(ReturnSetInfo *rsinfo, const Peer *peer, const PeerOutcome *out)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, !out->height_known, false, out->error == NULL};

	values[0] = CStringGetTextDatum(peer->name);
	values[1] = Int32GetDatum(out->blocks_sent);
	values[2] = Int64GetDatum(out->their_height);
	values[3] = CStringGetTextDatum(out->status);
	values[4] = out->error != NULL ? CStringGetTextDatum(out->error) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

void
sealing_halt_check(void)
{
	bool		isnull;
	char	   *peer;
	int64		own;
	int64		published;

	/* objects older than 1.4 have no halt to read */
	if (!OidIsValid(get_relname_relid("sealing_halt", medchain_namespace())))
		return;
	SPI_connect();
	/* not read-only: a snapshot of its own, taken now */
	medchain_spi_execute("SELECT peer, own_height, published_height FROM medchain.sealing_halt",
						 0, NULL, NULL, false, 0, SPI_OK_SELECT, -1);
	if (SPI_processed == 0)
	{
		SPI_finish();
		return;
	}
	peer = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	own = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	published = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("sealing is halted: peer \"%s\" holds this node's chain up to height %lld, above block %lld, this node's newest when it was found",
					peer, (long long) published, (long long) own),
			 errdetail("This node was restored from a backup older than the blocks it last published, or lost blocks; a block sealed now would fork its chain at heights its peers hold."),
			 errhint("See docs/DESIGN.md, \"Restored from an old backup\".")));
}

int
replicate_round(ReturnSetInfo *rsinfo, bool keep_links)
{
	List	   *peers = peers_load();
	Round		round;
	ListCell   *lc;
	int			current = 0;

	if (peers == NIL)
		return 0;
	round_begin(&round);
	foreach(lc, peers)
	{
		Peer	   *peer = lfirst(lc);
		PeerOutcome out;

		CHECK_FOR_INTERRUPTS();
		if (!round.has_chain)
		{
			/* nothing to send, nor a chain to ask the peer about */
			memset(&out, 0, sizeof(out));
			out.status = "nothing_sealed";
		}
		else
		{
			replicate_to(&round, peer, &out, keep_links);
			peer_state_keep(peer, &out);
		}
		if (rsinfo != NULL)
			put_outcome(rsinfo, peer, &out);
		if (status_is_good(out.status))
			current++;
	}
	table_close(round.journal, AccessShareLock);
	PopActiveSnapshot();
	kept_links_prune(peers);
	return current;
}

/*
 * medchain.replicate_now()
 * RETURNS TABLE(peer text, blocks_sent integer, their_height bigint,
 *				 status text, error text)
 *
 * One round, now, in this session, as the worker runs them.
 */
Datum
medchain_replicate_now(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	require_admin("replicate blocks to the peers");
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	replicate_round(rsinfo, false);
	SPI_finish();
	return (Datum) 0;
}
