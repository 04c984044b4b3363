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
-- rather than a jsonb value.  Its index is a hash index: a lookup reads one
-- bucket page rather than descending a btree page by page, and nothing
-- asks for a range of key_hash.  The hash is a lookup aid, covered by no
-- entry hash: medchain compares the relation and the key of every entry
-- it finds through it, and falls back to the (relation, row_key) index
-- when it finds none.
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
CREATE INDEX journal_key_hash_idx ON medchain.journal USING hash (key_hash);

------------------------------------------------------------------------
-- provenance(t) as the planner makes it (src/provenance_plan.c): an
-- analyst's (medchain.provenance(t)).* calls provenance() once per output
-- column, and each call would build the row t anew from its columns.  In
-- a SELECT that locks no rows, provenance(t) of a plain table t of the
-- query becomes provenance_at(t's table, t's ctid): the calls pass the
-- row's address, those after the first find the row just answered by it,
-- and the first reads the row as the query's snapshot sees it.
------------------------------------------------------------------------

CREATE FUNCTION medchain.provenance_at(relation regclass, ctid tid,
	OUT entry_id bigint, OUT kind text, OUT recorded_by name,
	OUT recorded_at timestamptz, OUT xact xid8, OUT block_height bigint,
	OUT block_hash bytea, OUT sealed_at timestamptz, OUT confirmations bigint,
	OUT peers_holding integer, OUT cosigners integer, OUT intact boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'medchain_provenance_at'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION medchain.provenance_at(regclass, tid) IS
	'provenance() of the row of relation at ctid, as the query sees it; NULL if it sees none there: what the planner makes of provenance(t) for a table t of a SELECT';
GRANT EXECUTE ON FUNCTION medchain.provenance_at(regclass, tid) TO PUBLIC;

CREATE FUNCTION medchain.provenance_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'medchain_provenance_support'
LANGUAGE C STRICT;
COMMENT ON FUNCTION medchain.provenance_support(internal) IS
	'Planner support of provenance(): provenance(t) of a table t of a SELECT becomes provenance_at(t''s table, t''s ctid)';
ALTER FUNCTION medchain.provenance(record) SUPPORT medchain.provenance_support;
