/* medchain--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medchain UPDATE TO '1.1'" to load this file. \quit

------------------------------------------------------------------------
-- Readers see the registry and the views only for tables they may read,
-- as they see the journal.
------------------------------------------------------------------------

ALTER TABLE medchain.ledger_registry ENABLE ROW LEVEL SECURITY;
CREATE POLICY registry_readable ON medchain.ledger_registry FOR SELECT TO PUBLIC
	USING (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		   OR medchain.can_read_relation(relation));

-- A view reads its tables as the view's owner, whom row-level security
-- does not restrict; the filter on the caller is written out instead.
CREATE OR REPLACE VIEW medchain.ledger_tables AS
SELECT r.relation,
	   r.key_columns,
	   r.enabled_at,
	   r.enabled_by,
	   (SELECT pg_catalog.count(*)
		  FROM medchain.entries e
		 WHERE e.relation OPERATOR(pg_catalog.=) r.relation
		   AND e.kind OPERATOR(pg_catalog.=) ANY (ARRAY['baseline', 'insert'])
		   AND e.entry_id OPERATOR(pg_catalog.>) r.prior_entry_id) AS rows_recorded
  FROM medchain.ledger_registry r
 WHERE r.released_at IS NULL
   AND (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		OR medchain.can_read_relation(r.relation));

CREATE OR REPLACE VIEW medchain.chain_status AS
SELECT (SELECT pg_catalog.max(height) FROM medchain.blocks) AS height,
	   (SELECT b.block_hash FROM medchain.blocks b
		 ORDER BY b.height DESC LIMIT 1) AS head_hash,
	   (SELECT pg_catalog.count(*)
		  FROM medchain.pending p
		  JOIN medchain.entries e ON e.entry_id OPERATOR(pg_catalog.=) p.entry_id
		 WHERE pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
			OR medchain.can_read_relation(e.relation)) AS pending_entries,
	   (SELECT pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.min(e.recorded_at)
		  FROM medchain.pending p
		  JOIN medchain.entries e ON e.entry_id OPERATOR(pg_catalog.=) p.entry_id
		 WHERE pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
			OR medchain.can_read_relation(e.relation)) AS oldest_pending_age;

------------------------------------------------------------------------
-- The DDL guard also refuses CREATE RULE on ledger tables: a DO INSTEAD
-- rule would divert inserts away from the row trigger.
------------------------------------------------------------------------

DROP EVENT TRIGGER medchain_guard_ddl;
CREATE EVENT TRIGGER medchain_guard_ddl ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA', 'ALTER TRIGGER', 'ALTER TYPE',
				 'DROP TRIGGER', 'DROP INDEX', 'DROP SCHEMA', 'DROP EXTENSION',
				 'CREATE RULE')
	EXECUTE FUNCTION medchain.guard_ddl();
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
