/* medchain--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medchain UPDATE TO '1.3'" to load this file. \quit

------------------------------------------------------------------------
-- Node keys and signed blocks (docs/FORMAT.md, format version 3).  Each
-- node signs the blocks it seals with an Ed25519 key kept in a file, never
-- in a table; a block of format 3 names its chain (the hash of its genesis
-- block) and its node by the key's fingerprint.  Blocks sealed before stay
-- as they are, unsigned, below the first signed one.
------------------------------------------------------------------------

ALTER TABLE medchain.blocks ADD COLUMN chain_id bytea;
ALTER TABLE medchain.blocks ADD COLUMN node_id bytea;
ALTER TABLE medchain.blocks ADD COLUMN signer_key bytea;
ALTER TABLE medchain.blocks ADD COLUMN signature bytea;
COMMENT ON COLUMN medchain.blocks.chain_id IS
	'Header field of format 3: the block_hash of the chain''s genesis block; 32 zero bytes in a genesis block, whose chain id is its own hash';
COMMENT ON COLUMN medchain.blocks.node_id IS
	'Header field of format 3: SHA-256 of signer_key, the fingerprint of the node''s key (before format 3 the header holds the SHA-256 of node_name)';
COMMENT ON COLUMN medchain.blocks.signer_key IS
	'Raw Ed25519 public key (32 bytes) of the node that signed the block; NULL for the unsigned blocks of formats 1 and 2';
COMMENT ON COLUMN medchain.blocks.signature IS
	'Ed25519 signature (64 bytes) over the block''s chain id, height and block_hash, see docs/FORMAT.md; NULL for formats 1 and 2';
COMMENT ON COLUMN medchain.blocks.node_name IS
	'Name of the node that sealed the block; formats 1 and 2 hash it into node_id, format 3 names the node by its key instead';

CREATE FUNCTION medchain.node_identity()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'medchain_node_identity'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.node_identity() IS
	'This node''s name, its Ed25519 public key and the key''s fingerprint (what identifies the node), and this database''s chain id';
REVOKE ALL ON FUNCTION medchain.node_identity() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.node_identity() TO medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.retire_node_key(fingerprint text, reason text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_retire_node_key'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.retire_node_key(text, text) IS
	'Record that a node key the chain knows may sign no more blocks; returns the event''s entry_id';
REVOKE ALL ON FUNCTION medchain.retire_node_key(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.retire_node_key(text, text) TO medchain_admin;

COMMENT ON FUNCTION medchain.verify(regclass) IS
	'One row per finding (row_modified, row_missing, row_unrecorded, entry_modified, entry_missing, entry_unqueued, queue_modified, block_modified, chain_broken, signature_invalid, block_unsigned, signer_unknown, registry_modified, table_unverifiable, enable_incomplete); none when clean';
COMMENT ON FUNCTION medchain.digest() IS
	'The head block (format_version, node, height, block_hash, sealed_at in UTC, min_difficulty; for a signed block chain_id, signer_key, signature), to keep outside the database';

-- A signed block's header has its chain id and node id; its signer key and
-- signature come with it.
CREATE OR REPLACE FUNCTION medchain.export_chain(from_height bigint DEFAULT 0)
RETURNS SETOF jsonb
LANGUAGE sql STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
			'height', b.height,
			'format_version', b.format_version,
			'prev_hash', encode(b.prev_hash, 'hex'),
			'merkle_root', encode(b.merkle_root, 'hex'),
			'sealed_at', (extract(epoch FROM b.sealed_at) OPERATOR(pg_catalog.*) 1000000)::bigint,
			'entry_count', b.entry_count,
			'difficulty', b.difficulty,
			'node_id', encode(CASE WHEN b.format_version OPERATOR(pg_catalog.>=) 3 THEN b.node_id
								   ELSE sha256(convert_to(b.node_name, 'UTF8')) END, 'hex'),
			'node_name', b.node_name,
			'nonce', b.nonce::numeric OPERATOR(pg_catalog.+)
					 CASE WHEN b.nonce OPERATOR(pg_catalog.<) 0 THEN 18446744073709551616 ELSE 0 END,
			'block_hash', encode(b.block_hash, 'hex'),
			'entry_hashes', coalesce((SELECT jsonb_agg(encode(e.entry_hash, 'hex') ORDER BY e.entry_id)
										FROM medchain.journal e
									   WHERE e.entry_id BETWEEN b.first_entry_id AND b.last_entry_id
										 AND e.block_height OPERATOR(pg_catalog.=) b.height), '[]'::jsonb))
		   OPERATOR(pg_catalog.||)
		   CASE WHEN b.format_version OPERATOR(pg_catalog.>=) 2
				THEN jsonb_build_object('min_difficulty', b.min_difficulty)
				ELSE '{}'::jsonb END
		   OPERATOR(pg_catalog.||)
		   CASE WHEN b.format_version OPERATOR(pg_catalog.>=) 3
				THEN jsonb_build_object('chain_id', coalesce(encode(b.chain_id, 'hex'), ''),
										'signer_key', coalesce(encode(b.signer_key, 'hex'), ''),
										'signature', coalesce(encode(b.signature, 'hex'), ''))
				ELSE '{}'::jsonb END
	  FROM medchain.blocks b
	 WHERE b.height OPERATOR(pg_catalog.>=) from_height
	 ORDER BY b.height
$$;

------------------------------------------------------------------------
-- Sealing in blocks of bounded size: a queue longer than
-- medchain.block_max_entries is sealed as several blocks.
------------------------------------------------------------------------

COMMENT ON FUNCTION medchain.seal(integer) IS
	'Seal committed pending entries (at most max_entries, lowest ids first) into new blocks of at most medchain.block_max_entries each; returns the height of the last, NULL when nothing is pending';

DO $grant$
BEGIN
	IF current_setting('server_version_num')::int >= 150000 THEN
		EXECUTE 'GRANT SET ON PARAMETER medchain.block_max_entries TO medchain_admin';
	END IF;
END
$grant$;
