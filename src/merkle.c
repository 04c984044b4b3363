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

void
merkle_begin(MerkleBuilder *builder)
{
	builder->leaves = 0;
	builder->depth = 0;
}

/*
 * Push the leaf, then merge the two topmost subtrees while they have the
 * same size: the stack always holds perfect subtrees of strictly
 * decreasing size, the binary digits of the leaf count.
 */
void
merkle_add_entry(MerkleBuilder *builder, const uint8 entry_hash[MC_HASH_LEN])
{
	int			top = builder->depth;

	merkle_leaf_hash(entry_hash, builder->stack[top]);
	builder->sizes[top] = 1;
	builder->depth++;
	builder->leaves++;
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
 * Folding the stack from the smallest subtree up gives RFC 6962's tree:
 * the left part of every split is the largest perfect subtree that fits.
 */
void
merkle_root(const MerkleBuilder *builder, uint8 root[MC_HASH_LEN])
{
	int			level;

	Assert(builder->depth > 0);
	memcpy(root, builder->stack[builder->depth - 1], MC_HASH_LEN);
	for (level = builder->depth - 2; level >= 0; level--)
		merkle_node_hash(builder->stack[level], root, root);
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
