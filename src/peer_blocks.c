/*-------------------------------------------------------------------------
 *
 * peer_blocks.c
 *	  medchain.receive_blocks(): a peer's blocks, checked, then kept.
 *
 * The receiver trusts nothing it is sent.  A block is kept only when it
 * follows the copy this node holds of that chain by every chain rule
 * (chain_rules.c: link, difficulty, floor, chain id, hash, proof-of-work,
 * signature), its entry hashes give its Merkle root, and its signer is a
 * registered peer, the one whose key signed the chain's blocks held so
 * far (a chain is its signer's).  A version 1 or 2 block, from before blocks were
 * signed, carries no signature: it is kept only when a signed block of a
 * registered peer further up the same delivery links back to it, since
 * that signature covers every block below through the prev_hash links.
 *
 * What fails is not an error: the call goes on, the block is answered
 * with its reason and kept as evidence in medchain.rejected_blocks (once
 * per distinct payload), so that a sender in error is not put into a
 * loop of failed transactions, and what was sent stays for an auditor.
 * Two blocks of one chain at one height, validly signed by one key, are
 * kept as equivocation evidence: both signed headers, which anyone can
 * check.
 *
 * Receivers are serialized by a lock on medchain.peer_blocks that readers
 * do not wait for, and read the chain after it at READ COMMITTED, each
 * query with a snapshot of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "access/xact.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "block.h"
#include "chain_rules.h"
#include "merkle.h"
#include "node_key.h"
#include "replication_payload.h"
#include "security_scope.h"

PG_FUNCTION_INFO_V1(medchain_receive_blocks);

/* Most payloads one delivery may hold (the replicator sends at most 100). */
#define MC_MAX_DELIVERY 1000
PG_FUNCTION_INFO_V1(medchain_held_payloads);

/* What became of one payload. */
typedef enum ReceiveStatus
{
	RECEIVED_STORED,			/* checked and kept */
	RECEIVED_DUPLICATE,			/* this node holds it already */
	RECEIVED_REJECTED,			/* it breaks a rule: kept as evidence */
	RECEIVED_EQUIVOCATION,		/* validly signed, another block at a held
								 * height: kept as evidence */
	RECEIVED_GAP,				/* it does not come next: send lower ones first */
	RECEIVED_UNVOUCHED			/* unsigned, and no signed block of this
								 * delivery links back to it */
} ReceiveStatus;

static const char *const status_names[] = {
	"stored", "duplicate", "rejected", "equivocation", "gap", "unvouched"
};

typedef struct Received
{
	bytea	   *payload;
	ReplicatedBlock block;
	bool		decoded;
	ReceiveStatus status;
	const char *reason;
} Received;

/* The copy this node holds of one chain, as far as the receiver needs it. */
typedef struct HeldChain
{
	uint8		chain_id[MC_HASH_LEN];
	bool		has_head;
	BlockRow	head;
	int64		floor;
	bool		has_signer;		/* a signed block of the chain is held */
	uint8		signer_key[MC_SIGNER_KEY_LEN];	/* the key of the highest */
	int			npeer_keys;		/* the registered peers' keys, read once */
	uint8		(*peer_keys)[MC_SIGNER_KEY_LEN];
} HeldChain;

static bytea *
header_bytea(const BlockHeader *header)
{
	uint8		bytes[MC_HEADER_MAX_LEN];
	int			len = block_header_encode(header, bytes);

	return mc_bytes_to_bytea(bytes, len);
}

/* A stored peer block's row (columns header, signer_key, signature). */
static void
held_block_from_spi(HeapTuple tuple, TupleDesc desc, BlockRow *row)
{
	bool		isnull;
	bytea	   *header = DatumGetByteaPP(SPI_getbinval(tuple, desc, 1, &isnull));
	Datum		value;
	const char *problem;

	memset(row, 0, sizeof(BlockRow));
	row->signer_key_len = -1;
	row->signature_len = -1;
	problem = block_header_decode((const uint8 *) VARDATA_ANY(header),
								  VARSIZE_ANY_EXHDR(header), &row->header);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a block held in medchain.peer_blocks is malformed"),
				 errdetail("Its header: %s.", problem),
				 errhint("Someone with superuser rights altered medchain.peer_blocks.")));
	block_header_hash(&row->header, row->block_hash);
	value = SPI_getbinval(tuple, desc, 2, &isnull);
	if (!isnull && VARSIZE_ANY_EXHDR(DatumGetByteaPP(value)) == MC_SIGNER_KEY_LEN)
	{
		memcpy(row->signer_key, VARDATA_ANY(DatumGetByteaPP(value)), MC_SIGNER_KEY_LEN);
		row->signer_key_len = MC_SIGNER_KEY_LEN;
	}
	value = SPI_getbinval(tuple, desc, 3, &isnull);
	if (!isnull && VARSIZE_ANY_EXHDR(DatumGetByteaPP(value)) == MC_SIGNATURE_LEN)
	{
		memcpy(row->signature, VARDATA_ANY(DatumGetByteaPP(value)), MC_SIGNATURE_LEN);
		row->signature_len = MC_SIGNATURE_LEN;
	}
}

/* The block held at this height of the chain; false if none. */
static bool
held_block(const HeldChain *chain, int64 height, BlockRow *row)
{
	Oid			types[2] = {BYTEAOID, INT8OID};
	Datum		args[2] = {PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN)),
	Int64GetDatum(height)};

	medchain_spi_execute("SELECT header, signer_key, signature FROM medchain.peer_blocks"
						 " WHERE chain_id OPERATOR(pg_catalog.=) $1"
						 "   AND height OPERATOR(pg_catalog.=) $2",
						 2, types, args, false, 0, SPI_OK_SELECT, -1);
	if (SPI_processed == 0)
		return false;
	held_block_from_spi(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

static void
held_chain_load(HeldChain *chain)
{
	Oid			types[1] = {BYTEAOID};
	Datum		args[1] = {PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN))};
	BlockRow	genesis;

	/* not read-only: a fresh snapshot, taken after the lock, per query */
	medchain_spi_execute("SELECT signer_key FROM medchain.peer_blocks"
						 " WHERE chain_id OPERATOR(pg_catalog.=) $1 AND signer_key IS NOT NULL"
						 " ORDER BY height DESC LIMIT 1",
						 1, types, args, false, 0, SPI_OK_SELECT, -1);
	chain->has_signer = SPI_processed > 0;
	if (chain->has_signer)
	{
		bool		isnull;
		bytea	   *key = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));

		if (VARSIZE_ANY_EXHDR(key) != MC_SIGNER_KEY_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("a block held in medchain.peer_blocks has a signer key of %d bytes",
							(int) VARSIZE_ANY_EXHDR(key)),
					 errdetail("A signer key is a raw Ed25519 public key of 32 bytes."),
					 errhint("Someone with superuser rights altered medchain.peer_blocks.")));
		memcpy(chain->signer_key, VARDATA_ANY(key), MC_SIGNER_KEY_LEN);
	}
	medchain_spi_execute("SELECT header, signer_key, signature FROM medchain.peer_blocks"
						 " WHERE chain_id OPERATOR(pg_catalog.=) $1"
						 " ORDER BY height DESC LIMIT 1",
						 1, types, args, false, 0, SPI_OK_SELECT, -1);
	chain->has_head = SPI_processed > 0;
	chain->floor = MC_FLOOR_UNKNOWN;
	if (!chain->has_head)
		return;
	held_block_from_spi(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &chain->head);
	if (!held_block(chain, 0, &genesis))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the copy of chain %s in medchain.peer_blocks has no genesis block",
						mc_hex(chain->chain_id, MC_HASH_LEN)),
				 errdetail("Blocks are kept from height 0 up, one after the other."),
				 errhint("Someone with superuser rights altered medchain.peer_blocks.")));
	chain->floor = chain_floor(&genesis.header);
}

/* The keys of the registered peers, read once per delivery. */
static void
peer_keys_load(HeldChain *chain)
{
	uint64		i;

	medchain_spi_execute("SELECT public_key FROM medchain.peers",
						 0, NULL, NULL, false, 0, SPI_OK_SELECT, -1);
	chain->npeer_keys = 0;
	chain->peer_keys = palloc(sizeof(*chain->peer_keys) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bytea	   *key = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[i],
														SPI_tuptable->tupdesc, 1, &isnull));

		/* the table's check constraint keeps them 32 bytes */
		if (VARSIZE_ANY_EXHDR(key) == MC_SIGNER_KEY_LEN)
			memcpy(chain->peer_keys[chain->npeer_keys++], VARDATA_ANY(key), MC_SIGNER_KEY_LEN);
	}
}

static bool
is_peer_key(const HeldChain *chain, const uint8 key[MC_SIGNER_KEY_LEN])
{
	int			i;

	for (i = 0; i < chain->npeer_keys; i++)
		if (memcmp(chain->peer_keys[i], key, MC_SIGNER_KEY_LEN) == 0)
			return true;
	return false;
}

/*
 * Why a decoded block cannot be kept after prev (NULL: as genesis), by
 * the chain rules, its Merkle root and its signer; NULL when it can.
 */
static const char *
received_block_problem(const HeldChain *chain, const BlockRow *prev, const ReplicatedBlock *block)
{
	const char *problem = chain_received_problem(prev, &block->row, chain->floor,
												 chain->chain_id);

	if (problem != NULL)
		return problem;
	if (!merkle_root_matches((const uint8 (*)[MC_HASH_LEN]) block->entry_hashes,
							 block->row.header.entry_count, block->row.header.merkle_root))
		return "its entry hashes do not give its merkle_root";
	if (block->row.signature_len != MC_SIGNATURE_LEN)
		return NULL;
	if (!is_peer_key(chain, block->row.signer_key))
		return psprintf("its signer key %s is not the key of a registered peer",
						mc_hex(block->row.signer_key, MC_SIGNER_KEY_LEN));
	/* a chain is its signer's: another peer may not extend it */
	if (chain->has_signer && memcmp(block->row.signer_key, chain->signer_key, MC_SIGNER_KEY_LEN) != 0)
		return psprintf("its signer key %s is not the key %s that signs the blocks of this chain held so far",
						mc_hex(block->row.signer_key, MC_SIGNER_KEY_LEN),
						mc_hex(chain->signer_key, MC_SIGNER_KEY_LEN));
	return NULL;
}

/*
 * Whether other, at the height of held (a signed block of this chain),
 * proves that held's key signed two blocks there: it names this chain, is
 * signed by the same key, and holds by the rules of a block alone.
 */
static bool
equivocates(const HeldChain *chain, const BlockRow *held, const ReplicatedBlock *other)
{
	return other->row.header.height > 0 &&
		held->signer_key_len == MC_SIGNER_KEY_LEN && held->signature_len == MC_SIGNATURE_LEN &&
		other->row.signature_len == MC_SIGNATURE_LEN &&
		memcmp(other->row.signer_key, held->signer_key, MC_SIGNER_KEY_LEN) == 0 &&
		chain_id_problem(&other->row, chain->chain_id) == NULL &&
		block_problem(&other->row, chain->floor) == NULL;
}

static void
keep_rejected(const HeldChain *chain, const Received *r)
{
	uint8		payload_hash[MC_HASH_LEN];
	Oid			types[6] = {BYTEAOID, BYTEAOID, INT8OID, BYTEAOID, TEXTOID, BYTEAOID};
	Datum		args[6];
	char		nulls[7] = "      ";

	mc_sha256(VARDATA_ANY(r->payload), VARSIZE_ANY_EXHDR(r->payload), payload_hash);
	args[0] = PointerGetDatum(mc_bytes_to_bytea(payload_hash, MC_HASH_LEN));
	args[1] = PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN));
	args[2] = Int64GetDatum(r->block.row.header.height);
	args[3] = PointerGetDatum(mc_bytes_to_bytea(r->block.row.block_hash, MC_HASH_LEN));
	args[4] = CStringGetTextDatum(r->reason);
	args[5] = PointerGetDatum(r->payload);
	if (!r->decoded)
		nulls[2] = nulls[3] = 'n';
	medchain_spi_execute_nulls("INSERT INTO medchain.rejected_blocks AS r"
						 " (payload_hash, chain_id, height, block_hash, reason, sent_by,"
						 "  first_seen, last_seen, times, payload)"
						 " VALUES ($1, $2, $3, $4, $5, pg_catalog.session_user(),"
						 "  pg_catalog.now(), pg_catalog.now(), 1, $6)"
						 " ON CONFLICT (payload_hash) DO UPDATE"
						 " SET last_seen = pg_catalog.now(),"
						 "     times = r.times OPERATOR(pg_catalog.+) 1",
						 6, types, args, nulls, false, 0, SPI_OK_INSERT, 1);
}

static void
keep_equivocation(const HeldChain *chain, const BlockRow *held, const BlockRow *other)
{
	Oid			types[9] = {BYTEAOID, INT8OID, BYTEAOID, BYTEAOID, BYTEAOID, BYTEAOID,
	BYTEAOID, BYTEAOID, BYTEAOID};
	Datum		args[9];

	args[0] = PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN));
	args[1] = Int64GetDatum(other->header.height);
	args[2] = PointerGetDatum(header_bytea(&held->header));
	args[3] = PointerGetDatum(mc_bytes_to_bytea(held->signer_key, MC_SIGNER_KEY_LEN));
	args[4] = PointerGetDatum(mc_bytes_to_bytea(held->signature, MC_SIGNATURE_LEN));
	args[5] = PointerGetDatum(mc_bytes_to_bytea(other->block_hash, MC_HASH_LEN));
	args[6] = PointerGetDatum(header_bytea(&other->header));
	args[7] = PointerGetDatum(mc_bytes_to_bytea(other->signer_key, MC_SIGNER_KEY_LEN));
	args[8] = PointerGetDatum(mc_bytes_to_bytea(other->signature, MC_SIGNATURE_LEN));
	medchain_spi_execute("INSERT INTO medchain.equivocations"
						 " (chain_id, height, held_header, held_signer_key, held_signature,"
						 "  other_hash, other_header, other_signer_key, other_signature, found_at)"
						 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, pg_catalog.now())"
						 " ON CONFLICT DO NOTHING",
						 9, types, args, false, 0, SPI_OK_INSERT, -1);
}

static void
keep_block(const HeldChain *chain, const ReplicatedBlock *block, const uint8 vouched_by[MC_HASH_LEN])
{
	bool		is_signed = block->row.signature_len == MC_SIGNATURE_LEN;
	Oid			types[8] = {BYTEAOID, INT8OID, BYTEAOID, BYTEAOID, BYTEAOID, BYTEAOID,
	BYTEAOID, BYTEAOID};
	Datum		args[8];
	char		nulls[9] = "        ";

	args[0] = PointerGetDatum(mc_bytes_to_bytea(chain->chain_id, MC_HASH_LEN));
	args[1] = Int64GetDatum(block->row.header.height);
	args[2] = PointerGetDatum(mc_bytes_to_bytea(block->row.block_hash, MC_HASH_LEN));
	args[3] = PointerGetDatum(header_bytea(&block->row.header));
	args[4] = PointerGetDatum(mc_bytes_to_bytea(block->row.signer_key, MC_SIGNER_KEY_LEN));
	args[5] = PointerGetDatum(mc_bytes_to_bytea(block->row.signature, MC_SIGNATURE_LEN));
	args[6] = PointerGetDatum(mc_bytes_to_bytea((const uint8 *) block->entry_hashes,
											 (Size) block->row.header.entry_count * MC_HASH_LEN));
	args[7] = PointerGetDatum(mc_bytes_to_bytea(vouched_by, MC_HASH_LEN));
	if (!is_signed)
		nulls[4] = nulls[5] = 'n';
	medchain_spi_execute_nulls("INSERT INTO medchain.peer_blocks"
							   " (chain_id, height, block_hash, header, signer_key, signature,"
							   "  entry_hashes, vouched_by, received_at)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, pg_catalog.now())",
							   8, types, args, nulls, false, 0, SPI_OK_INSERT, 1);
}

/* Decide each payload in order, without writing anything. */
static void
receive_decide(HeldChain *chain, Received *received, int n)
{
	BlockRow	prev;
	bool		has_prev = chain->has_head;
	int64		next = chain->has_head ? chain->head.header.height + 1 : 0;
	bool		stopped = false;
	int			i;

	if (has_prev)
		prev = chain->head;
	for (i = 0; i < n; i++)
	{
		Received   *r = &received[i];
		BlockRow	held;
		int64		height;

		CHECK_FOR_INTERRUPTS();
		r->reason = replication_payload_decode(r->payload, &r->block);
		r->decoded = r->reason == NULL;
		if (!r->decoded)
		{
			r->reason = psprintf("malformed payload: %s", r->reason);
			r->status = RECEIVED_REJECTED;
			continue;
		}
		height = r->block.row.header.height;
		if (height < next && held_block(chain, height, &held))
		{
			if (memcmp(held.block_hash, r->block.row.block_hash, MC_HASH_LEN) == 0)
				r->status = RECEIVED_DUPLICATE;
			else if (equivocates(chain, &held, &r->block))
			{
				r->status = RECEIVED_EQUIVOCATION;
				r->reason = psprintf("block %s is validly signed, and this node holds block %s at height %lld",
									 mc_hex(r->block.row.block_hash, MC_HASH_LEN),
									 mc_hex(held.block_hash, MC_HASH_LEN), (long long) height);
			}
			else
			{
				r->status = RECEIVED_REJECTED;
				r->reason = psprintf("it conflicts with block %s held at height %lld, and is not a block of this chain validly signed by the same key",
									 mc_hex(held.block_hash, MC_HASH_LEN), (long long) height);
			}
			continue;
		}
		if (stopped || height != next)
		{
			r->status = RECEIVED_GAP;
			r->reason = stopped ? psprintf("block %lld below it was refused", (long long) next) :
				next == 0 ? "this node holds none of the chain: its genesis block comes first" :
				psprintf("this node holds the chain up to height %lld", (long long) next - 1);
			continue;
		}
		if (chain->floor == MC_FLOOR_UNKNOWN && height == 0)
			chain->floor = chain_floor(&r->block.row.header);
		r->reason = received_block_problem(chain, has_prev ? &prev : NULL, &r->block);
		if (r->reason != NULL)
		{
			r->status = RECEIVED_REJECTED;
			stopped = true;
			if (height == 0)
				chain->floor = MC_FLOOR_UNKNOWN;
			continue;
		}
		r->status = RECEIVED_STORED;
		prev = r->block.row;
		has_prev = true;
		next = height + 1;
		if (r->block.row.signature_len == MC_SIGNATURE_LEN)
		{
			chain->has_signer = true;
			memcpy(chain->signer_key, r->block.row.signer_key, MC_SIGNER_KEY_LEN);
		}
	}
}

/*
 * Unsigned blocks are kept only below a signed one of this delivery that
 * was kept too (it links to them); the rest wait for their signed block.
 * Returns the index of the highest signed block kept, or -1.
 */
static int
receive_vouch(Received *received, int n)
{
	int			top = -1;
	int			i;

	for (i = 0; i < n; i++)
		if (received[i].status == RECEIVED_STORED &&
			received[i].block.row.signature_len == MC_SIGNATURE_LEN)
			top = i;
	for (i = top + 1; i < n; i++)
		if (received[i].status == RECEIVED_STORED)
		{
			received[i].status = RECEIVED_UNVOUCHED;
			received[i].reason = "no signed block of a registered peer in this delivery links back to it";
		}
	return top;
}

static void
receive_keep(HeldChain *chain, Received *received, int n, int top)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		Received   *r = &received[i];
		uint8		vouched_by[MC_HASH_LEN];

		CHECK_FOR_INTERRUPTS();
		if (r->status == RECEIVED_STORED)
		{
			/* a signed block vouches for itself, an unsigned one by the top */
			medchain_key_fingerprint(r->block.row.signature_len == MC_SIGNATURE_LEN ?
									 r->block.row.signer_key :
									 received[top].block.row.signer_key, vouched_by);
			keep_block(chain, &r->block, vouched_by);
		}
		else if (r->status == RECEIVED_REJECTED)
			keep_rejected(chain, r);
		else if (r->status == RECEIVED_EQUIVOCATION)
		{
			BlockRow	held;

			if (held_block(chain, r->block.row.header.height, &held))
				keep_equivocation(chain, &held, &r->block.row);
		}
		if (r->status == RECEIVED_REJECTED && !r->decoded)
			ereport(WARNING,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("medchain refused a malformed payload for chain %s from a peer",
							mc_hex(chain->chain_id, MC_HASH_LEN)),
					 errdetail("%s.", r->reason)));
		else if (r->status == RECEIVED_REJECTED || r->status == RECEIVED_EQUIVOCATION)
			ereport(WARNING,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("medchain refused block %lld of chain %s from a peer",
							(long long) r->block.row.header.height,
							mc_hex(chain->chain_id, MC_HASH_LEN)),
					 errdetail("%s: %s.", status_names[r->status], r->reason)));
	}
}

/*
 * medchain.receive_blocks(chain_id bytea, payloads bytea[])
 * RETURNS TABLE(height bigint, block_hash bytea, status text, reason text)
 *
 * Blocks of a peer's chain (docs/FORMAT.md, "Replication payload"), in
 * height order, checked and kept; a row per payload says what became of
 * it.  For medchain_peer: what a peer's login calls on this node.
 */
Datum
medchain_receive_blocks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *chain_id = PG_GETARG_BYTEA_PP(0);
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(1);
	HeldChain	chain;
	Datum	   *payloads;
	bool	   *nulls;
	int			n;
	int			i;
	int			top;
	Received   *received;

	replication_chain_id_check(chain_id);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("payloads must be a one-dimensional array"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(array)),
				 errhint("Pass the payloads in height order in an array of bytea.")));
	if (ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)) > MC_MAX_DELIVERY)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many payloads in one delivery: %d",
						ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array))),
				 errdetail("One call takes at most %d blocks.", MC_MAX_DELIVERY),
				 errhint("Send the rest in further calls, in height order.")));
	deconstruct_array(array, BYTEAOID, -1, false, TYPALIGN_INT, &payloads, &nulls, &n);
	for (i = 0; i < n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("payload %d is NULL", i + 1),
					 errdetail("Every element of payloads is a block's replication payload."),
					 errhint("Leave out what is not a payload.")));
	memcpy(chain.chain_id, VARDATA_ANY(chain_id), MC_HASH_LEN);
	received = palloc0(sizeof(Received) * Max(n, 1));
	for (i = 0; i < n; i++)
		received[i].payload = DatumGetByteaPP(payloads[i]);

	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("medchain.receive_blocks() runs only at READ COMMITTED"),
				 errdetail("It reads the copy of the chain after taking its lock, which a transaction snapshot would not show."),
				 errhint("Call it outside a REPEATABLE READ or SERIALIZABLE transaction.")));
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	medchain_spi_execute("LOCK TABLE medchain.peer_blocks IN SHARE ROW EXCLUSIVE MODE",
						 0, NULL, NULL, false, 0, SPI_OK_UTILITY, -1);
	peer_keys_load(&chain);
	held_chain_load(&chain);
	receive_decide(&chain, received, n);
	top = receive_vouch(received, n);
	receive_keep(&chain, received, n, top);

	/* before SPI_finish(): the reasons live in SPI's memory */
	for (i = 0; i < n; i++)
	{
		Received   *r = &received[i];
		Datum		values[4];
		bool		isnull[4] = {!r->decoded, !r->decoded, false, r->reason == NULL};

		values[0] = Int64GetDatum(r->block.row.header.height);
		values[1] = PointerGetDatum(mc_bytes_to_bytea(r->block.row.block_hash, MC_HASH_LEN));
		values[2] = CStringGetTextDatum(status_names[r->status]);
		values[3] = r->reason != NULL ? CStringGetTextDatum(r->reason) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	SPI_finish();
	return (Datum) 0;
}

/* Most blocks one call of medchain.held_payloads() returns. */
#define MC_MAX_HELD_PAYLOADS 1000

/*
 * medchain.held_payloads(chain_id bytea, from_height bigint,
 *						  max_blocks integer) RETURNS SETOF bytea
 *
 * The copy this node holds of a peer's chain, from a height up, as the
 * replication payloads it was received as: what a node restored from an
 * old backup takes back of its own chain (medchain.recover_chain()).
 */
Datum
medchain_held_payloads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *chain_id = PG_GETARG_BYTEA_PP(0);
	int64		from = PG_GETARG_INT64(1);
	int32		max_blocks = PG_GETARG_INT32(2);
	Oid			types[3] = {BYTEAOID, INT8OID, INT4OID};
	Datum		args[3] = {PointerGetDatum(chain_id), Int64GetDatum(from), Int32GetDatum(max_blocks)};
	uint64		i;

	replication_chain_id_check(chain_id);
	if (from < 0 || max_blocks < 1 || max_blocks > MC_MAX_HELD_PAYLOADS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid range of blocks: from height %lld, at most %d",
						(long long) from, max_blocks),
				 errdetail("Heights start at 0, and one call returns 1 to %d blocks.", MC_MAX_HELD_PAYLOADS),
				 errhint("Ask for the rest in further calls.")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	SPI_connect();
	medchain_spi_execute("SELECT header, signer_key, signature, entry_hashes FROM medchain.peer_blocks"
						 " WHERE chain_id OPERATOR(pg_catalog.=) $1"
						 "   AND height OPERATOR(pg_catalog.>=) $2"
						 " ORDER BY height LIMIT $3",
						 3, types, args, true, 0, SPI_OK_SELECT, -1);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		BlockRow	row;
		bool		isnull;
		bytea	   *hashes;
		Datum		value;

		CHECK_FOR_INTERRUPTS();
		held_block_from_spi(tuple, SPI_tuptable->tupdesc, &row);
		hashes = DatumGetByteaPP(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 4, &isnull));
		if (VARSIZE_ANY_EXHDR(hashes) != (Size) row.header.entry_count * MC_HASH_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("a block held in medchain.peer_blocks has %zu bytes of entry hashes for %u entries",
							VARSIZE_ANY_EXHDR(hashes), row.header.entry_count),
					 errdetail("A block keeps 32 bytes per entry."),
					 errhint("Someone with superuser rights altered medchain.peer_blocks.")));
		value = PointerGetDatum(replication_payload_encode(&row,
														   (const uint8 (*)[MC_HASH_LEN]) VARDATA_ANY(hashes)));
		isnull = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	SPI_finish();
	return (Datum) 0;
}
