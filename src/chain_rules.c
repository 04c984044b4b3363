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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "chain_rules.h"

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

	if (h->format_version != 1 && h->format_version != 2)
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
	return NULL;
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
	if (next->header.format_version < prev->header.format_version)
		return psprintf("its format_version %u is older than the %u of block %lld",
						next->header.format_version, prev->header.format_version,
						(long long) prev->header.height);
	if (prev->header.format_version >= 2 &&
		next->header.min_difficulty != prev->header.min_difficulty)
		return psprintf("its floor %u is not the floor %u of block %lld",
						next->header.min_difficulty, prev->header.min_difficulty,
						(long long) prev->header.height);
	return NULL;
}
