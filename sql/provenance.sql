-- provenance(r): where each row of a ledger table came from, in the
-- select list of an ordinary query.
SET medchain.difficulty = 8;
CREATE SCHEMA prov;
CREATE TABLE prov.obs (obs_id int PRIMARY KEY, code text NOT NULL, value numeric, taken date);
INSERT INTO prov.obs VALUES (1, 'HbA1c', 6.1, '2026-01-02'), (2, 'LDL', 101, '2026-01-03');
SELECT medchain.enable('prov.obs');
INSERT INTO prov.obs VALUES (3, 'eGFR', 72, '2026-01-04');

-- Pending: the entry is there, its block fields are NULL.
SELECT o.obs_id, p.kind, p.recorded_by = session_user AS by_me, p.xact IS NOT NULL AS xact,
	   p.block_height, p.block_hash, p.sealed_at, p.confirmations, p.peers_holding, p.cosigners, p.intact
  FROM prov.obs o CROSS JOIN LATERAL medchain.provenance(o) p ORDER BY o.obs_id;

SELECT medchain.seal() AS first_block \gset
INSERT INTO prov.obs VALUES (4, 'HbA1c', 5.9, '2026-02-01');
SELECT medchain.seal() AS second_block \gset
INSERT INTO prov.obs VALUES (5, 'LDL', 99, '2026-02-02');

-- The form analysts write: the row, then its provenance.
SELECT o.obs_id, o.code, (medchain.provenance(o)).kind,
	   (medchain.provenance(o)).block_height - :first_block AS block,
	   (medchain.provenance(o)).confirmations, (medchain.provenance(o)).intact
  FROM prov.obs o ORDER BY o.obs_id;
-- Every field agrees with the journal and the chain.
SELECT count(*) AS rows, bool_and(p.entry_id = e.entry_id AND p.kind = e.kind AND p.recorded_by = e.recorded_by
		AND p.recorded_at = e.recorded_at AND p.xact = e.xact
		AND p.block_height IS NOT DISTINCT FROM e.block_height
		AND p.block_hash IS NOT DISTINCT FROM b.block_hash
		AND p.sealed_at IS NOT DISTINCT FROM b.sealed_at
		AND p.confirmations IS NOT DISTINCT FROM (SELECT max(height) FROM medchain.blocks) - e.block_height) AS agree
  FROM prov.obs o
 CROSS JOIN LATERAL medchain.provenance(o) p
  JOIN medchain.entries e ON e.relation = 'prov.obs' AND e.row_key = jsonb_build_object('obs_id', o.obs_id)
  LEFT JOIN medchain.blocks b ON b.height = e.block_height;
-- (f(o)).* in one query, against the rows alone: the same rows.
SELECT count(*) FROM (SELECT o.*, (medchain.provenance(o)).* FROM prov.obs o) s;

-- A row changed behind medchain's back no longer hashes to its entry.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE prov.obs DISABLE TRIGGER medchain_append_only;
UPDATE prov.obs SET value = 5.0 WHERE obs_id = 1;
SELECT o.obs_id, p.kind, p.intact FROM prov.obs o, medchain.provenance(o) p ORDER BY o.obs_id;
ROLLBACK;
-- A row slipped in has no entry at all.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE prov.obs DISABLE TRIGGER medchain_record;
INSERT INTO prov.obs VALUES (99, 'forged', 1, NULL);
SELECT (medchain.provenance(o)).* FROM prov.obs o WHERE obs_id = 99;
ROLLBACK;
-- A record built by hand is answered for what it holds: the entry of its
-- key, and whether those values are the recorded ones.
SELECT p.kind, p.intact FROM medchain.provenance(ROW(2, 'LDL', 101, '2026-01-03')::prov.obs) p;
SELECT p.kind, p.intact FROM medchain.provenance(ROW(2, 'LDL', 100, '2026-01-03')::prov.obs) p;

-- NULL in, NULL out; anything but a row of a ledger table is refused.
SELECT medchain.provenance(NULL::prov.obs) IS NULL AS null_row;
SELECT medchain.provenance(ROW(1, 2));
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE prov.plain (id int PRIMARY KEY);
INSERT INTO prov.plain VALUES (1);
SELECT (medchain.provenance(t)).* FROM prov.plain t;
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW prov.obs_view AS SELECT * FROM prov.obs;
SELECT (medchain.provenance(v)).* FROM prov.obs_view v;
\echo :LAST_ERROR_SQLSTATE

-- A released table's rows keep the provenance of their last enablement.
CREATE TABLE prov.released (id int PRIMARY KEY, note text);
INSERT INTO prov.released VALUES (1, 'kept');
SELECT medchain.enable('prov.released');
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT medchain.disable('prov.released', 'moved to the archive') IS NOT NULL AS released;
SELECT p.kind, p.intact, p.block_height IS NOT NULL AS sealed FROM prov.released r, medchain.provenance(r) p;

-- Permissions: a role sees provenance only for rows it can read.
CREATE ROLE regress_prov_reader;
CREATE ROLE regress_prov_stranger;
GRANT USAGE ON SCHEMA prov TO regress_prov_reader, regress_prov_stranger;
GRANT SELECT ON prov.obs TO regress_prov_reader;
SET ROLE regress_prov_stranger;
SELECT (medchain.provenance(ROW(1, 'HbA1c', 6.1, '2026-01-02')::prov.obs)).kind;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Under row-level security, only the rows the policy shows, whatever
-- search_path the reader sets: every name medchain uses is qualified.
ALTER TABLE prov.obs ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_ldl ON prov.obs FOR SELECT TO regress_prov_reader USING (code = 'LDL');
CREATE SCHEMA evil;
CREATE FUNCTION evil.jsonb_populate_record(anyelement, jsonb) RETURNS anyelement
	LANGUAGE sql AS 'SELECT NULL::prov.obs';
CREATE FUNCTION evil.always(integer, integer) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.always);
GRANT USAGE ON SCHEMA evil TO regress_prov_reader;
SET ROLE regress_prov_reader;
SELECT o.obs_id, p.kind, p.intact FROM prov.obs o, medchain.provenance(o) p ORDER BY o.obs_id;
-- a record of a row the policy hides, built by hand: no answer
SELECT medchain.provenance(ROW(1, 'HbA1c', 6.1, '2026-01-02')::prov.obs) IS NULL AS hidden;
SET search_path = evil, prov, pg_catalog, public;
SELECT o.obs_id, p.kind, p.intact FROM obs o, medchain.provenance(o) p ORDER BY o.obs_id;
SELECT medchain.provenance(ROW(1, 'HbA1c', 6.1, '2026-01-02')::obs) IS NULL AS still_hidden;
RESET search_path;
RESET ROLE;
ALTER TABLE prov.obs DISABLE ROW LEVEL SECURITY;
DROP SCHEMA evil CASCADE;
