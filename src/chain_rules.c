/*-------------------------------------------------------------------------
 *
 * chain_rules.c
 *	  Block and link rules of the chain.
 *
 * The difficulty of a block may not fall below the block before it, nor
 * below the floor its chain's genesis block fixed: otherwise a suffix, or
 * a whole chain, could be forged more cheaply than it was sealed.  A
 * digest or a peer that knows any block of the chain knows the floor
 * through it (every version 2 header repeats it).
 *
 * From version 3 on a block is also signed, by the node key its node_id
 * names, over its chain id, height and hash, and the chain id (its genesis
 * block's hash) is in every header above genesis: a block cannot be moved
 * to another chain, and once a chain is signed it stays signed.  Which
 * keys may sign which blocks follows from the chain's own node_key and
 * retire_node_key events (chain_keys.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "chain_rules.h"
#include "node_key.h"

static const uint8 zero_hash[MC_HASH_LEN];

int64
chain_floor(const BlockHeader *genesis)
{
	return genesis->format_version >= 2 ? genesis->min_difficulty : genesis->difficulty;
}

const char *
block_integrity_problem(const BlockRow *row, int64 floor)
{
	const BlockHeader *h = &row->header;
	uint8		hash[MC_HASH_LEN];

	if (h->format_version < 1 || h->format_version > MC_BLOCK_FORMAT_SIGNED)
		return psprintf("format_version %u is not a known version", h->format_version);
	if (h->difficulty > MC_MAX_DIFFICULTY)
		return psprintf("difficulty %u is out of range", h->difficulty);
	if (h->format_version >= 2 && h->min_difficulty > h->difficulty)
		return psprintf("its difficulty %u is below the floor %u it records",
						h->difficulty, h->min_difficulty);
	if (floor != MC_FLOOR_UNKNOWN && h->difficulty < floor)
		return psprintf("its difficulty %u is below the chain's floor %lld",
						h->difficulty, (long long) floor);
	if (floor != MC_FLOOR_UNKNOWN && h->format_version >= 2 && h->min_difficulty != floor)
		return psprintf("it records the floor %u, not the chain's floor %lld",
						h->min_difficulty, (long long) floor);
	block_header_hash(h, hash);
	if (memcmp(hash, row->block_hash, MC_HASH_LEN) != 0)
		return "its header fields no longer hash to its block_hash";
	if (leading_zero_bits(hash) < (int) h->difficulty)
		return psprintf("its hash has %d leading zero bits, fewer than its difficulty %u",
						leading_zero_bits(hash), h->difficulty);
	return NULL;
}

const char *
block_signature_problem(const BlockRow *row)
{
	uint8		fingerprint[MC_HASH_LEN];
	uint8		chain_id[MC_HASH_LEN];

	if (row->header.format_version < MC_BLOCK_FORMAT_SIGNED)
		return row->signer_key_len >= 0 || row->signature_len >= 0 ?
			psprintf("it is an unsigned format %u block, yet it carries a signer_key or a signature",
					 row->header.format_version) : NULL;
	if (row->signer_key_len < 0)
		return "it has no signer_key";
	if (row->signer_key_len != MC_SIGNER_KEY_LEN)
		return psprintf("its signer_key has %d bytes, not %d", row->signer_key_len,
						MC_SIGNER_KEY_LEN);
	if (row->signature_len < 0)
		return "it has no signature";
	if (row->signature_len != MC_SIGNATURE_LEN)
		return psprintf("its signature has %d bytes, not %d", row->signature_len,
						MC_SIGNATURE_LEN);
	medchain_key_fingerprint(row->signer_key, fingerprint);
	if (memcmp(fingerprint, row->header.node_id, MC_HASH_LEN) != 0)
		return psprintf("its signer_key %s is not the key its node_id %s names",
						mc_hex(row->signer_key, MC_SIGNER_KEY_LEN),
						mc_hex(row->header.node_id, MC_HASH_LEN));
	block_chain_id(row, chain_id);
	if (!medchain_signature_valid(SIGNED_BLOCK, row->signer_key, chain_id, row->header.height,
								  row->block_hash, row->signature))
		return psprintf("its signature does not verify under its signer_key %s",
						mc_hex(row->signer_key, MC_SIGNER_KEY_LEN));
	return NULL;
}

const char *
block_signer_problem(const BlockRow *row, const ChainKeys *keys, bool *retired)
{
	const ChainKey *key = chain_keys_find(keys, row->header.node_id);
	int64		h = row->header.height;

	*retired = false;
	if (row->header.format_version < MC_BLOCK_FORMAT_SIGNED)
		return NULL;
	if (key == NULL || key->announced_height < 0 || key->announced_height > h)
		return psprintf("no node_key event sealed at or below block %lld announces its signer key %s",
						(long long) h, mc_hex(row->header.node_id, MC_HASH_LEN));
	if (key->retired_height >= 0 && key->retired_height <= h)
	{
		*retired = true;
		return psprintf("its signer key %s was retired by entry %lld, sealed in block %lld: %s",
						mc_hex(row->header.node_id, MC_HASH_LEN),
						(long long) key->retire_entry_id, (long long) key->retired_height,
						key->retire_reason);
	}
	return NULL;
}

const char *
chain_genesis_problem(const BlockRow *genesis)
{
	if (genesis->header.height != 0)
		return psprintf("the chain starts at height %lld: genesis block 0 is missing",
						(long long) genesis->header.height);
	if (memcmp(genesis->header.prev_hash, zero_hash, MC_HASH_LEN) != 0)
		return "the genesis block's prev_hash is not 32 zero bytes";
	if (genesis->header.format_version >= 2 &&
		genesis->header.min_difficulty != genesis->header.difficulty)
		return psprintf("the genesis block's floor %u is not its difficulty %u",
						genesis->header.min_difficulty, genesis->header.difficulty);
	if (genesis->header.format_version >= MC_BLOCK_FORMAT_SIGNED &&
		memcmp(genesis->header.chain_id, zero_hash, MC_HASH_LEN) != 0)
		return "the genesis block's chain_id is not 32 zero bytes";
	return NULL;
}

const char *
chain_id_problem(const BlockRow *row, const uint8 chain_id[MC_HASH_LEN])
{
	if (row->header.format_version < MC_BLOCK_FORMAT_SIGNED || row->header.height == 0 ||
		memcmp(row->header.chain_id, chain_id, MC_HASH_LEN) == 0)
		return NULL;
	return psprintf("its chain_id %s is not the block_hash %s of the chain's genesis block",
					mc_hex(row->header.chain_id, MC_HASH_LEN), mc_hex(chain_id, MC_HASH_LEN));
}

const char *
chain_unsigned_problem(int64 signed_height, const BlockRow *row)
{
	if (row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
		return NULL;
	return psprintf("block %lld is an unsigned format %u block above the signed block %lld",
					(long long) row->header.height, row->header.format_version,
					(long long) signed_height);
}

int64
chain_signed_from(const ChainKeys *keys)
{
	int64		lowest = -1;
	ListCell   *lc;

	foreach(lc, keys->keys)
	{
		const ChainKey *key = lfirst(lc);

		if (key->announced_height >= 0 && (lowest < 0 || key->announced_height < lowest))
			lowest = key->announced_height;
	}
	return lowest;
}

const char *
chain_announced_unsigned_problem(int64 announced_height, const BlockRow *row)
{
	if (announced_height < 0 || row->header.height < announced_height ||
		row->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
		return NULL;
	return psprintf("block %lld is an unsigned format %u block at or above block %lld, which seals the announcement of a node key: the chain is signed from there on",
					(long long) row->header.height, row->header.format_version,
					(long long) announced_height);
}

const char *
chain_link_problem(const BlockRow *prev, const BlockRow *next)
{
	int64		h = next->header.height;

	if (h != prev->header.height + 1)
		return h == prev->header.height + 2 ?
			psprintf("block %lld is missing", (long long) h - 1) :
			psprintf("blocks %lld to %lld are missing",
					 (long long) prev->header.height + 1, (long long) h - 1);
	if (memcmp(next->header.prev_hash, prev->block_hash, MC_HASH_LEN) != 0)
		return psprintf("its prev_hash is not the block_hash of block %lld",
						(long long) prev->header.height);
	return NULL;
}

const char *
chain_step_problem(const BlockRow *prev, const BlockRow *next)
{
	if (next->header.difficulty < prev->header.difficulty)
		return psprintf("its difficulty %u is below the difficulty %u of block %lld",
						next->header.difficulty, prev->header.difficulty,
						(long long) prev->header.height);
	if (next->header.format_version < prev->header.format_version &&
		prev->header.format_version < MC_BLOCK_FORMAT_SIGNED)
		return psprintf("its format_version %u is older than the %u of block %lld",
						next->header.format_version, prev->header.format_version,
						(long long) prev->header.height);
	if (prev->header.format_version >= 2 && next->header.format_version >= 2 &&
		next->header.min_difficulty != prev->header.min_difficulty)
		return psprintf("its floor %u is not the floor %u of block %lld",
						next->header.min_difficulty, prev->header.min_difficulty,
						(long long) prev->header.height);
	if (next->header.format_version >= MC_BLOCK_FORMAT_SIGNED &&
		(prev->header.format_version >= MC_BLOCK_FORMAT_SIGNED || prev->header.height == 0))
	{
		uint8		chain_id[MC_HASH_LEN];

		block_chain_id(prev, chain_id);
		if (memcmp(next->header.chain_id, chain_id, MC_HASH_LEN) != 0)
			return psprintf("its chain_id is not the chain id %s of block %lld",
							mc_hex(chain_id, MC_HASH_LEN), (long long) prev->header.height);
	}
	return NULL;
}

const char *
block_problem(const BlockRow *row, int64 floor)
{
	const char *problem = block_integrity_problem(row, floor);

	return problem != NULL ? problem : block_signature_problem(row);
}

const char *
chain_next_problem(const BlockRow *prev, const BlockRow *next)
{
	const char *problem = chain_link_problem(prev, next);

	if (problem == NULL)
		problem = chain_step_problem(prev, next);
	if (problem == NULL && prev->header.format_version >= MC_BLOCK_FORMAT_SIGNED)
		problem = chain_unsigned_problem(prev->header.height, next);
	return problem;
}

const char *
block_standing_problem(const BlockRow *row, int64 floor, const uint8 *chain_id,
					   const ChainKeys *keys)
{
	const char *problem = block_problem(row, floor);
	bool		retired;

	if (problem == NULL && chain_id != NULL)
		problem = chain_id_problem(row, chain_id);
	if (problem == NULL)
		problem = block_signer_problem(row, keys, &retired);
	return problem;
}

const char *
chain_received_problem(const BlockRow *prev, const BlockRow *row, int64 floor,
					   const uint8 chain_id[MC_HASH_LEN])
{
	const char *problem;

	if (prev == NULL)
	{
		if ((problem = chain_genesis_problem(row)) != NULL)
			return problem;
		if (memcmp(row->block_hash, chain_id, MC_HASH_LEN) != 0)
			return psprintf("its block_hash %s is not the chain id %s",
							mc_hex(row->block_hash, MC_HASH_LEN), mc_hex(chain_id, MC_HASH_LEN));
	}
	else if ((problem = chain_next_problem(prev, row)) != NULL)
		return problem;
	if ((problem = chain_id_problem(row, chain_id)) != NULL)
		return problem;
	return block_problem(row, floor);
}
