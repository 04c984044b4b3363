/* medchain--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medchain UPDATE TO '1.5'" to load this file. \quit

------------------------------------------------------------------------
-- Provenance for analysts (docs/DESIGN.md, "Provenance"): where a row
-- came from and how well it is proven, in plain SQL, at the cost of index
-- lookups.
------------------------------------------------------------------------

CREATE FUNCTION medchain.provenance(r record,
	OUT entry_id bigint, OUT kind text, OUT recorded_by name,
	OUT recorded_at timestamptz, OUT xact xid8, OUT block_height bigint,
	OUT block_hash bytea, OUT sealed_at timestamptz, OUT confirmations bigint,
	OUT peers_holding integer, OUT cosigners integer, OUT intact boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'medchain_provenance'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION medchain.provenance(record) IS
	'Where a row of a ledger table came from: its entry, who recorded it and when, the block that seals it, how many blocks, peers and cosigners stand behind that block, and whether the row still hashes to its entry';
GRANT EXECUTE ON FUNCTION medchain.provenance(record) TO PUBLIC;

-- The journal's entries of one row are found by a 64-bit hash of the
-- relation and the key's canonical text (FORMAT.md's row key), an integer
-- compared at each step down the index rather than a jsonb value.  The
-- hash is a lookup aid, covered by no entry hash: medchain compares the
-- relation and the key of every entry it finds through it, and falls back
-- to the (relation, row_key) index when it finds none.
ALTER TABLE medchain.journal ADD COLUMN key_hash bigint;
COMMENT ON COLUMN medchain.journal.key_hash IS
	'Hash of relation and row_key, to find a row''s entries; checked against both, covered by no hash';
CREATE FUNCTION medchain.key_hash(relation text, row_key jsonb)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_key_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION medchain.key_hash(text, jsonb) IS
	'The journal''s key_hash of a row entry: a 64-bit hash of its relation and its key''s canonical JSON';
UPDATE medchain.journal SET key_hash = medchain.key_hash(relation, row_key)
 WHERE row_key IS NOT NULL;
CREATE INDEX journal_key_hash_idx ON medchain.journal (key_hash);

------------------------------------------------------------------------
-- Amendments (docs/DESIGN.md, "Amendments"): a versioned ledger table
-- takes UPDATE and DELETE but destroys nothing.  The version a change
-- replaces moves to the table's history table, and the change is an entry
-- of its own, of kind update or delete, format version 3: it names the
-- entry it supersedes and carries the reason given in medchain.reason.
------------------------------------------------------------------------

ALTER TABLE medchain.journal ADD COLUMN supersedes bigint,
	ADD COLUMN note text;
COMMENT ON COLUMN medchain.journal.supersedes IS
	'Format version 3: the entry whose version of the row this one replaces or removes, 0 for none';
COMMENT ON COLUMN medchain.journal.note IS
	'Format version 3: the reason of an amendment, the label of a notarization';

-- The view shows the two columns; what it showed before stays first, and
-- key_hash, a lookup aid covered by no hash, stays out of it.
CREATE OR REPLACE VIEW medchain.entries WITH (security_invoker = true) AS
SELECT j.entry_id, j.relation, j.row_key, j.row_hash, j.entry_hash, j.kind,
	   j.recorded_by, j.recorded_at, j.xact, j.detail, j.block_height,
	   j.leaf_index, j.format_version, j.enablement_id, j.supersedes, j.note
  FROM medchain.journal j
UNION ALL
SELECT b.entry_id, b.relation, b.row_key, b.row_hash, b.entry_hash, b.kind,
	   b.recorded_by, b.recorded_at, b.xact, b.detail, b.block_height,
	   b.leaf_index, b.format_version, b.enablement_id, b.supersedes, b.note
  FROM medchain.batched_entries() b;

ALTER TABLE medchain.ledger_registry
	ADD COLUMN mode text NOT NULL DEFAULT 'append-only',
	ADD COLUMN history_relid regclass,
	ADD COLUMN history_table text,
	ADD COLUMN reason_required boolean NOT NULL DEFAULT false,
	ADD CONSTRAINT ledger_registry_mode_known
		CHECK (mode IN ('append-only', 'versioned')),
	ADD CONSTRAINT ledger_registry_released_has_no_history_relid
		CHECK (released_at IS NULL OR history_relid IS NULL);
COMMENT ON COLUMN medchain.ledger_registry.mode IS
	'append-only, or versioned: UPDATE and DELETE keep the replaced version in the history table';
COMMENT ON COLUMN medchain.ledger_registry.history_table IS
	'Versioned tables: the table that holds the versions updates and deletes replaced';
COMMENT ON COLUMN medchain.ledger_registry.reason_required IS
	'Versioned tables: an update or delete without medchain.reason is refused';

DROP FUNCTION medchain.enable(regclass, boolean);
CREATE FUNCTION medchain.enable(tbl regclass, concurrently boolean DEFAULT false,
	mode text DEFAULT 'append-only')
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_enable'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.enable(regclass, boolean, text) IS
	'Make a table a ledger table; returns the number of existing rows recorded.  mode => ''versioned'' allows UPDATE and DELETE, keeping every replaced version; concurrently => true lets inserts go on meanwhile';
REVOKE ALL ON FUNCTION medchain.enable(regclass, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.enable(regclass, boolean, text) TO medchain_admin;

CREATE FUNCTION medchain.record_version()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medchain_record_version'
LANGUAGE C;
COMMENT ON FUNCTION medchain.record_version() IS
	'Trigger of versioned ledger tables: keeps the replaced version and records the update or delete';

CREATE FUNCTION medchain.require_reason(tbl regclass, required boolean DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'medchain_require_reason'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION medchain.require_reason(regclass, boolean) IS
	'Make medchain.reason mandatory (or optional again) for updates and deletes of a versioned ledger table';
REVOKE ALL ON FUNCTION medchain.require_reason(regclass, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.require_reason(regclass, boolean) TO medchain_admin;

CREATE FUNCTION medchain.history(tbl regclass, key jsonb,
	OUT entry_id bigint, OUT kind text, OUT recorded_by name,
	OUT recorded_at timestamptz, OUT xact xid8, OUT block_height bigint,
	OUT block_hash bytea, OUT sealed_at timestamptz, OUT confirmations bigint,
	OUT peers_holding integer, OUT cosigners integer, OUT intact boolean,
	OUT supersedes bigint, OUT reason text, OUT current boolean,
	OUT row_data jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medchain_history'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION medchain.history(regclass, jsonb) IS
	'Every recorded version of the row with this key, oldest first: its entry and proof as provenance() gives them, the reason of an amendment, and the version''s data where it is still stored';
GRANT EXECUTE ON FUNCTION medchain.history(regclass, jsonb) TO PUBLIC;

CREATE OR REPLACE VIEW medchain.ledger_tables AS
SELECT r.relation,
	   r.key_columns,
	   r.enabled_at,
	   r.enabled_by,
	   medchain.rows_recorded(r.relation, r.enablement_id) AS rows_recorded,
	   r.state,
	   p.blocks_done AS baseline_blocks_done,
	   p.heap_blocks AS baseline_blocks,
	   p.baseline_rows AS baseline_rows_recorded,
	   p.rows_estimated AS baseline_rows_estimated,
	   p.updated_at AS baseline_updated_at,
	   p.worker_pid AS baseline_worker_pid,
	   p.last_error AS baseline_error,
	   r.mode,
	   r.history_table,
	   r.reason_required
  FROM medchain.ledger_registry r
  LEFT JOIN medchain.enable_progress p
	ON p.registration_id OPERATOR(pg_catalog.=) r.registration_id
 WHERE r.released_at IS NULL
   AND (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		OR medchain.can_read_relation(r.relation));

------------------------------------------------------------------------
-- Proof of existence (docs/DESIGN.md, "Proof of existence"): a document's
-- SHA-256 and a label, recorded as an entry of kind notarize of
-- medchain.notarizations; the document itself is not kept.  attest()
-- says when a document was first recorded and proves it.
------------------------------------------------------------------------

-- Who may write notarizations into the chain: research teams, without
-- the powers of medchain_admin.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medchain_notary') THEN
		CREATE ROLE medchain_notary NOLOGIN;
	END IF;
END
$$;

-- attest() finds a document's entries through key_hash, which for a
-- notarization is computed from the document's hash as it is from the key
-- for a row entry.
COMMENT ON COLUMN medchain.journal.key_hash IS
	'Hash of relation and row_key (of a notarization: of relation and document hash), to find entries; checked against both, covered by no hash';

-- The notarizations, for notaries and auditors; as the relation that
-- notarize entries name, it also decides who sees them in
-- medchain.entries (can_read_relation()).
CREATE VIEW medchain.notarizations WITH (security_invoker = true) AS
SELECT j.entry_id, j.row_hash AS document_sha256, j.note AS label, j.recorded_by,
	   j.recorded_at, j.block_height
  FROM medchain.journal j
 WHERE j.kind OPERATOR(pg_catalog.=) 'notarize'
   AND j.relation OPERATOR(pg_catalog.=) 'medchain.notarizations';
COMMENT ON VIEW medchain.notarizations IS
	'Every notarization: the document''s SHA-256, its label, who recorded it, when, and the block that seals it (NULL while pending)';
REVOKE ALL ON medchain.notarizations FROM PUBLIC;
GRANT SELECT ON medchain.notarizations TO medchain_notary, medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.notarize(document bytea, label text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_notarize'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.notarize(bytea, text) IS
	'Record the document''s SHA-256 and a label in the chain; returns the entry_id.  A value stored out of line uncompressed is read a slice at a time';

CREATE FUNCTION medchain.notarize_hash(document_sha256 bytea, label text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_notarize_hash'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.notarize_hash(bytea, text) IS
	'Record a document''s SHA-256, computed elsewhere, and a label in the chain; returns the entry_id';

CREATE FUNCTION medchain.notarize_large_object(loid oid, label text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_notarize_large_object'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.notarize_large_object(oid, text) IS
	'Record the SHA-256 of a large object, read a slice at a time, and a label in the chain; returns the entry_id';

REVOKE ALL ON FUNCTION medchain.notarize(bytea, text), medchain.notarize_hash(bytea, text),
	medchain.notarize_large_object(oid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.notarize(bytea, text), medchain.notarize_hash(bytea, text),
	medchain.notarize_large_object(oid, text) TO medchain_notary, medchain_admin;

CREATE FUNCTION medchain.attest(document bytea, anchor_height bigint DEFAULT NULL)
RETURNS TABLE (entry_id bigint, label text, recorded_by name, recorded_at timestamptz,
	block_height bigint, block_hash bytea, sealed_at timestamptz, confirmations bigint,
	peers_holding integer, cosigners integer, proof jsonb)
AS 'MODULE_PATHNAME', 'medchain_attest'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.attest(bytea, bigint) IS
	'When the document was first notarized, by whom, in which block, how much stands behind that block, and the proof (NULL while pending); no row if it never was';

CREATE FUNCTION medchain.attest_hash(document_sha256 bytea, anchor_height bigint DEFAULT NULL)
RETURNS TABLE (entry_id bigint, label text, recorded_by name, recorded_at timestamptz,
	block_height bigint, block_hash bytea, sealed_at timestamptz, confirmations bigint,
	peers_holding integer, cosigners integer, proof jsonb)
AS 'MODULE_PATHNAME', 'medchain_attest_hash'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.attest_hash(bytea, bigint) IS
	'attest() for a document whose SHA-256 was computed elsewhere';

CREATE FUNCTION medchain.attest_large_object(loid oid, anchor_height bigint DEFAULT NULL)
RETURNS TABLE (entry_id bigint, label text, recorded_by name, recorded_at timestamptz,
	block_height bigint, block_hash bytea, sealed_at timestamptz, confirmations bigint,
	peers_holding integer, cosigners integer, proof jsonb)
AS 'MODULE_PATHNAME', 'medchain_attest_large_object'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.attest_large_object(oid, bigint) IS
	'attest() for a document stored as a large object, read a slice at a time';

-- Anyone may ask: an answer says only what whoever holds the document (or
-- its hash) may know, that it was notarized, when, by whom, with what label.
GRANT EXECUTE ON FUNCTION medchain.attest(bytea, bigint), medchain.attest_hash(bytea, bigint),
	medchain.attest_large_object(oid, bigint) TO PUBLIC;
