/*-------------------------------------------------------------------------
 *
 * block.c
 *	  Block headers and the rows of medchain.blocks.
 *
 * The header is a fixed layout per version (136, 140 or 172 bytes) whose
 * last 8 bytes are the nonce, so that its first 128 bytes (two SHA-256
 * blocks) are the same for every nonce tried: see pow.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "port/pg_bitutils.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "block.h"
#include "chain_rules.h"
#include "journal.h"
#include "wire.h"

/* ---------- header ---------- */

int
block_header_encode(const BlockHeader *header, uint8 out[MC_HEADER_MAX_LEN])
{
	bool		v2 = header->format_version >= 2;
	bool		v3 = header->format_version >= MC_BLOCK_FORMAT_SIGNED;
	char	   *p = (char *) out;

	p = wire_write_bytes(p, v3 ? "MCB3" : v2 ? "MCB2" : "MCB1", 4);
	p = wire_write_u32(p, header->format_version);
	p = wire_write_u64(p, (uint64) header->height);
	p = wire_write_bytes(p, header->prev_hash, MC_HASH_LEN);
	p = wire_write_bytes(p, header->merkle_root, MC_HASH_LEN);
	p = wire_write_u64(p, (uint64) mc_unix_usecs(header->sealed_at));
	p = wire_write_u32(p, header->entry_count);
	p = wire_write_u32(p, header->difficulty);
	if (v2)
		p = wire_write_u32(p, header->min_difficulty);
	if (v3)
		p = wire_write_bytes(p, header->chain_id, MC_HASH_LEN);
	p = wire_write_bytes(p, header->node_id, MC_HASH_LEN);
	p = wire_write_u64(p, header->nonce);
	Assert(p == (char *) out +
		   (v3 ? MC_HEADER_V3_LEN : v2 ? MC_HEADER_V2_LEN : MC_HEADER_V1_LEN));
	return p - (char *) out;
}

/*
 * The header that bytes[0..len) encode, the inverse of
 * block_header_encode(): NULL when they are one, else why not.  Only the
 * layout is checked here; the chain rules judge the values.
 */
const char *
block_header_decode(const uint8 *bytes, int len, BlockHeader *header)
{
	static const char *const magics[] = {"MCB1", "MCB2", "MCB3"};
	static const int lens[] = {MC_HEADER_V1_LEN, MC_HEADER_V2_LEN, MC_HEADER_V3_LEN};
	const uint8 *p = bytes;
	uint32		version;
	int64		usecs;

	if (len < 8)
		return "it is shorter than a header's magic and version";
	version = wire_read_u32(bytes + 4);
	if (version < 1 || version > MC_BLOCK_FORMAT_SIGNED)
		return psprintf("its format_version %u is not a known block format", version);
	if (memcmp(bytes, magics[version - 1], 4) != 0)
		return psprintf("its magic is not %s, which format_version %u has", magics[version - 1],
						version);
	if (len != lens[version - 1])
		return psprintf("it is %d bytes long, not the %d of format %u", len, lens[version - 1],
						version);
	memset(header, 0, sizeof(BlockHeader));
	header->format_version = version;
	p += 8;
	header->height = (int64) wire_read_u64(p);
	p += 8;
	if (header->height < 0)
		return "its height is beyond the range of bigint";
	memcpy(header->prev_hash, p, MC_HASH_LEN);
	p += MC_HASH_LEN;
	memcpy(header->merkle_root, p, MC_HASH_LEN);
	p += MC_HASH_LEN;
	usecs = (int64) wire_read_u64(p);
	p += 8;
	/* compared before the shift, which could overflow below the range */
	if (usecs < MIN_TIMESTAMP + MC_UNIX_EPOCH_OFFSET_USECS ||
		!IS_VALID_TIMESTAMP(mc_from_unix_usecs(usecs)))
		return "its sealed_at is outside the range of timestamptz";
	header->sealed_at = mc_from_unix_usecs(usecs);
	header->entry_count = wire_read_u32(p);
	p += 4;
	header->difficulty = wire_read_u32(p);
	p += 4;
	if (version >= 2)
	{
		header->min_difficulty = wire_read_u32(p);
		p += 4;
	}
	if (version >= MC_BLOCK_FORMAT_SIGNED)
	{
		memcpy(header->chain_id, p, MC_HASH_LEN);
		p += MC_HASH_LEN;
	}
	memcpy(header->node_id, p, MC_HASH_LEN);
	p += MC_HASH_LEN;
	header->nonce = wire_read_u64(p);
	p += 8;
	Assert(p == bytes + len);
	return NULL;
}

void
block_header_hash(const BlockHeader *header, uint8 out[MC_HASH_LEN])
{
	uint8		bytes[MC_HEADER_MAX_LEN];
	int			len = block_header_encode(header, bytes);

	mc_sha256(bytes, len, out);
}

void
block_node_id(const char *node_name, uint8 out[MC_HASH_LEN])
{
	char	   *utf8 = pg_server_to_any(node_name, strlen(node_name), PG_UTF8);

	mc_sha256(utf8, strlen(utf8), out);
}

void
block_chain_id(const BlockRow *row, uint8 out[MC_HASH_LEN])
{
	memcpy(out, row->header.height == 0 ? row->block_hash : row->header.chain_id, MC_HASH_LEN);
}

/*
 * The domain string and its NUL keep a block signature from passing for a
 * signature of anything else made with the same key, a receipt included;
 * the chain id keeps it from passing for one of another chain's block at
 * the same height.
 */
int
block_signed_message(SignedKind kind, const uint8 chain_id[MC_HASH_LEN], int64 height,
					 const uint8 block_hash[MC_HASH_LEN],
					 uint8 out[MC_SIGNED_MESSAGE_MAX_LEN])
{
	char	   *p = (char *) out;

	if (kind == SIGNED_BLOCK)
		p = wire_write_bytes(p, MC_SIGNATURE_DOMAIN, sizeof(MC_SIGNATURE_DOMAIN));
	else
		p = wire_write_bytes(p, MC_RECEIPT_DOMAIN, sizeof(MC_RECEIPT_DOMAIN));
	p = wire_write_bytes(p, chain_id, MC_HASH_LEN);
	p = wire_write_u64(p, (uint64) height);
	p = wire_write_bytes(p, block_hash, MC_HASH_LEN);
	return p - (char *) out;
}

int
leading_zero_bits(const uint8 hash[MC_HASH_LEN])
{
	int			bits = 0;
	int			i;

	for (i = 0; i < MC_HASH_LEN; i++)
	{
		if (hash[i] == 0)
		{
			bits += 8;
			continue;
		}
		return bits + (7 - pg_leftmost_one_pos32(hash[i]));
	}
	return bits;
}

/* ---------- rows ---------- */

typedef enum BlockColumn
{
	BCOL_HEIGHT,
	BCOL_FORMAT_VERSION,
	BCOL_PREV_HASH,
	BCOL_MERKLE_ROOT,
	BCOL_ENTRY_COUNT,
	BCOL_SEALED_AT,
	BCOL_DIFFICULTY,
	BCOL_NODE_NAME,
	BCOL_NONCE,
	BCOL_BLOCK_HASH,
	BCOL_FIRST_ENTRY_ID,
	BCOL_LAST_ENTRY_ID,
	BCOL_MIN_DIFFICULTY,
	BCOL_CHAIN_ID,
	BCOL_NODE_ID,
	BCOL_SIGNER_KEY,
	BCOL_SIGNATURE,
	BCOL_COUNT
} BlockColumn;

/* From BCOL_CHAIN_ID on, the columns of 1.3, which older objects lack. */
#define BCOL_FIRST_OF_1_3 BCOL_CHAIN_ID

static const char *const block_column_names[BCOL_COUNT] = {
	"height", "format_version", "prev_hash", "merkle_root", "entry_count",
	"sealed_at", "difficulty", "node_name", "nonce", "block_hash",
	"first_entry_id", "last_entry_id", "min_difficulty", "chain_id", "node_id",
	"signer_key", "signature"
};

/* Does medchain.blocks have the columns of signed blocks (1.3)? */
bool
block_table_signed(TupleDesc desc)
{
	return medchain_attnum_if_exists(desc, block_column_names[BCOL_SIGNATURE]) != InvalidAttrNumber;
}

/*
 * A stored hash that is not 32 bytes (someone wrote the row by hand) reads
 * as all zeros, which no honest hash is: the integrity checks then fail.
 */
static void
hash_from_datum(Datum value, bool isnull, uint8 out[MC_HASH_LEN])
{
	bytea	   *b;

	memset(out, 0, MC_HASH_LEN);
	if (isnull)
		return;
	b = DatumGetByteaPP(value);
	if (VARSIZE_ANY_EXHDR(b) == MC_HASH_LEN)
		memcpy(out, VARDATA_ANY(b), MC_HASH_LEN);
}

/* A stored signer key or signature: its length (-1 for NULL), its bytes if len long. */
static int
bytes_from_datum(Datum value, bool isnull, uint8 *out, int len)
{
	bytea	   *b;

	memset(out, 0, len);
	if (isnull)
		return -1;
	b = DatumGetByteaPP(value);
	if (VARSIZE_ANY_EXHDR(b) == len)
		memcpy(out, VARDATA_ANY(b), len);
	return VARSIZE_ANY_EXHDR(b);
}

void
block_row_from_tuple(HeapTuple tuple, TupleDesc desc, BlockRow *row)
{
	Datum		values[BCOL_COUNT];
	bool		isnull[BCOL_COUNT];
	int			col;

	for (col = 0; col < BCOL_COUNT; col++)
	{
		AttrNumber	attnum = col < BCOL_FIRST_OF_1_3 ?
			medchain_attnum(desc, block_column_names[col]) :
			medchain_attnum_if_exists(desc, block_column_names[col]);

		values[col] = (Datum) 0;
		isnull[col] = true;
		if (attnum != InvalidAttrNumber)
			values[col] = heap_getattr(tuple, attnum, desc, &isnull[col]);
	}

#define INT_OR_ZERO(col, get) (isnull[col] ? 0 : get(values[col]))
	row->header.height = INT_OR_ZERO(BCOL_HEIGHT, DatumGetInt64);
	row->header.format_version = INT_OR_ZERO(BCOL_FORMAT_VERSION, DatumGetInt32);
	hash_from_datum(values[BCOL_PREV_HASH], isnull[BCOL_PREV_HASH], row->header.prev_hash);
	hash_from_datum(values[BCOL_MERKLE_ROOT], isnull[BCOL_MERKLE_ROOT], row->header.merkle_root);
	row->header.entry_count = INT_OR_ZERO(BCOL_ENTRY_COUNT, DatumGetInt32);
	row->header.sealed_at = INT_OR_ZERO(BCOL_SEALED_AT, DatumGetTimestampTz);
	row->header.difficulty = INT_OR_ZERO(BCOL_DIFFICULTY, DatumGetInt32);
	row->node_name = isnull[BCOL_NODE_NAME] ? pstrdup("") :
		TextDatumGetCString(values[BCOL_NODE_NAME]);
	/* version 3 stores the node id; before, it is the hash of the name */
	if (row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
		hash_from_datum(values[BCOL_NODE_ID], isnull[BCOL_NODE_ID], row->header.node_id);
	else
		block_node_id(row->node_name, row->header.node_id);
	hash_from_datum(values[BCOL_CHAIN_ID], isnull[BCOL_CHAIN_ID], row->header.chain_id);
	row->signer_key_len = bytes_from_datum(values[BCOL_SIGNER_KEY], isnull[BCOL_SIGNER_KEY],
										   row->signer_key, MC_SIGNER_KEY_LEN);
	row->signature_len = bytes_from_datum(values[BCOL_SIGNATURE], isnull[BCOL_SIGNATURE],
										  row->signature, MC_SIGNATURE_LEN);
	row->header.nonce = (uint64) INT_OR_ZERO(BCOL_NONCE, DatumGetInt64);
	hash_from_datum(values[BCOL_BLOCK_HASH], isnull[BCOL_BLOCK_HASH], row->block_hash);
	row->first_entry_id = INT_OR_ZERO(BCOL_FIRST_ENTRY_ID, DatumGetInt64);
	row->last_entry_id = INT_OR_ZERO(BCOL_LAST_ENTRY_ID, DatumGetInt64);
	row->header.min_difficulty = INT_OR_ZERO(BCOL_MIN_DIFFICULTY, DatumGetInt32);
#undef INT_OR_ZERO
}

HeapTuple
block_row_to_tuple(const BlockRow *row, TupleDesc desc)
{
	Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	int			col;

	memset(isnull, true, sizeof(bool) * desc->natts);
	for (col = 0; col < BCOL_COUNT; col++)
	{
		AttrNumber	attnum;
		Datum		value = (Datum) 0;

		/* an unsigned block leaves the columns of signed ones NULL */
		if (col >= BCOL_FIRST_OF_1_3 && row->header.format_version < MC_BLOCK_FORMAT_SIGNED)
			continue;
		attnum = medchain_attnum(desc, block_column_names[col]);

		switch ((BlockColumn) col)
		{
			case BCOL_HEIGHT:
				value = Int64GetDatum(row->header.height);
				break;
			case BCOL_FORMAT_VERSION:
				value = Int32GetDatum((int32) row->header.format_version);
				break;
			case BCOL_PREV_HASH:
				value = PointerGetDatum(mc_hash_to_bytea(row->header.prev_hash));
				break;
			case BCOL_MERKLE_ROOT:
				value = PointerGetDatum(mc_hash_to_bytea(row->header.merkle_root));
				break;
			case BCOL_ENTRY_COUNT:
				value = Int32GetDatum((int32) row->header.entry_count);
				break;
			case BCOL_SEALED_AT:
				value = TimestampTzGetDatum(row->header.sealed_at);
				break;
			case BCOL_DIFFICULTY:
				value = Int32GetDatum((int32) row->header.difficulty);
				break;
			case BCOL_NODE_NAME:
				value = CStringGetTextDatum(row->node_name);
				break;
			case BCOL_NONCE:
				value = Int64GetDatum((int64) row->header.nonce);
				break;
			case BCOL_BLOCK_HASH:
				value = PointerGetDatum(mc_hash_to_bytea(row->block_hash));
				break;
			case BCOL_FIRST_ENTRY_ID:
				value = Int64GetDatum(row->first_entry_id);
				break;
			case BCOL_LAST_ENTRY_ID:
				value = Int64GetDatum(row->last_entry_id);
				break;
			case BCOL_MIN_DIFFICULTY:
				if (row->header.format_version < 2)
					continue;
				value = Int32GetDatum((int32) row->header.min_difficulty);
				break;
			case BCOL_CHAIN_ID:
				value = PointerGetDatum(mc_hash_to_bytea(row->header.chain_id));
				break;
			case BCOL_NODE_ID:
				value = PointerGetDatum(mc_hash_to_bytea(row->header.node_id));
				break;
			case BCOL_SIGNER_KEY:
				value = PointerGetDatum(mc_bytes_to_bytea(row->signer_key, MC_SIGNER_KEY_LEN));
				break;
			case BCOL_SIGNATURE:
				value = PointerGetDatum(mc_bytes_to_bytea(row->signature, MC_SIGNATURE_LEN));
				break;
			case BCOL_COUNT:
				break;
		}
		values[attnum - 1] = value;
		isnull[attnum - 1] = false;
	}
	return heap_form_tuple(desc, values, isnull);
}

/*
 * The block at `height`, or with height < 0 the highest block, as snapshot
 * sees it.
 */
static bool
block_lookup(int64 height, Snapshot snapshot, BlockRow *row)
{
	Relation	blocks = table_open(medchain_relation("blocks"), AccessShareLock);
	Relation	index = index_open(medchain_relation("blocks_pkey"), AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&key, medchain_attnum(RelationGetDescr(blocks), block_column_names[BCOL_HEIGHT]),
				BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(height));
	scan = systable_beginscan_ordered(blocks, index, snapshot,
									  height < 0 ? 0 : 1, &key);
	tuple = systable_getnext_ordered(scan, height < 0 ? BackwardScanDirection :
									 ForwardScanDirection);
	if (HeapTupleIsValid(tuple))
		block_row_from_tuple(tuple, RelationGetDescr(blocks), row);
	systable_endscan_ordered(scan);
	index_close(index, AccessShareLock);
	table_close(blocks, AccessShareLock);
	return HeapTupleIsValid(tuple);
}

bool
block_row_fetch(int64 height, Snapshot snapshot, BlockRow *row)
{
	Assert(height >= 0);
	return block_lookup(height, snapshot, row);
}

bool
block_head(Snapshot snapshot, BlockRow *row)
{
	return block_lookup(-1, snapshot, row);
}


int64
block_chain_floor(Snapshot snapshot)
{
	BlockRow	genesis;

	return block_row_fetch(0, snapshot, &genesis) ? chain_floor(&genesis.header) :
		MC_FLOOR_UNKNOWN;
}

bool
block_chain_id_of_chain(Snapshot snapshot, uint8 out[MC_HASH_LEN])
{
	BlockRow	genesis;

	if (!block_row_fetch(0, snapshot, &genesis))
		return false;
	memcpy(out, genesis.block_hash, MC_HASH_LEN);
	return true;
}
