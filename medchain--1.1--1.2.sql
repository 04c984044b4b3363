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
