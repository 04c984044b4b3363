/*-------------------------------------------------------------------------
 *
 * merkle.c
 *	  RFC 6962 Merkle trees: leaf = SHA-256(0x00 || entry_hash), node =
 *	  SHA-256(0x01 || left || right), split at the largest power of two
 *	  smaller than the number of leaves.
 *
 * Unlike Bitcoin's tree, nothing is duplicated for an odd count, so two
 * different leaf lists never share a root (CVE-2012-2459), and the 0x00 /
 * 0x01 prefixes keep a leaf from passing for an inner node.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "merkle.h"

void
merkle_leaf_hash(const uint8 entry_hash[MC_HASH_LEN], uint8 out[MC_HASH_LEN])
{
	uint8		message[1 + MC_HASH_LEN];

	message[0] = 0x00;
	memcpy(message + 1, entry_hash, MC_HASH_LEN);
	mc_sha256(message, sizeof(message), out);
}

/* out may be left or right. */
void
merkle_node_hash(const uint8 left[MC_HASH_LEN], const uint8 right[MC_HASH_LEN],
				 uint8 out[MC_HASH_LEN])
{
	uint8		message[1 + 2 * MC_HASH_LEN];

	message[0] = 0x01;
	memcpy(message + 1, left, MC_HASH_LEN);
	memcpy(message + 1 + MC_HASH_LEN, right, MC_HASH_LEN);
	mc_sha256(message, sizeof(message), out);
}

/* Leaf hashes of two entry hashes at once. */
static void
merkle_leaf_hash_x2(const uint8 entry1[MC_HASH_LEN], const uint8 entry2[MC_HASH_LEN],
					uint8 out1[MC_HASH_LEN], uint8 out2[MC_HASH_LEN])
{
	uint8		message1[1 + MC_HASH_LEN];
	uint8		message2[1 + MC_HASH_LEN];

	message1[0] = message2[0] = 0x00;
	memcpy(message1 + 1, entry1, MC_HASH_LEN);
	memcpy(message2 + 1, entry2, MC_HASH_LEN);
	mc_sha256_x2(message1, sizeof(message1), out1, message2, sizeof(message2), out2);
}

/* Two nodes at once: out1 of pair[0], pair[1], out2 of pair[2], pair[3]. */
static void
merkle_node_hash_x2(const uint8 (*pair)[MC_HASH_LEN], uint8 out1[MC_HASH_LEN],
					uint8 out2[MC_HASH_LEN])
{
	uint8		message1[1 + 2 * MC_HASH_LEN];
	uint8		message2[1 + 2 * MC_HASH_LEN];

	message1[0] = message2[0] = 0x01;
	memcpy(message1 + 1, pair[0], 2 * MC_HASH_LEN);
	memcpy(message2 + 1, pair[2], 2 * MC_HASH_LEN);
	mc_sha256_x2(message1, sizeof(message1), out1, message2, sizeof(message2), out2);
}

void
merkle_begin(MerkleBuilder *builder)
{
	builder->leaves = 0;
	builder->depth = 0;
	builder->npending = 0;
}

/* Push the root of a perfect subtree of `size` leaves, merging equal neighbours. */
static void
merkle_push(MerkleBuilder *builder, const uint8 hash[MC_HASH_LEN], uint64 size)
{
	memcpy(builder->stack[builder->depth], hash, MC_HASH_LEN);
	builder->sizes[builder->depth] = size;
	builder->depth++;
	while (builder->depth >= 2 &&
		   builder->sizes[builder->depth - 1] == builder->sizes[builder->depth - 2])
	{
		int			right = builder->depth - 1;
		int			left = builder->depth - 2;

		merkle_node_hash(builder->stack[left], builder->stack[right],
						 builder->stack[left]);
		builder->sizes[left] *= 2;
		builder->depth--;
	}
}

/*
 * The pending entries, MC_MERKLE_BATCH of them, as one subtree: the
 * leaves start at a multiple of MC_MERKLE_BATCH, so they form a perfect
 * subtree of the block's tree, whose levels are hashed in place, two
 * hashes at a time.
 */
static void
merkle_add_batch(MerkleBuilder *builder)
{
	uint8		level[MC_MERKLE_BATCH][MC_HASH_LEN];
	int			n;
	int			i;

	StaticAssertStmt((MC_MERKLE_BATCH & (MC_MERKLE_BATCH - 1)) == 0 && MC_MERKLE_BATCH >= 4,
					 "a batch of leaves is a perfect subtree");
	Assert(builder->npending == MC_MERKLE_BATCH);
	for (i = 0; i < MC_MERKLE_BATCH; i += 2)
		merkle_leaf_hash_x2(builder->pending[i], builder->pending[i + 1],
							level[i], level[i + 1]);
	for (n = MC_MERKLE_BATCH; n > 2; n /= 2)
		for (i = 0; i < n; i += 4)
			merkle_node_hash_x2((const uint8 (*)[MC_HASH_LEN]) &level[i],
								level[i / 2], level[i / 2 + 1]);
	merkle_node_hash(level[0], level[1], level[0]);
	builder->npending = 0;
	merkle_push(builder, level[0], MC_MERKLE_BATCH);
}

void
merkle_add_entry(MerkleBuilder *builder, const uint8 entry_hash[MC_HASH_LEN])
{
	memcpy(builder->pending[builder->npending++], entry_hash, MC_HASH_LEN);
	builder->leaves++;
	if (builder->npending == MC_MERKLE_BATCH)
		merkle_add_batch(builder);
}

/* The root; the builder is left as it was, and can take more leaves. */
void
merkle_root(const MerkleBuilder *builder, uint8 root[MC_HASH_LEN])
{
	MerkleBuilder rest;
	int			level;
	int			i;

	Assert(builder->leaves > 0);
	/* the pending leaves, one at a time, on a copy of the stack */
	rest.depth = builder->depth;
	memcpy(rest.stack, builder->stack, MC_HASH_LEN * builder->depth);
	memcpy(rest.sizes, builder->sizes, sizeof(uint64) * builder->depth);
	for (i = 0; i < builder->npending; i++)
	{
		uint8		leaf[MC_HASH_LEN];

		merkle_leaf_hash(builder->pending[i], leaf);
		merkle_push(&rest, leaf, 1);
	}
	memcpy(root, rest.stack[rest.depth - 1], MC_HASH_LEN);
	for (level = rest.depth - 2; level >= 0; level--)
		merkle_node_hash(rest.stack[level], root, root);
}

static uint64
largest_power_of_two_below(uint64 n)
{
	uint64		k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* Root of leaves[0 .. count-1], recursively (RFC 6962, 2.1). */
static void
subtree_root(const uint8 (*leaves)[MC_HASH_LEN], uint64 count, uint8 out[MC_HASH_LEN])
{
	uint64		k;
	uint8		left[MC_HASH_LEN];
	uint8		right[MC_HASH_LEN];

	if (count == 1)
	{
		memcpy(out, leaves[0], MC_HASH_LEN);
		return;
	}
	k = largest_power_of_two_below(count);
	subtree_root(leaves, k, left);
	subtree_root(leaves + k, count - k, right);
	merkle_node_hash(left, right, out);
}

int
merkle_audit_path(const uint8 (*leaves)[MC_HASH_LEN], uint64 count,
				  uint64 index, uint8 (*path)[MC_HASH_LEN])
{
	int			length;
	uint64		k;

	Assert(index < count);
	if (count == 1)
		return 0;
	k = largest_power_of_two_below(count);
	if (index < k)
	{
		length = merkle_audit_path(leaves, k, index, path);
		subtree_root(leaves + k, count - k, path[length]);
	}
	else
	{
		length = merkle_audit_path(leaves + k, count - k, index - k, path);
		subtree_root(leaves, k, path[length]);
	}
	return length + 1;
}

/*
 * Walk from the leaf to the root (RFC 9162, 2.1.3.2): at each level the
 * bit of the index says whether the sibling is on the left, except where
 * the leaf is the last of an incomplete level and has no sibling there.
 */
bool
merkle_root_from_path(const uint8 leaf[MC_HASH_LEN], uint64 index, uint64 count,
					  const uint8 (*path)[MC_HASH_LEN], int path_length,
					  uint8 root[MC_HASH_LEN])
{
	uint64		fn = index;
	uint64		sn = count - 1;
	int			i;

	if (index >= count)
		return false;
	memcpy(root, leaf, MC_HASH_LEN);
	for (i = 0; i < path_length; i++)
	{
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn)
		{
			merkle_node_hash(path[i], root, root);
			if (!(fn & 1))
			{
				while (fn != 0 && !(fn & 1))
				{
					fn >>= 1;
					sn >>= 1;
				}
			}
		}
		else
			merkle_node_hash(root, path[i], root);
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0;
}

bool
merkle_root_matches(const uint8 (*entry_hashes)[MC_HASH_LEN], uint64 count,
					const uint8 root[MC_HASH_LEN])
{
	MerkleBuilder builder;
	uint8		computed[MC_HASH_LEN];
	uint64		i;

	merkle_begin(&builder);
	for (i = 0; i < count; i++)
	{
		CHECK_FOR_INTERRUPTS();
		merkle_add_entry(&builder, entry_hashes[i]);
	}
	merkle_root(&builder, computed);
	return memcmp(computed, root, MC_HASH_LEN) == 0;
}
