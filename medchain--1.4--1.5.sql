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
-- Partitioned tables (docs/DESIGN.md, "Partitioned tables"): enable() on
-- a partitioned table makes all its partitions, present and future, one
-- ledger named by it.  A partition created or attached later gets its
-- TRUNCATE trigger (statement triggers are not cloned) from an event
-- trigger at ddl_command_end, which also records the rows an attached
-- table brings; the DDL guard refuses DETACH and DROP of a partition of a
-- ledger table, so it now looks at DROP TABLE and DROP OWNED too.
------------------------------------------------------------------------

CREATE FUNCTION medchain.adopt_partition()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'medchain_adopt_partition'
LANGUAGE C;
COMMENT ON FUNCTION medchain.adopt_partition() IS
	'Event trigger: a new partition of a ledger table gets its TRUNCATE trigger, and an attached one has its rows recorded';

CREATE EVENT TRIGGER medchain_adopt_partition ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'CREATE SCHEMA', 'ALTER TABLE')
	EXECUTE FUNCTION medchain.adopt_partition();
ALTER EVENT TRIGGER medchain_adopt_partition ENABLE ALWAYS;

DROP EVENT TRIGGER medchain_guard_ddl;
CREATE EVENT TRIGGER medchain_guard_ddl ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA', 'ALTER TRIGGER', 'ALTER TYPE',
				 'DROP TRIGGER', 'DROP INDEX', 'DROP SCHEMA', 'DROP EXTENSION',
				 'CREATE RULE', 'DROP TABLE', 'DROP OWNED')
	EXECUTE FUNCTION medchain.guard_ddl();
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
