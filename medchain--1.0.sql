/* medchain--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION medchain" to load this file. \quit

-- Roles are cluster-wide: create them only where an earlier database of
-- this cluster has not.
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medchain_admin') THEN
		CREATE ROLE medchain_admin NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medchain_auditor') THEN
		CREATE ROLE medchain_auditor NOLOGIN;
	END IF;
END
$roles$;

REVOKE ALL ON SCHEMA medchain FROM PUBLIC;
GRANT USAGE ON SCHEMA medchain TO PUBLIC;

------------------------------------------------------------------------
-- The journal
------------------------------------------------------------------------

-- Entry ids need only be unique: their order is fixed when entries are
-- sealed.  A cache saves the inserting backends a sequence buffer lock per
-- row.
CREATE SEQUENCE medchain.entries_entry_id_seq CACHE 32;

CREATE TABLE medchain.entries (
	entry_id bigint NOT NULL,
	relation text NOT NULL,
	row_key jsonb,
	row_hash bytea NOT NULL,
	entry_hash bytea NOT NULL,
	kind text NOT NULL,
	recorded_by name NOT NULL,
	recorded_at timestamptz NOT NULL,
	xact xid8 NOT NULL,
	detail jsonb,
	block_height bigint,
	leaf_index integer,
	CONSTRAINT entries_pkey PRIMARY KEY (entry_id)
)
-- Sealing sets block_height and leaf_index in place: room on every page
-- lets each of those updates be a HOT update, with no new index entry.
WITH (fillfactor = 45);
CREATE INDEX entries_relation_row_key_idx ON medchain.entries (relation, row_key);

ALTER SEQUENCE medchain.entries_entry_id_seq OWNED BY medchain.entries.entry_id;

COMMENT ON TABLE medchain.entries IS
	'Journal of ledger tables: one entry per recorded row or event, written only by medchain';
COMMENT ON COLUMN medchain.entries.row_key IS
	'Key columns of the recorded row and their values; NULL for events';
COMMENT ON COLUMN medchain.entries.row_hash IS
	'SHA-256 of the row''s canonical encoding (for events: of the detail''s jsonb text)';
COMMENT ON COLUMN medchain.entries.entry_hash IS
	'SHA-256 of the entry''s canonical encoding, see docs/FORMAT.md';
COMMENT ON COLUMN medchain.entries.kind IS
	'baseline (recorded by enable), insert, or event (enable, disable)';
COMMENT ON COLUMN medchain.entries.block_height IS
	'Block that seals the entry; NULL while pending';
COMMENT ON COLUMN medchain.entries.leaf_index IS
	'Position of the entry among its block''s Merkle leaves, from 0; NULL while pending';

------------------------------------------------------------------------
-- Entries waiting to be sealed
------------------------------------------------------------------------

-- Written with each entry, in the same transaction: seal() takes the
-- committed ones and deletes them, so an entry of a transaction still in
-- progress simply waits for a later block.  entry_tid lets seal() reach
-- the entry without an index lookup; it is checked, and an id lookup
-- takes over when a rewrite of the journal has moved the entry.
CREATE TABLE medchain.pending (
	entry_id bigint NOT NULL,
	entry_tid tid NOT NULL
);
COMMENT ON TABLE medchain.pending IS
	'Entries not sealed yet, written only by medchain';

------------------------------------------------------------------------
-- Blocks
------------------------------------------------------------------------

CREATE TABLE medchain.blocks (
	height bigint NOT NULL,
	format_version integer NOT NULL,
	prev_hash bytea NOT NULL,
	merkle_root bytea NOT NULL,
	entry_count integer NOT NULL,
	sealed_at timestamptz NOT NULL,
	difficulty integer NOT NULL,
	node_name text NOT NULL,
	nonce bigint NOT NULL,
	block_hash bytea NOT NULL,
	first_entry_id bigint NOT NULL,
	last_entry_id bigint NOT NULL,
	CONSTRAINT blocks_pkey PRIMARY KEY (height)
);
COMMENT ON TABLE medchain.blocks IS
	'The chain of sealed blocks, written only by medchain.seal(); header layout in docs/FORMAT.md';
COMMENT ON COLUMN medchain.blocks.difficulty IS
	'Leading zero bits required of block_hash';
COMMENT ON COLUMN medchain.blocks.node_name IS
	'Node that sealed the block; the header holds the SHA-256 of this name';
COMMENT ON COLUMN medchain.blocks.first_entry_id IS
	'Lowest entry_id in the block (not part of the header)';
COMMENT ON COLUMN medchain.blocks.last_entry_id IS
	'Highest entry_id in the block (not part of the header)';

------------------------------------------------------------------------
-- The registry of ledger tables
------------------------------------------------------------------------

CREATE SEQUENCE medchain.ledger_registry_registration_id_seq;

CREATE TABLE medchain.ledger_registry (
	registration_id bigint NOT NULL
		DEFAULT pg_catalog.nextval('medchain.ledger_registry_registration_id_seq'),
	relid regclass,
	relation text NOT NULL,
	key_columns text[] NOT NULL,
	enabled_at timestamptz NOT NULL,
	enabled_by name NOT NULL,
	prior_entry_id bigint NOT NULL,
	released_at timestamptz,
	released_by name,
	release_reason text,
	CONSTRAINT ledger_registry_pkey PRIMARY KEY (registration_id),
	CONSTRAINT ledger_registry_released_has_no_relid
		CHECK (released_at IS NULL OR relid IS NULL)
);
CREATE UNIQUE INDEX ledger_registry_active_relid_idx
	ON medchain.ledger_registry (relid) WHERE released_at IS NULL;

ALTER SEQUENCE medchain.ledger_registry_registration_id_seq
	OWNED BY medchain.ledger_registry.registration_id;

COMMENT ON TABLE medchain.ledger_registry IS
	'Every enablement of a ledger table; released_at is set by medchain.disable()';
COMMENT ON COLUMN medchain.ledger_registry.prior_entry_id IS
	'Highest entry_id of the table before this enablement: the entries of this enablement come after it';

-- pg_dump carries the journal and the registry along with the database.
SELECT pg_catalog.pg_extension_config_dump('medchain.entries', '');
SELECT pg_catalog.pg_extension_config_dump('medchain.entries_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('medchain.ledger_registry', '');
SELECT pg_catalog.pg_extension_config_dump('medchain.ledger_registry_registration_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('medchain.pending', '');
SELECT pg_catalog.pg_extension_config_dump('medchain.blocks', '');

------------------------------------------------------------------------
-- Access: nobody writes the journal but medchain's own code; readers see
-- entries of tables they can read, auditors see all.
------------------------------------------------------------------------

REVOKE ALL ON medchain.entries, medchain.ledger_registry, medchain.pending,
	medchain.blocks FROM PUBLIC;
REVOKE ALL ON SEQUENCE medchain.entries_entry_id_seq,
	medchain.ledger_registry_registration_id_seq FROM PUBLIC;

GRANT SELECT ON medchain.entries TO PUBLIC;
GRANT SELECT ON medchain.ledger_registry TO PUBLIC;
-- Block headers hold hashes only, never patient data.
GRANT SELECT ON medchain.blocks TO PUBLIC;

-- Looks the table up by name without to_regclass(), which would raise an
-- error for a schema the caller may not use; such a table is simply not
-- readable.  A table dropped after its release is readable by nobody but
-- auditors.
CREATE FUNCTION medchain.can_read_relation(relation text)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT has_schema_privilege(n.oid, 'USAGE')
							AND has_table_privilege(c.oid, 'SELECT')
					   FROM pg_class c
					   JOIN pg_namespace n ON n.oid = c.relnamespace,
							parse_ident(relation) AS name
					  WHERE n.nspname = name[1] AND c.relname = name[2]),
					false)
$$;

ALTER TABLE medchain.entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY entries_readable ON medchain.entries FOR SELECT TO PUBLIC
	USING (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		   OR medchain.can_read_relation(relation));

------------------------------------------------------------------------
-- Views
------------------------------------------------------------------------

CREATE VIEW medchain.ledger_tables AS
SELECT r.relation,
	   r.key_columns,
	   r.enabled_at,
	   r.enabled_by,
	   (SELECT pg_catalog.count(*)
		  FROM medchain.entries e
		 WHERE e.relation = r.relation
		   AND e.kind IN ('baseline', 'insert')
		   AND e.entry_id > r.prior_entry_id) AS rows_recorded
  FROM medchain.ledger_registry r
 WHERE r.released_at IS NULL;

COMMENT ON VIEW medchain.ledger_tables IS
	'Tables that are ledger tables now (schema-qualified, as in medchain.entries), with the number of rows recorded since they were enabled';
GRANT SELECT ON medchain.ledger_tables TO PUBLIC;

------------------------------------------------------------------------
-- Functions
------------------------------------------------------------------------

CREATE FUNCTION medchain.enable(tbl regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_enable'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION medchain.enable(regclass) IS
	'Make a table an append-only ledger table; returns the number of existing rows recorded';

CREATE FUNCTION medchain.disable(tbl regclass, reason text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_disable'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION medchain.disable(regclass, text) IS
	'Release a ledger table, recording who, when and why; returns the event''s entry_id';

REVOKE ALL ON FUNCTION medchain.enable(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION medchain.disable(regclass, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.enable(regclass) TO medchain_admin;
GRANT EXECUTE ON FUNCTION medchain.disable(regclass, text) TO medchain_admin;

CREATE FUNCTION medchain.row_encoding(tbl regclass, key jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'medchain_row_encoding'
LANGUAGE C STRICT STABLE;

COMMENT ON FUNCTION medchain.row_encoding(regclass, jsonb) IS
	'Canonical encoding of the ledger row with this key; its SHA-256 is the row_hash';

CREATE FUNCTION medchain.record_row()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medchain_record_row'
LANGUAGE C;

CREATE FUNCTION medchain.refuse_change()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medchain_refuse_change'
LANGUAGE C;

CREATE FUNCTION medchain.guard_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'medchain_guard_ddl'
LANGUAGE C;

CREATE FUNCTION medchain.guard_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'medchain_guard_drop'
LANGUAGE C;

CREATE EVENT TRIGGER medchain_guard_ddl ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA', 'ALTER TRIGGER', 'ALTER TYPE',
				 'DROP TRIGGER', 'DROP INDEX', 'DROP SCHEMA', 'DROP EXTENSION')
	EXECUTE FUNCTION medchain.guard_ddl();

CREATE EVENT TRIGGER medchain_guard_drop ON sql_drop
	EXECUTE FUNCTION medchain.guard_drop();

ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
ALTER EVENT TRIGGER medchain_guard_drop ENABLE ALWAYS;

------------------------------------------------------------------------
-- Blocks: sealing and the chain's status
------------------------------------------------------------------------

CREATE FUNCTION medchain.seal(max_entries integer DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_seal'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION medchain.seal(integer) IS
	'Seal committed pending entries into the next block; returns its height, NULL when nothing is pending';

REVOKE ALL ON FUNCTION medchain.seal(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.seal(integer) TO medchain_admin;

-- medchain_admin may tune the proof-of-work (PostgreSQL 15 and later).
DO $grant$
BEGIN
	IF current_setting('server_version_num')::int >= 150000 THEN
		EXECUTE 'GRANT SET ON PARAMETER medchain.difficulty TO medchain_admin';
	END IF;
END
$grant$;

CREATE VIEW medchain.chain_status AS
SELECT (SELECT pg_catalog.max(height) FROM medchain.blocks) AS height,
	   (SELECT b.block_hash FROM medchain.blocks b
		 ORDER BY b.height DESC LIMIT 1) AS head_hash,
	   (SELECT pg_catalog.count(*) FROM medchain.pending) AS pending_entries,
	   (SELECT pg_catalog.now() - pg_catalog.min(e.recorded_at)
		  FROM medchain.pending p
		  JOIN medchain.entries e ON e.entry_id = p.entry_id) AS oldest_pending_age;

COMMENT ON VIEW medchain.chain_status IS
	'Height and hash of the newest block, entries waiting to be sealed and how long the oldest has waited';
GRANT SELECT ON medchain.chain_status TO PUBLIC;

------------------------------------------------------------------------
-- Integrity checks
------------------------------------------------------------------------

CREATE FUNCTION medchain.verify(tbl regclass DEFAULT NULL)
RETURNS TABLE (finding text, relation text, row_key jsonb,
			   entry_id bigint, block_height bigint, detail text)
AS 'MODULE_PATHNAME', 'medchain_verify'
LANGUAGE C STABLE;

COMMENT ON FUNCTION medchain.verify(regclass) IS
	'One row per finding (row_modified, row_missing, row_unrecorded, entry_modified, entry_missing, block_modified, chain_broken); none when clean';

REVOKE ALL ON FUNCTION medchain.verify(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.verify(regclass) TO medchain_auditor, medchain_admin;

------------------------------------------------------------------------
-- Digests, inclusion proofs and the chain export
------------------------------------------------------------------------

CREATE FUNCTION medchain.digest()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'medchain_digest'
LANGUAGE C STABLE;

COMMENT ON FUNCTION medchain.digest() IS
	'The head block (node, height, block_hash, sealed_at, format_version), to keep outside the database';

CREATE FUNCTION medchain.verify_digest(d jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medchain_verify_digest'
LANGUAGE C STABLE STRICT;

COMMENT ON FUNCTION medchain.verify_digest(jsonb) IS
	'True if the digest''s block is still on the chain, unchanged, and the chain from it to the head is intact';

CREATE FUNCTION medchain.proof(tbl regclass, key jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'medchain_proof'
LANGUAGE C STABLE STRICT;

COMMENT ON FUNCTION medchain.proof(regclass, jsonb) IS
	'Inclusion proof of a sealed row: its encoding, its entry, the Merkle audit path and the block header';

CREATE FUNCTION medchain.verify_proof(p jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medchain_verify_proof'
LANGUAGE C IMMUTABLE STRICT;

COMMENT ON FUNCTION medchain.verify_proof(jsonb) IS
	'Checks an inclusion proof from its own contents, reading no table';

-- One JSON object per block from from_height up: the header fields and the
-- block's entry hashes in leaf order.  Hashes only, no patient data.
CREATE FUNCTION medchain.export_chain(from_height bigint DEFAULT 0)
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
			'sealed_at', (extract(epoch FROM b.sealed_at) * 1000000)::bigint,
			'entry_count', b.entry_count,
			'difficulty', b.difficulty,
			'node_id', encode(sha256(convert_to(b.node_name, 'UTF8')), 'hex'),
			'node_name', b.node_name,
			'nonce', b.nonce::numeric + CASE WHEN b.nonce < 0 THEN 18446744073709551616 ELSE 0 END,
			'block_hash', encode(b.block_hash, 'hex'),
			'entry_hashes', coalesce((SELECT jsonb_agg(encode(e.entry_hash, 'hex') ORDER BY e.entry_id)
										FROM medchain.entries e
									   WHERE e.entry_id BETWEEN b.first_entry_id AND b.last_entry_id
										 AND e.block_height = b.height), '[]'::jsonb))
	  FROM medchain.blocks b
	 WHERE b.height >= from_height
	 ORDER BY b.height
$$;

COMMENT ON FUNCTION medchain.export_chain(bigint) IS
	'The chain from from_height up, one JSON object per block with its entry hashes, for outside verification';

REVOKE ALL ON FUNCTION medchain.digest(), medchain.verify_digest(jsonb),
	medchain.export_chain(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.digest(), medchain.verify_digest(jsonb),
	medchain.export_chain(bigint) TO medchain_auditor, medchain_admin;
-- A proof holds the row itself: whoever may read the row may have it.
GRANT EXECUTE ON FUNCTION medchain.proof(regclass, jsonb) TO PUBLIC;
