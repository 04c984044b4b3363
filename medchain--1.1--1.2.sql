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
