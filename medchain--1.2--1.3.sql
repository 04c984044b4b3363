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

------------------------------------------------------------------------
-- The background processes (with shared_preload_libraries = 'medchain'):
-- a launcher, and in each database a worker that seals and a scrubber
-- that verifies the ledger again and again at medchain.scrub_rate.
------------------------------------------------------------------------

CREATE FUNCTION medchain.worker_processes(
	OUT dboid oid, OUT process text, OUT pid integer, OUT started_at timestamptz,
	OUT last_seal_at timestamptz, OUT blocks_sealed bigint, OUT entries_sealed bigint,
	OUT last_error text, OUT last_error_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medchain_worker_processes'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.worker_processes() IS
	'medchain''s background processes in this cluster, from shared memory; none without shared_preload_libraries';
REVOKE ALL ON FUNCTION medchain.worker_processes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.worker_processes() TO medchain_auditor, medchain_admin;

CREATE VIEW medchain.worker_status AS
SELECT d.datname AS database, w.process, w.pid, w.started_at, w.last_seal_at,
	   w.blocks_sealed, w.entries_sealed, w.last_error, w.last_error_at
  FROM medchain.worker_processes() w
  LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) w.dboid;
COMMENT ON VIEW medchain.worker_status IS
	'The launcher, and in each database the worker that seals and the scrubber that verifies: pid (NULL while stopped), since when, the last seal, the last error';
REVOKE ALL ON medchain.worker_status FROM PUBLIC;
GRANT SELECT ON medchain.worker_status TO medchain_auditor, medchain_admin;

CREATE TABLE medchain.findings (
	finding_id bytea NOT NULL,
	finding text NOT NULL,
	relation text,
	row_key jsonb,
	entry_id bigint,
	block_height bigint,
	detail text NOT NULL,
	first_seen timestamptz NOT NULL,
	last_seen timestamptz NOT NULL,
	resolved_at timestamptz,
	reported_at timestamptz NOT NULL,
	CONSTRAINT findings_pkey PRIMARY KEY (finding_id)
);
COMMENT ON TABLE medchain.findings IS
	'What the scrubber''s verify() passes found, one row per finding; written only by medchain';
COMMENT ON COLUMN medchain.findings.finding_id IS
	'SHA-256 of the finding, relation, row_key, entry_id, block_height and detail: the same finding seen again is the same row';
COMMENT ON COLUMN medchain.findings.resolved_at IS
	'When a whole pass no longer saw it; NULL while it is open';
COMMENT ON COLUMN medchain.findings.reported_at IS
	'When it was last logged as a new finding (first seen, or seen again after it was resolved)';
CREATE INDEX findings_open ON medchain.findings (last_seen) WHERE resolved_at IS NULL;
REVOKE ALL ON medchain.findings FROM PUBLIC;
GRANT SELECT ON medchain.findings TO medchain_auditor, medchain_admin;
SELECT pg_catalog.pg_extension_config_dump('medchain.findings', '');

CREATE TABLE medchain.scrub_state (
	only_row boolean NOT NULL DEFAULT true,
	pass bigint NOT NULL DEFAULT 0,
	pass_started_at timestamptz,
	last_checked text,
	pass_tables text[],
	tables_checked integer NOT NULL DEFAULT 0,
	tables_total integer NOT NULL DEFAULT 0,
	rows_checked bigint NOT NULL DEFAULT 0,
	last_pass_started_at timestamptz,
	last_pass_finished_at timestamptz,
	last_pass_rows bigint,
	CONSTRAINT scrub_state_pkey PRIMARY KEY (only_row),
	CONSTRAINT scrub_state_one_row CHECK (only_row)
);
COMMENT ON TABLE medchain.scrub_state IS
	'Where the scrubber''s pass is, kept after each table so that a restart goes on from there; written only by medchain';
COMMENT ON COLUMN medchain.scrub_state.last_checked IS
	'The last ledger table checked in this pass (tables go in byte order of their names); * for the chain alone';
COMMENT ON COLUMN medchain.scrub_state.pass_tables IS
	'The ledger tables this pass checks, listed when it began';
COMMENT ON COLUMN medchain.scrub_state.rows_checked IS
	'Table rows and journal entries checked in this pass';
REVOKE ALL ON medchain.scrub_state FROM PUBLIC;
GRANT SELECT ON medchain.scrub_state TO medchain_auditor, medchain_admin;

CREATE VIEW medchain.scrub_status AS
SELECT s.pass, s.pass_started_at, s.tables_checked, s.tables_total,
	   CASE WHEN s.pass_started_at IS NULL THEN NULL
			WHEN s.tables_total OPERATOR(pg_catalog.=) 0 THEN 0
			ELSE pg_catalog.round(100 OPERATOR(pg_catalog.*) s.tables_checked::numeric
								  OPERATOR(pg_catalog./) s.tables_total, 1) END AS progress_percent,
	   s.rows_checked, s.last_pass_started_at, s.last_pass_finished_at, s.last_pass_rows,
	   (SELECT pg_catalog.count(*) FROM medchain.findings f WHERE f.resolved_at IS NULL) AS open_findings
  FROM (SELECT * FROM medchain.scrub_state
		UNION ALL
		SELECT true, 0, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL
		 WHERE NOT EXISTS (SELECT FROM medchain.scrub_state)) s;
COMMENT ON VIEW medchain.scrub_status IS
	'The scrubber: the pass under way (started, tables checked of how many, rows and entries checked), the last full pass, and the findings still open';
REVOKE ALL ON medchain.scrub_status FROM PUBLIC;
GRANT SELECT ON medchain.scrub_status TO medchain_auditor, medchain_admin;
