/* medchain--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medchain UPDATE TO '1.4'" to load this file. \quit

------------------------------------------------------------------------
-- A network of nodes (docs/DESIGN.md, "The network").  Each node seals
-- its own chain and sends every sealed block to its peers, which check it
-- and keep a copy.  A peer receives headers, signatures and entry hashes:
-- never a row, a row key, a relation name or a user name.
------------------------------------------------------------------------

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medchain_peer') THEN
		CREATE ROLE medchain_peer NOLOGIN;
	END IF;
END
$$;

-- The nodes this one replicates to, known by their keys.  The conninfo
-- is for medchain_admin alone: auditors see the peers through
-- medchain.peer_directory, without it.
CREATE TABLE medchain.peers (
	name text NOT NULL,
	public_key bytea NOT NULL,
	node_id bytea NOT NULL,
	conninfo text NOT NULL,
	added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT peers_pkey PRIMARY KEY (node_id),
	CONSTRAINT peers_name_key UNIQUE (name),
	CONSTRAINT peers_public_key_length CHECK (pg_catalog.octet_length(public_key) OPERATOR(pg_catalog.=) 32),
	CONSTRAINT peers_node_id_length CHECK (pg_catalog.octet_length(node_id) OPERATOR(pg_catalog.=) 32)
);
COMMENT ON TABLE medchain.peers IS
	'Peers of this node, written only by medchain.add_peer() and medchain.remove_peer(); readable by medchain_admin';
COMMENT ON COLUMN medchain.peers.node_id IS
	'The fingerprint of public_key (SHA-256 of its 32 bytes): what identifies the peer, as version 3 block headers identify their node';
COMMENT ON COLUMN medchain.peers.conninfo IS
	'libpq connection string to the peer; passwords belong in a passfile or a client certificate, never here';
REVOKE ALL ON medchain.peers FROM PUBLIC;
GRANT SELECT ON medchain.peers TO medchain_admin;
SELECT pg_catalog.pg_extension_config_dump('medchain.peers', '');

CREATE VIEW medchain.peer_directory AS
SELECT name, node_id, public_key, added_at FROM medchain.peers;
COMMENT ON VIEW medchain.peer_directory IS
	'The peers of this node and their keys, without how to reach them';
REVOKE ALL ON medchain.peer_directory FROM PUBLIC;
GRANT SELECT ON medchain.peer_directory TO medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.add_peer(name text, conninfo text, public_key text)
RETURNS text
AS 'MODULE_PATHNAME', 'medchain_add_peer'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION medchain.add_peer(text, text, text) IS
	'Registers a peer by its name, libpq conninfo and Ed25519 public key (hex); returns its key''s fingerprint';
REVOKE ALL ON FUNCTION medchain.add_peer(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.add_peer(text, text, text) TO medchain_admin;

CREATE FUNCTION medchain.remove_peer(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'medchain_remove_peer'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION medchain.remove_peer(text) IS
	'Forgets a peer; the copies of its chain and the evidence about it stay';
REVOKE ALL ON FUNCTION medchain.remove_peer(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.remove_peer(text) TO medchain_admin;

CREATE FUNCTION medchain.block_payloads(from_height bigint, max_blocks integer DEFAULT 100)
RETURNS SETOF bytea
AS 'MODULE_PATHNAME', 'medchain_block_payloads'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION medchain.block_payloads(bigint, integer) IS
	'This node''s blocks from a height up, as the replication payloads its peers receive (docs/FORMAT.md)';
REVOKE ALL ON FUNCTION medchain.block_payloads(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.block_payloads(bigint, integer) TO medchain_auditor, medchain_admin;

------------------------------------------------------------------------
-- Copies of peers' chains, and the evidence of what was refused
------------------------------------------------------------------------

-- A peer's block as it was received: its header's bytes (the fields are
-- read with medchain's header decoder, or any that follows FORMAT.md),
-- its signature and its entry hashes in leaf order.
CREATE TABLE medchain.peer_blocks (
	chain_id bytea NOT NULL,
	height bigint NOT NULL,
	block_hash bytea NOT NULL,
	header bytea NOT NULL,
	signer_key bytea,
	signature bytea,
	entry_hashes bytea NOT NULL,
	vouched_by bytea NOT NULL,
	received_at timestamptz NOT NULL,
	CONSTRAINT peer_blocks_pkey PRIMARY KEY (chain_id, height)
);
-- hashes do not compress
ALTER TABLE medchain.peer_blocks ALTER COLUMN entry_hashes SET STORAGE EXTERNAL;
COMMENT ON TABLE medchain.peer_blocks IS
	'Copies of peers'' chains, one row per block, written only by medchain.receive_blocks(); see docs/FORMAT.md, "Replication payload"';
COMMENT ON COLUMN medchain.peer_blocks.chain_id IS
	'The chain: the block_hash of its genesis block';
COMMENT ON COLUMN medchain.peer_blocks.header IS
	'The block header''s bytes (format 1, 2 or 3), whose SHA-256 is block_hash';
COMMENT ON COLUMN medchain.peer_blocks.entry_hashes IS
	'The block''s entry hashes, 32 bytes each, in leaf order: never the rows, keys or names they hash';
COMMENT ON COLUMN medchain.peer_blocks.vouched_by IS
	'Key fingerprint of the signature that vouches for the block: its own, or for an unsigned block of the years before signing, that of the signed block above it that links back to it';
REVOKE ALL ON medchain.peer_blocks FROM PUBLIC;
GRANT SELECT ON medchain.peer_blocks TO medchain_auditor, medchain_admin;
SELECT pg_catalog.pg_extension_config_dump('medchain.peer_blocks', '');

-- What a peer sent that breaks a rule, once per distinct payload.
CREATE TABLE medchain.rejected_blocks (
	payload_hash bytea NOT NULL,
	chain_id bytea NOT NULL,
	height bigint,
	block_hash bytea,
	reason text NOT NULL,
	sent_by name NOT NULL,
	first_seen timestamptz NOT NULL,
	last_seen timestamptz NOT NULL,
	times bigint NOT NULL,
	payload bytea NOT NULL,
	CONSTRAINT rejected_blocks_pkey PRIMARY KEY (payload_hash)
);
COMMENT ON TABLE medchain.rejected_blocks IS
	'Blocks peers sent that this node refused, with the reason: evidence, written only by medchain.receive_blocks()';
COMMENT ON COLUMN medchain.rejected_blocks.sent_by IS
	'The login that delivered the payload (session_user)';
REVOKE ALL ON medchain.rejected_blocks FROM PUBLIC;
GRANT SELECT ON medchain.rejected_blocks TO medchain_auditor, medchain_admin;
SELECT pg_catalog.pg_extension_config_dump('medchain.rejected_blocks', '');

-- Two validly signed blocks of one chain at one height: both signed
-- headers, a proof that anyone with the keys can check.
CREATE TABLE medchain.equivocations (
	chain_id bytea NOT NULL,
	height bigint NOT NULL,
	held_header bytea NOT NULL,
	held_signer_key bytea NOT NULL,
	held_signature bytea NOT NULL,
	other_hash bytea NOT NULL,
	other_header bytea NOT NULL,
	other_signer_key bytea NOT NULL,
	other_signature bytea NOT NULL,
	found_at timestamptz NOT NULL,
	CONSTRAINT equivocations_pkey PRIMARY KEY (chain_id, height, other_hash)
);
COMMENT ON TABLE medchain.equivocations IS
	'Pairs of validly signed blocks of one chain at one height: the block this node holds and the other one a peer sent';
REVOKE ALL ON medchain.equivocations FROM PUBLIC;
GRANT SELECT ON medchain.equivocations TO medchain_auditor, medchain_admin;
SELECT pg_catalog.pg_extension_config_dump('medchain.equivocations', '');

CREATE FUNCTION medchain.receive_blocks(chain_id bytea, payloads bytea[])
RETURNS TABLE (height bigint, block_hash bytea, status text, reason text)
AS 'MODULE_PATHNAME', 'medchain_receive_blocks'
LANGUAGE C STRICT VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION medchain.receive_blocks(bytea, bytea[]) IS
	'Blocks of a peer''s chain in height order, checked and kept: what a peer''s login calls on this node';
REVOKE ALL ON FUNCTION medchain.receive_blocks(bytea, bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.receive_blocks(bytea, bytea[]) TO medchain_peer, medchain_admin;

------------------------------------------------------------------------
-- What a peer may ask of this node: the heads and hashes of the chains it
-- holds, and receipts for the blocks it keeps of others' chains.  Hashes
-- and signatures only.
------------------------------------------------------------------------

-- This node's own chain is the one whose genesis is in medchain.blocks;
-- a peer's block hash is the SHA-256 of the header bytes it sent.  Both
-- read the newest block of a chain down the primary key, whatever its
-- length: a replication round asks for it of every peer.
CREATE FUNCTION medchain.held_head(chain_id bytea)
RETURNS TABLE (height bigint, block_hash bytea)
LANGUAGE sql STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	(SELECT b.height, b.block_hash FROM medchain.blocks b
	  WHERE EXISTS (SELECT 1 FROM medchain.blocks g
					 WHERE g.height OPERATOR(pg_catalog.=) 0
					   AND g.block_hash OPERATOR(pg_catalog.=) held_head.chain_id)
	  ORDER BY b.height DESC LIMIT 1)
	UNION ALL
	(SELECT p.height, pg_catalog.sha256(p.header) FROM medchain.peer_blocks p
	  WHERE p.chain_id OPERATOR(pg_catalog.=) held_head.chain_id
	  ORDER BY p.height DESC LIMIT 1)
$$;
COMMENT ON FUNCTION medchain.held_head(bytea) IS
	'The height and hash of the newest block this node holds of a chain, its own or a peer''s; no row when it holds none';
REVOKE ALL ON FUNCTION medchain.held_head(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.held_head(bytea) TO medchain_peer, medchain_auditor, medchain_admin;

-- The chains of medchain.peer_blocks are found by skipping down the
-- primary key from one chain id to the next, not by reading every block.
CREATE FUNCTION medchain.held_heads()
RETURNS TABLE (chain_id bytea, height bigint, block_hash bytea)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH RECURSIVE chains (chain_id) AS (
		(SELECT p.chain_id FROM medchain.peer_blocks p ORDER BY p.chain_id LIMIT 1)
		UNION ALL
		SELECT (SELECT p.chain_id FROM medchain.peer_blocks p
				 WHERE p.chain_id OPERATOR(pg_catalog.>) c.chain_id
				 ORDER BY p.chain_id LIMIT 1)
		  FROM chains c WHERE c.chain_id IS NOT NULL
	)
	SELECT g.block_hash, h.height, h.block_hash
	  FROM medchain.blocks g, LATERAL medchain.held_head(g.block_hash) h
	 WHERE g.height OPERATOR(pg_catalog.=) 0
	UNION ALL
	SELECT c.chain_id, h.height, h.block_hash
	  FROM chains c, LATERAL medchain.held_head(c.chain_id) h
	 WHERE c.chain_id IS NOT NULL
$$;
COMMENT ON FUNCTION medchain.held_heads() IS
	'Each chain this node holds, its own and its copies of peers'', with the height and hash of its newest block';
REVOKE ALL ON FUNCTION medchain.held_heads() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.held_heads() TO medchain_peer, medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.held_hashes(chain_id bytea, heights bigint[])
RETURNS TABLE (height bigint, block_hash bytea)
LANGUAGE sql STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT b.height, b.block_hash
	  FROM medchain.blocks b
	 WHERE b.height OPERATOR(pg_catalog.=) ANY (heights)
	   AND EXISTS (SELECT 1 FROM medchain.blocks g
					WHERE g.height OPERATOR(pg_catalog.=) 0
					  AND g.block_hash OPERATOR(pg_catalog.=) held_hashes.chain_id)
	UNION ALL
	SELECT p.height, pg_catalog.sha256(p.header)
	  FROM medchain.peer_blocks p
	 WHERE p.chain_id OPERATOR(pg_catalog.=) held_hashes.chain_id
	   AND p.height OPERATOR(pg_catalog.=) ANY (heights)
	 ORDER BY 1
$$;
COMMENT ON FUNCTION medchain.held_hashes(bytea, bigint[]) IS
	'The hashes of a chain''s blocks at the given heights, as this node holds them';
REVOKE ALL ON FUNCTION medchain.held_hashes(bytea, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.held_hashes(bytea, bigint[]) TO medchain_peer, medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.block_receipts(chain_id bytea, heights bigint[])
RETURNS TABLE (height bigint, block_hash bytea, cosigner_key bytea, signature bytea)
AS 'MODULE_PATHNAME', 'medchain_block_receipts'
LANGUAGE C STRICT STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION medchain.block_receipts(bytea, bigint[]) IS
	'Receipts, signed with this node''s key, for the blocks of a peer''s chain this node holds at the given heights (docs/FORMAT.md, "Receipts")';
REVOKE ALL ON FUNCTION medchain.block_receipts(bytea, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.block_receipts(bytea, bigint[]) TO medchain_peer, medchain_admin;

------------------------------------------------------------------------
-- Replication from this node: what its peers hold, and their receipts
------------------------------------------------------------------------

-- Witness cosignatures: a peer's signed receipt for one of this node's
-- blocks, checked against the peer's registered key before it is kept.
CREATE TABLE medchain.cosignatures (
	height bigint NOT NULL,
	block_hash bytea NOT NULL,
	cosigner_id bytea NOT NULL,
	cosigner_key bytea NOT NULL,
	signature bytea NOT NULL,
	received_at timestamptz NOT NULL,
	CONSTRAINT cosignatures_pkey PRIMARY KEY (height, cosigner_id)
);
COMMENT ON TABLE medchain.cosignatures IS
	'Peers'' signed receipts for this node''s blocks (docs/FORMAT.md, "Receipts"); written only by replication';
COMMENT ON COLUMN medchain.cosignatures.cosigner_id IS
	'The fingerprint of cosigner_key: the peer''s node id';
REVOKE ALL ON medchain.cosignatures FROM PUBLIC;
GRANT SELECT ON medchain.cosignatures TO medchain_auditor, medchain_admin;
SELECT pg_catalog.pg_extension_config_dump('medchain.cosignatures', '');

-- The last replication round's outcome per peer.
CREATE TABLE medchain.peer_state (
	node_id bytea NOT NULL,
	reachable boolean NOT NULL,
	last_attempt timestamptz NOT NULL,
	last_contact timestamptz,
	their_height bigint,
	last_status text NOT NULL,
	last_error text,
	CONSTRAINT peer_state_pkey PRIMARY KEY (node_id)
);
COMMENT ON TABLE medchain.peer_state IS
	'What the last replication round to each peer found; written only by replication';
COMMENT ON COLUMN medchain.peer_state.their_height IS
	'The height of this node''s chain as the peer holds it; -1 when it holds none of it';
REVOKE ALL ON medchain.peer_state FROM PUBLIC;
GRANT SELECT ON medchain.peer_state TO medchain_auditor, medchain_admin;

CREATE VIEW medchain.peer_status AS
SELECT p.name AS peer, coalesce(s.reachable, false) AS reachable, s.last_contact,
	   s.their_height,
	   (SELECT pg_catalog.max(b.height) FROM medchain.blocks b)
		 OPERATOR(pg_catalog.-) coalesce(s.their_height, -1) AS blocks_behind,
	   s.last_status, s.last_error, s.last_attempt
  FROM medchain.peers p
  LEFT JOIN medchain.peer_state s ON s.node_id OPERATOR(pg_catalog.=) p.node_id;
COMMENT ON VIEW medchain.peer_status IS
	'Each peer as the last replication round found it: reachable, when last heard from, how much of this node''s chain it holds, and the last error';
REVOKE ALL ON medchain.peer_status FROM PUBLIC;
GRANT SELECT ON medchain.peer_status TO medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.replicate_now()
RETURNS TABLE (peer text, blocks_sent integer, their_height bigint, status text, error text)
AS 'MODULE_PATHNAME', 'medchain_replicate_now'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.replicate_now() IS
	'One replication round to every peer, now, as the worker runs them: a row per peer';
REVOKE ALL ON FUNCTION medchain.replicate_now() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.replicate_now() TO medchain_admin;

------------------------------------------------------------------------
-- Consensus checks: do the other nodes hold the same chains?
------------------------------------------------------------------------

CREATE TABLE medchain.consensus_results (
	chain_id bytea NOT NULL,
	origin text NOT NULL,
	height bigint NOT NULL,
	local_hash bytea NOT NULL,
	agreeing integer NOT NULL,
	disagreeing integer NOT NULL,
	unreachable integer NOT NULL,
	verdict text NOT NULL,
	first_divergent_height bigint,
	detail text,
	checked_at timestamptz NOT NULL,
	CONSTRAINT consensus_results_pkey PRIMARY KEY (chain_id)
);
COMMENT ON TABLE medchain.consensus_results IS
	'The latest consensus check, one row per chain this node holds; written only by medchain.consensus_check()';
REVOKE ALL ON medchain.consensus_results FROM PUBLIC;
GRANT SELECT ON medchain.consensus_results TO medchain_auditor, medchain_admin;

CREATE VIEW medchain.consensus_status AS
SELECT origin, height, local_hash, agreeing, disagreeing, unreachable, verdict,
	   first_divergent_height, detail, checked_at, chain_id
  FROM medchain.consensus_results;
COMMENT ON VIEW medchain.consensus_status IS
	'The latest consensus check: for each chain this node holds, how many nodes hold the same copy, and the verdict';
REVOKE ALL ON medchain.consensus_status FROM PUBLIC;
GRANT SELECT ON medchain.consensus_status TO medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.consensus_check()
RETURNS TABLE (origin text, height bigint, local_hash bytea, agreeing integer,
			   disagreeing integer, unreachable integer, verdict text)
AS 'MODULE_PATHNAME', 'medchain_consensus_check'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.consensus_check() IS
	'Asks every peer for its copy of each chain this node holds and compares: agreed, diverged, equivocation or no_quorum';
REVOKE ALL ON FUNCTION medchain.consensus_check() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.consensus_check() TO medchain_admin;

------------------------------------------------------------------------
-- Cosigned digests: medchain.digest() carries the peers' receipts for its
-- block (docs/FORMAT.md, "Digest"); this checks that enough of them hold.
------------------------------------------------------------------------

CREATE FUNCTION medchain.verify_digest(d jsonb, min_cosigners integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medchain_verify_digest_cosigned'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION medchain.verify_digest(jsonb, integer) IS
	'verify_digest(d), and at least min_cosigners peers registered on this node cosigned the digest''s block';
REVOKE ALL ON FUNCTION medchain.verify_digest(jsonb, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.verify_digest(jsonb, integer) TO medchain_auditor, medchain_admin;

COMMENT ON FUNCTION medchain.verify(regclass) IS
	'One row per finding (row_modified, row_missing, row_unrecorded, entry_modified, entry_missing, entry_unqueued, queue_modified, block_modified, chain_broken, signature_invalid, block_unsigned, signer_unknown, registry_modified, table_unverifiable, enable_incomplete, chain_diverged, entries_lost); none when clean';

------------------------------------------------------------------------
-- Proofs across hospitals: a record's proof from another node, anchored
-- in the copy of its chain this node holds.
------------------------------------------------------------------------

CREATE FUNCTION medchain.verify_proof_on_copy(p jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medchain_verify_proof_on_copy'
LANGUAGE C STRICT STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION medchain.verify_proof_on_copy(jsonb) IS
	'Checks a proof from its own contents and that its block, or a header above it, is the block this node holds at that height of that chain: its own, or its copy of a peer''s';
GRANT EXECUTE ON FUNCTION medchain.verify_proof_on_copy(jsonb) TO PUBLIC;

------------------------------------------------------------------------
-- A node restored from a backup older than its last published blocks
-- learns it from its peers and stops sealing, rather than fork its own
-- chain at heights its peers already hold.
------------------------------------------------------------------------

CREATE TABLE medchain.sealing_halt (
	only_row boolean NOT NULL DEFAULT true,
	halted_at timestamptz NOT NULL,
	peer text NOT NULL,
	own_height bigint NOT NULL,
	published_height bigint NOT NULL,
	CONSTRAINT sealing_halt_pkey PRIMARY KEY (only_row),
	CONSTRAINT sealing_halt_one_row CHECK (only_row)
);
COMMENT ON TABLE medchain.sealing_halt IS
	'Set when a peer holds this node''s chain above this node''s newest block: this node seals nothing while it is there; written only by replication';
COMMENT ON COLUMN medchain.sealing_halt.published_height IS
	'The height up to which the peer holds this node''s chain: what this node published before it was restored';
REVOKE ALL ON medchain.sealing_halt FROM PUBLIC;
GRANT SELECT ON medchain.sealing_halt TO medchain_auditor, medchain_admin;

-- What such a node takes back: the copy a peer holds of its chain, as
-- payloads, and the entry hashes of the blocks it recovered, whose rows
-- were recorded after the backup and are lost.
CREATE FUNCTION medchain.held_payloads(chain_id bytea, from_height bigint, max_blocks integer DEFAULT 100)
RETURNS SETOF bytea
AS 'MODULE_PATHNAME', 'medchain_held_payloads'
LANGUAGE C STRICT STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION medchain.held_payloads(bytea, bigint, integer) IS
	'The copy this node holds of a peer''s chain, from a height up, as replication payloads (at most 1,000 a call)';
REVOKE ALL ON FUNCTION medchain.held_payloads(bytea, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.held_payloads(bytea, bigint, integer) TO medchain_peer, medchain_auditor, medchain_admin;

CREATE TABLE medchain.recovered_blocks (
	height bigint NOT NULL,
	entry_hashes bytea NOT NULL,
	recovered_from text NOT NULL,
	recovered_at timestamptz NOT NULL,
	CONSTRAINT recovered_blocks_pkey PRIMARY KEY (height)
);
ALTER TABLE medchain.recovered_blocks ALTER COLUMN entry_hashes SET STORAGE EXTERNAL;
COMMENT ON TABLE medchain.recovered_blocks IS
	'Blocks of this node''s chain taken back from a peer by medchain.recover_chain(): their entry hashes in leaf order; the rows were lost with the backup';
REVOKE ALL ON medchain.recovered_blocks FROM PUBLIC;
GRANT SELECT ON medchain.recovered_blocks TO medchain_auditor, medchain_admin;
SELECT pg_catalog.pg_extension_config_dump('medchain.recovered_blocks', '');

CREATE FUNCTION medchain.recover_chain(peer text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_recover_chain'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION medchain.recover_chain(text) IS
	'After a restore from an older backup: takes back from the peer the blocks of this node''s chain it published since, checks them, lifts the sealing halt; returns the new newest height';
REVOKE ALL ON FUNCTION medchain.recover_chain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.recover_chain(text) TO medchain_admin;

-- The export carries a recovered block's kept entry hashes.
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
										 AND e.block_height OPERATOR(pg_catalog.=) b.height),
									 (SELECT jsonb_agg(encode(substr(r.entry_hashes, i OPERATOR(pg_catalog.*) 32 OPERATOR(pg_catalog.+) 1, 32), 'hex')
													   ORDER BY i)
										FROM medchain.recovered_blocks r,
											 generate_series(0, length(r.entry_hashes) OPERATOR(pg_catalog./) 32 OPERATOR(pg_catalog.-) 1) i
									   WHERE r.height OPERATOR(pg_catalog.=) b.height),
									 '[]'::jsonb))
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
