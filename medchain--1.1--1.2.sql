/* medchain--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medchain UPDATE TO '1.2'" to load this file. \quit

------------------------------------------------------------------------
-- Rows are recorded by statement: one pass over the statement's new rows
-- (a transition table) and multi-inserts into the journal.  Partitions
-- keep the row trigger, which also fires for rows routed through their
-- parent.  The ledger tables of 1.1 get the new trigger here; the DDL
-- guard lets this script, and only it, replace theirs.
------------------------------------------------------------------------

CREATE FUNCTION medchain.record_rows()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medchain_record_rows'
LANGUAGE C;

DO $$
DECLARE
	ledger record;
BEGIN
	FOR ledger IN
		SELECT c.oid::pg_catalog.regclass AS relation
		  FROM medchain.ledger_registry r
		  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.relid
		 WHERE r.released_at IS NULL AND NOT c.relispartition
		 ORDER BY r.registration_id
	LOOP
		EXECUTE pg_catalog.format(
			'DROP TRIGGER medchain_record ON %1$s;'
			' CREATE TRIGGER medchain_record AFTER INSERT ON %1$s'
			' REFERENCING NEW TABLE AS medchain_new_rows'
			' FOR EACH STATEMENT EXECUTE FUNCTION medchain.record_rows();'
			' ALTER TABLE %1$s ENABLE ALWAYS TRIGGER medchain_record',
			ledger.relation);
	END LOOP;
END
$$;

------------------------------------------------------------------------
-- Row entries wait for sealing packed in batches: a row of about 80
-- entries instead of a journal row, two index entries and a queue row
-- each.  seal() writes them into the journal already
-- placed in their block, so new journal rows are never updated and need
-- no room kept for it; events still go through medchain.pending.
------------------------------------------------------------------------

CREATE TABLE medchain.entry_batches (
	relation text NOT NULL,
	enablement_id bigint NOT NULL,
	kind text NOT NULL,
	recorded_by name NOT NULL,
	recorded_at timestamptz NOT NULL,
	xact xid8 NOT NULL,
	format_version smallint NOT NULL,
	entry_count integer NOT NULL,
	entries bytea NOT NULL
);
-- A bulk load draws an entry id per row: a larger cache spares the
-- sequence's page lock and WAL record every 32 of them.  Ids need only be
-- unique; a session's unused cached ids are simply never used.
ALTER SEQUENCE medchain.entries_entry_id_seq CACHE 1024;

-- Lookups of one table's batched entries (proofs, row encodings, counts).
CREATE INDEX entry_batches_relation_idx ON medchain.entry_batches (relation);
-- A batch row fills up to a page; hashes do not compress: keep the packed
-- entries inline, as they are.
ALTER TABLE medchain.entry_batches ALTER COLUMN entries SET STORAGE EXTERNAL;
ALTER TABLE medchain.entry_batches SET (toast_tuple_target = 8160);
COMMENT ON TABLE medchain.entry_batches IS
	'Row entries not sealed yet, packed, written only by medchain; medchain.entries shows them unpacked';
COMMENT ON COLUMN medchain.entry_batches.entries IS
	'Per entry: entry_id (8 bytes), row_hash (32), entry_hash (32), key length (4) and the key''s canonical JSON in UTF-8, big-endian';
REVOKE ALL ON medchain.entry_batches FROM PUBLIC;
GRANT SELECT ON medchain.entry_batches TO PUBLIC;
ALTER TABLE medchain.entry_batches ENABLE ROW LEVEL SECURITY;
CREATE POLICY entry_batches_readable ON medchain.entry_batches FOR SELECT TO PUBLIC
	USING (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		   OR medchain.can_read_relation(relation));
SELECT pg_catalog.pg_extension_config_dump('medchain.entry_batches', '');

-- The journal's rows are medchain.journal now; medchain.entries is every
-- entry, sealed or waiting in a batch, as the view below shows it, so
-- queries written for 1.0 and 1.1 read the same entries.  New journal rows
-- arrive sealed and are never updated: no room is kept for it any more.
ALTER TABLE medchain.entries RENAME TO journal;
ALTER TABLE medchain.journal SET (fillfactor = 100);
-- seal() inserts an entry into this index per sealed row: compare the
-- table names byte by byte, as text_pattern_ops does, rather than through
-- the locale's collation at every step down the tree.  Equality lookups
-- by name (all that medchain and provenance queries do) still use it.
DROP INDEX medchain.entries_relation_row_key_idx;
CREATE INDEX entries_relation_row_key_idx
	ON medchain.journal (relation text_pattern_ops, row_key);
COMMENT ON TABLE medchain.journal IS
	'Journal of ledger tables: sealed entries and events, written only by medchain; medchain.entries adds the entries waiting in batches';

-- Planned as the large set it can be while a bulk load waits for sealing,
-- so that joins with it hash rather than loop over it.
CREATE FUNCTION medchain.batched_entries()
RETURNS SETOF medchain.journal
AS 'MODULE_PATHNAME', 'medchain_batched_entries'
LANGUAGE C STABLE ROWS 100000;
COMMENT ON FUNCTION medchain.batched_entries() IS
	'The entries waiting in medchain.entry_batches, as the journal rows seal() will make of them, of the tables the caller may read';
GRANT EXECUTE ON FUNCTION medchain.batched_entries() TO PUBLIC;

CREATE VIEW medchain.entries WITH (security_invoker = true) AS
SELECT * FROM medchain.journal
UNION ALL
SELECT * FROM medchain.batched_entries();
COMMENT ON VIEW medchain.entries IS
	'Every entry of the journal: one per recorded row or event, sealed (block_height set) or waiting to be';
GRANT SELECT ON medchain.entries TO PUBLIC;

-- Sealed entries are journal rows: the export reads the journal itself,
-- not the view that also unpacks the batches.
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
			'node_id', encode(sha256(convert_to(b.node_name, 'UTF8')), 'hex'),
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
	  FROM medchain.blocks b
	 WHERE b.height OPERATOR(pg_catalog.>=) from_height
	 ORDER BY b.height
$$;

CREATE OR REPLACE VIEW medchain.chain_status AS
SELECT (SELECT pg_catalog.max(height) FROM medchain.blocks) AS height,
	   (SELECT b.block_hash FROM medchain.blocks b
		 ORDER BY b.height DESC LIMIT 1) AS head_hash,
	   (SELECT pg_catalog.count(*)
		  FROM medchain.pending p
		  JOIN medchain.journal e ON e.entry_id OPERATOR(pg_catalog.=) p.entry_id
		 WHERE pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
			OR medchain.can_read_relation(e.relation))
	   OPERATOR(pg_catalog.+)
	   (SELECT COALESCE(pg_catalog.sum(b.entry_count), 0)
		  FROM medchain.entry_batches b
		 WHERE pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
			OR medchain.can_read_relation(b.relation))::bigint AS pending_entries,
	   (SELECT pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.min(w.recorded_at)
		  FROM (SELECT e.recorded_at, e.relation
				  FROM medchain.pending p
				  JOIN medchain.journal e ON e.entry_id OPERATOR(pg_catalog.=) p.entry_id
				UNION ALL
				SELECT b.recorded_at, b.relation FROM medchain.entry_batches b) w
		 WHERE pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
			OR medchain.can_read_relation(w.relation)) AS oldest_pending_age;

------------------------------------------------------------------------
-- Enabling a live table concurrently: the triggers first, then the
-- existing rows in steps of their own transactions, with the progress
-- kept in medchain.enable_progress until the baseline is complete.
------------------------------------------------------------------------

ALTER TABLE medchain.ledger_registry ADD COLUMN state text NOT NULL DEFAULT 'enabled'
	CONSTRAINT ledger_registry_state_known CHECK (state IN ('enabling', 'enabled'));
COMMENT ON COLUMN medchain.ledger_registry.state IS
	'enabling while enable(..., concurrently => true) records the existing rows; enabled once they all are';

CREATE TABLE medchain.enable_progress (
	registration_id bigint NOT NULL,
	relid oid NOT NULL,
	enablement_id bigint NOT NULL,
	horizon xid8 NOT NULL,
	running_xids xid8[] NOT NULL,
	relfilenode oid NOT NULL,
	heap_blocks bigint NOT NULL,
	blocks_done bigint NOT NULL,
	probe_all boolean NOT NULL,
	rows_estimated bigint,
	baseline_rows bigint NOT NULL,
	started_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	worker_pid integer,
	last_error text,
	CONSTRAINT enable_progress_pkey PRIMARY KEY (registration_id)
);
COMMENT ON TABLE medchain.enable_progress IS
	'Tables being enabled concurrently: how far the baseline is, written only by medchain';
COMMENT ON COLUMN medchain.enable_progress.horizon IS
	'The next transaction id when the triggers were installed: rows of later transactions are recorded by the triggers';
COMMENT ON COLUMN medchain.enable_progress.running_xids IS
	'Transactions (and their subtransactions) in progress then: their rows are recorded by the triggers too';
COMMENT ON COLUMN medchain.enable_progress.heap_blocks IS
	'Blocks of the table then: no row from before the triggers lies beyond them';
COMMENT ON COLUMN medchain.enable_progress.probe_all IS
	'The table was rewritten since: every row is looked up in the journal before it is recorded';
REVOKE ALL ON medchain.enable_progress FROM PUBLIC;

DROP FUNCTION medchain.enable(regclass);
CREATE FUNCTION medchain.enable(tbl regclass, concurrently boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_enable'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.enable(regclass, boolean) IS
	'Make a table an append-only ledger table; returns the number of existing rows recorded.  With concurrently => true inserts go on meanwhile';
REVOKE ALL ON FUNCTION medchain.enable(regclass, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.enable(regclass, boolean) TO medchain_admin;

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
	   p.last_error AS baseline_error
  FROM medchain.ledger_registry r
  LEFT JOIN medchain.enable_progress p
	ON p.registration_id OPERATOR(pg_catalog.=) r.registration_id
 WHERE r.released_at IS NULL
   AND (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		OR medchain.can_read_relation(r.relation));
COMMENT ON VIEW medchain.ledger_tables IS
	'Tables that are ledger tables now, with the rows recorded since they were enabled; for a table being enabled concurrently, how far its baseline is';
