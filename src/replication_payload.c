/*-------------------------------------------------------------------------
 *
 * replication_payload.c
 *	  Encoding and decoding the replication payload of a block, and
 *	  medchain.block_payloads(), which lists this node's own blocks as
 *	  payloads.
 *
 * A payload carries what a peer needs to check a block and nothing it
 * could learn a patient from: the header (whose hash it recomputes), the
 * signer key and signature, and the entry hashes in leaf order (whose
 * Merkle root it recomputes).  The node name, a label kept beside the
 * header, is left out: a version 3 header names the node by its key.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "journal.h"
#include "merkle.h"
#include "privileges.h"
#include "recover.h"
#include "replication_payload.h"
#include "wire.h"

PG_FUNCTION_INFO_V1(medchain_block_payloads);

/* magic, header length, header, signed flag, [key, signature], count */
#define PAYLOAD_FIXED_LEN(header_len) (4 + 4 + (header_len) + 1 + 4)

bytea *
replication_payload_encode(const BlockRow *row, const uint8 (*entry_hashes)[MC_HASH_LEN])
{
	uint8		header[MC_HEADER_MAX_LEN];
	int			header_len = block_header_encode(&row->header, header);
	bool		is_signed = row->header.format_version >= MC_BLOCK_FORMAT_SIGNED;
	Size		len = PAYLOAD_FIXED_LEN(header_len) +
		(is_signed ? MC_SIGNER_KEY_LEN + MC_SIGNATURE_LEN : 0) +
		(Size) row->header.entry_count * MC_HASH_LEN;
	bytea	   *payload;
	char	   *p;

	if (is_signed &&
		(row->signer_key_len != MC_SIGNER_KEY_LEN || row->signature_len != MC_SIGNATURE_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("signed block %lld has no signer key or signature of the right size",
						(long long) row->header.height),
				 errdetail("A format 3 block carries a 32-byte signer key and a 64-byte signature."),
				 errhint("Someone with superuser rights altered medchain.blocks; run medchain.verify().")));
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("block %lld is too large to send to peers", (long long) row->header.height),
				 errdetail("Its %u entry hashes take more than the 1 GB a value can hold.",
						   row->header.entry_count),
				 errhint("Lower medchain.block_max_entries: blocks of up to 30 million entries can be sent.")));
	payload = palloc(VARHDRSZ + len);
	p = VARDATA(payload);

	SET_VARSIZE(payload, VARHDRSZ + len);
	p = wire_write_bytes(p, MC_PAYLOAD_MAGIC, 4);
	p = wire_write_u32(p, (uint32) header_len);
	p = wire_write_bytes(p, header, header_len);
	*p++ = is_signed ? 1 : 0;
	if (is_signed)
	{
		p = wire_write_bytes(p, row->signer_key, MC_SIGNER_KEY_LEN);
		p = wire_write_bytes(p, row->signature, MC_SIGNATURE_LEN);
	}
	p = wire_write_u32(p, row->header.entry_count);
	p = wire_write_bytes(p, entry_hashes, (Size) row->header.entry_count * MC_HASH_LEN);
	Assert(p == VARDATA(payload) + len);
	return payload;
}

const char *
replication_payload_decode(const bytea *payload, ReplicatedBlock *block)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(payload);
	Size		len = VARSIZE_ANY_EXHDR(payload);
	const uint8 *end = p + len;
	uint32		header_len;
	uint32		count;
	const char *problem;

	memset(block, 0, sizeof(ReplicatedBlock));
	/* as block rows say it: -1 for a signer key and signature not there */
	block->row.signer_key_len = -1;
	block->row.signature_len = -1;
	if (len < 8 || memcmp(p, MC_PAYLOAD_MAGIC, 4) != 0)
		return "it does not begin with the magic " MC_PAYLOAD_MAGIC;
	header_len = wire_read_u32(p + 4);
	p += 8;
	if (header_len > MC_HEADER_MAX_LEN || (Size) (end - p) < header_len + 1)
		return "its header length is not that of a header it holds";
	if ((problem = block_header_decode(p, (int) header_len, &block->row.header)) != NULL)
		return psprintf("its header is malformed: %s", problem);
	block_header_hash(&block->row.header, block->row.block_hash);
	p += header_len;
	if (*p > 1)
		return "its signed flag is neither 0 nor 1";
	if (*p++ == 1)
	{
		if ((Size) (end - p) < MC_SIGNER_KEY_LEN + MC_SIGNATURE_LEN)
			return "it ends inside its signature";
		memcpy(block->row.signer_key, p, MC_SIGNER_KEY_LEN);
		block->row.signer_key_len = MC_SIGNER_KEY_LEN;
		p += MC_SIGNER_KEY_LEN;
		memcpy(block->row.signature, p, MC_SIGNATURE_LEN);
		block->row.signature_len = MC_SIGNATURE_LEN;
		p += MC_SIGNATURE_LEN;
	}
	if ((Size) (end - p) < 4)
		return "it ends before its entry count";
	count = wire_read_u32(p);
	p += 4;
	if (count != block->row.header.entry_count)
		return psprintf("it carries %u entry hashes for a header that counts %u",
						count, block->row.header.entry_count);
	/* the length is checked before anything is allocated for the hashes */
	if ((Size) (end - p) != (Size) count * MC_HASH_LEN)
		return psprintf("it holds %zu bytes of entry hashes, not the %zu of %u hashes",
						(Size) (end - p), (Size) count * MC_HASH_LEN, count);
	block->entry_hashes = palloc_extended(Max((Size) count * MC_HASH_LEN, 1), MCXT_ALLOC_HUGE);
	memcpy(block->entry_hashes, p, (Size) count * MC_HASH_LEN);
	block->row.node_name = NULL;
	return NULL;
}

void
replication_chain_id_check(bytea *chain_id)
{
	if (VARSIZE_ANY_EXHDR(chain_id) != MC_HASH_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid chain id of %d bytes", (int) VARSIZE_ANY_EXHDR(chain_id)),
				 errdetail("A chain id is the 32-byte block_hash of the chain's genesis block."),
				 errhint("Pass the chain id that medchain.node_identity() gives on the chain's node.")));
}

bytea *
replication_payload_of_block(Relation journal, const AttrNumber *attnums, int64 height)
{
	BlockRow	row;
	const uint8 (*leaves)[MC_HASH_LEN];

	uint32		recovered;

	if (!block_row_fetch(height, GetActiveSnapshot(), &row))
		return NULL;
	/* a block taken back from a peer has its entry hashes, not its entries */
	leaves = (const uint8 (*)[MC_HASH_LEN]) recovered_block_leaves(height, &recovered);
	if (leaves != NULL && recovered != row.header.entry_count)
		journal_report_altered_block(height);
	if (leaves == NULL)
		leaves = (const uint8 (*)[MC_HASH_LEN]) journal_block_leaves(journal, attnums, &row);
	/* entries altered in place keep their count: their root tells */
	if (!merkle_root_matches(leaves, row.header.entry_count, row.header.merkle_root))
		journal_report_altered_block(row.header.height);
	return replication_payload_encode(&row, leaves);
}

/*
 * medchain.block_payloads(from_height bigint, max_blocks integer)
 * RETURNS SETOF bytea
 *
 * This node's own blocks from from_height up, at most max_blocks of them,
 * as the payloads its peers receive; a block whose entries in the journal
 * no longer fit its header is an error, not a payload.
 */
Datum
medchain_block_payloads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		height = PG_GETARG_INT64(0);
	int32		max_blocks = PG_GETARG_INT32(1);
	Relation	journal;
	AttrNumber	attnums[MC_ENTRY_COLUMNS];
	MemoryContext blockcxt;
	int32		sent;

	require_auditor("list block payloads");
	if (height < 0 || max_blocks < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid range of blocks: from height %lld, at most %d",
						(long long) height, max_blocks),
				 errdetail("Heights start at 0, and at least one block must be asked for."),
				 errhint("Pass a height of 0 or more and max_blocks of 1 or more.")));
	/* a set of bytea: the single column the caller expects */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	journal = table_open(medchain_journal_relid(), AccessShareLock);
	entry_columns_find(journal, attnums);
	blockcxt = AllocSetContextCreate(CurrentMemoryContext, "medchain block payload",
									 ALLOCSET_DEFAULT_SIZES);
	for (sent = 0; sent < max_blocks; sent++, height++)
	{
		MemoryContext old = MemoryContextSwitchTo(blockcxt);
		bytea	   *payload;
		Datum		value;
		bool		isnull = false;

		CHECK_FOR_INTERRUPTS();
		payload = replication_payload_of_block(journal, attnums, height);
		MemoryContextSwitchTo(old);
		if (payload == NULL)
			break;
		value = PointerGetDatum(payload);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		MemoryContextReset(blockcxt);
	}
	MemoryContextDelete(blockcxt);
	table_close(journal, AccessShareLock);
	return (Datum) 0;
}
