/*-------------------------------------------------------------------------
 *
 * receipts.c
 *	  Witness cosignatures, both ways: medchain.block_receipts() signs
 *	  receipts for the blocks of peers' chains this node keeps, and
 *	  receipt_accept() checks and keeps those peers give for this node's.
 *
 * A receipt is an Ed25519 signature, by the witness's node key, over the
 * origin's chain id, the height and the block hash under a domain string
 * of its own (block.h).  Ed25519 signatures are deterministic, so a
 * receipt asked for again is the same receipt: a witness keeps none, it
 * signs on request what it holds, and an origin that lost an answer (a
 * timeout, its worker killed) asks again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "journal.h"
#include "node_key.h"
#include "receipts.h"
#include "replication_payload.h"
#include "security_scope.h"
#include "sha256.h"

PG_FUNCTION_INFO_V1(medchain_block_receipts);

static void
check_heights(ArrayType *heights)
{
	int			n = ArrayGetNItems(ARR_NDIM(heights), ARR_DIMS(heights));

	if (ARR_NDIM(heights) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("heights must be a one-dimensional array"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(heights)),
				 errhint("Pass the heights as an array of bigint.")));
	if (array_contains_nulls(heights))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("heights must not contain NULL"),
				 errdetail("Each element names the height of a block."),
				 errhint("Leave out the NULL elements.")));
	if (n > MC_MAX_RECEIPTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many receipts asked for at once: %d", n),
				 errdetail("One call signs at most %d receipts.", MC_MAX_RECEIPTS),
				 errhint("Ask for the rest in further calls.")));
}

/*
 * medchain.block_receipts(chain_id bytea, heights bigint[])
 * RETURNS TABLE(height bigint, block_hash bytea, cosigner_key bytea,
 *				 signature bytea)
 *
 * A receipt for each block of a peer's chain this node holds at one of the
 * heights; heights it does not hold give no row.  The block hash is that
 * of the header bytes held, never a column a superuser could set apart.
 */
Datum
medchain_block_receipts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *chain_id = PG_GETARG_BYTEA_PP(0);
	ArrayType  *heights = PG_GETARG_ARRAYTYPE_P(1);
	Oid			types[2] = {BYTEAOID, INT8ARRAYOID};
	Datum		args[2] = {PointerGetDatum(chain_id), PointerGetDatum(heights)};
	uint8		cosigner_key[MC_SIGNER_KEY_LEN];
	int64	   *held_heights;
	uint8		(*hashes)[MC_HASH_LEN];
	uint8		(*signatures)[MC_SIGNATURE_LEN];
	uint64		n;
	uint64		i;

	replication_chain_id_check(chain_id);
	check_heights(heights);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	medchain_spi_execute("SELECT height, header FROM medchain.peer_blocks"
						 " WHERE chain_id OPERATOR(pg_catalog.=) $1"
						 "   AND height OPERATOR(pg_catalog.=) ANY ($2)"
						 " ORDER BY height",
						 2, types, args, true, 0, SPI_OK_SELECT, -1);
	n = SPI_processed;
	held_heights = palloc(sizeof(int64) * Max(n, 1));
	hashes = palloc(MC_HASH_LEN * Max(n, 1));
	signatures = palloc(MC_SIGNATURE_LEN * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;
		bytea	   *header;

		held_heights[i] = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
		header = DatumGetByteaPP(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));
		mc_sha256(VARDATA_ANY(header), VARSIZE_ANY_EXHDR(header), hashes[i]);
	}
	if (n > 0)
		medchain_node_sign_receipts((const uint8 *) VARDATA_ANY(chain_id), (int) n,
									held_heights, (const uint8 (*)[MC_HASH_LEN]) hashes,
									signatures, cosigner_key);
	for (i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		isnull[4] = {false, false, false, false};

		values[0] = Int64GetDatum(held_heights[i]);
		values[1] = PointerGetDatum(mc_bytes_to_bytea(hashes[i], MC_HASH_LEN));
		values[2] = PointerGetDatum(mc_bytes_to_bytea(cosigner_key, MC_SIGNER_KEY_LEN));
		values[3] = PointerGetDatum(mc_bytes_to_bytea(signatures[i], MC_SIGNATURE_LEN));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	SPI_finish();
	return (Datum) 0;
}

const char *
receipt_accept(const uint8 peer_key[MC_SIGNER_KEY_LEN], const uint8 chain_id[MC_HASH_LEN],
			   const Receipt *receipt)
{
	BlockRow	own;
	uint8		cosigner_id[MC_HASH_LEN];
	OwnerScope	scope;
	Oid			types[5] = {INT8OID, BYTEAOID, BYTEAOID, BYTEAOID, BYTEAOID};
	Datum		args[5];
	int			rc;

	if (memcmp(receipt->cosigner_key, peer_key, MC_SIGNER_KEY_LEN) != 0)
		return psprintf("a receipt for block %lld is signed by key %s, not the peer's registered key",
						(long long) receipt->height,
						mc_hex(receipt->cosigner_key, MC_SIGNER_KEY_LEN));
	if (!block_row_fetch(receipt->height, GetActiveSnapshot(), &own) ||
		memcmp(own.block_hash, receipt->block_hash, MC_HASH_LEN) != 0)
		return psprintf("the peer's receipt at height %lld is for block %s, which is not this node's block there",
						(long long) receipt->height, mc_hex(receipt->block_hash, MC_HASH_LEN));
	if (!medchain_signature_valid(SIGNED_RECEIPT, peer_key, chain_id, receipt->height,
								  receipt->block_hash, receipt->signature))
		return psprintf("the peer's receipt for block %lld does not verify under its key",
						(long long) receipt->height);
	medchain_key_fingerprint(peer_key, cosigner_id);
	args[0] = Int64GetDatum(receipt->height);
	args[1] = PointerGetDatum(mc_bytes_to_bytea(receipt->block_hash, MC_HASH_LEN));
	args[2] = PointerGetDatum(mc_bytes_to_bytea(cosigner_id, MC_HASH_LEN));
	args[3] = PointerGetDatum(mc_bytes_to_bytea(peer_key, MC_SIGNER_KEY_LEN));
	args[4] = PointerGetDatum(mc_bytes_to_bytea(receipt->signature, MC_SIGNATURE_LEN));
	medchain_become_owner(medchain_relation("cosignatures"), &scope);
	rc = SPI_execute_with_args("INSERT INTO medchain.cosignatures"
							   " (height, block_hash, cosigner_id, cosigner_key, signature, received_at)"
							   " VALUES ($1, $2, $3, $4, $5, pg_catalog.now())"
							   " ON CONFLICT (height, cosigner_id) DO NOTHING",
							   5, types, args, NULL, false, 0);
	medchain_leave_owner(&scope);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "medchain could not keep a receipt: %s", SPI_result_code_string(rc));
	return NULL;
}
