-- provenance(t) as the planner makes it in a SELECT: provenance_at(t's
-- table, t's ctid), which answers as provenance() of the row itself.
SET medchain.difficulty = 8;
CREATE SCHEMA plan;
-- A column dropped before the table is enabled; a long note stored out of
-- line.
CREATE TABLE plan.lab (lab_id int PRIMARY KEY, retired int, code text NOT NULL, value numeric, note text);
ALTER TABLE plan.lab DROP COLUMN retired;
INSERT INTO plan.lab VALUES (1, 'HbA1c', 6.1, NULL),
	(2, 'LDL', 101, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g));
-- A column added with a default after the first rows: they store none.
ALTER TABLE plan.lab ADD COLUMN unit text NOT NULL DEFAULT 'mg/dL';
SELECT medchain.enable('plan.lab');
SELECT medchain.seal() IS NOT NULL AS sealed;
INSERT INTO plan.lab VALUES (3, 'eGFR', 72, 'pending', 'mL/min');
SELECT pg_relation_size(reltoastrelid) > 0 AS note_out_of_line FROM pg_class WHERE oid = 'plan.lab'::regclass;

-- (f(l)).* passes l's ctid, not the row l built anew at every call.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT l.lab_id, (medchain.provenance(l)).kind, (medchain.provenance(l)).intact FROM plan.lab l;
SELECT l.lab_id, (medchain.provenance(l)).kind, (medchain.provenance(l)).block_height IS NOT NULL AS sealed,
	   (medchain.provenance(l)).intact
  FROM plan.lab l ORDER BY l.lab_id;
-- The same answers as for the rows built by hand, which are passed whole.
SELECT count(*) AS differences FROM (
	(SELECT l.lab_id, (medchain.provenance(l)).* FROM plan.lab l
	 EXCEPT
	 SELECT l.lab_id, (medchain.provenance(ROW(l.lab_id, l.code, l.value, l.note, l.unit)::plan.lab)).* FROM plan.lab l)
	UNION ALL
	(SELECT l.lab_id, (medchain.provenance(ROW(l.lab_id, l.code, l.value, l.note, l.unit)::plan.lab)).* FROM plan.lab l
	 EXCEPT
	 SELECT l.lab_id, (medchain.provenance(l)).* FROM plan.lab l)) d;
-- In FROM, and as a whole.
SELECT l.lab_id, p.kind, p.intact FROM plan.lab l, medchain.provenance(l) p ORDER BY l.lab_id;
SELECT medchain.provenance(l) IS NOT NULL AS answered FROM plan.lab l WHERE lab_id = 1;
-- A row changed behind medchain's back no longer hashes to its entry.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE plan.lab DISABLE TRIGGER medchain_append_only;
UPDATE plan.lab SET note = note || '.' WHERE lab_id = 2;
UPDATE plan.lab SET unit = 'mmol/L' WHERE lab_id = 1;
SELECT l.lab_id, (medchain.provenance(l)).intact FROM plan.lab l ORDER BY l.lab_id;
ROLLBACK;
-- The NULL row of an outer join has no provenance.
SELECT v.id, (medchain.provenance(l)).kind FROM (VALUES (1), (9)) v(id)
  LEFT JOIN plan.lab l ON l.lab_id = v.id ORDER BY v.id;

-- Rows a query locks, or writes, can be newer than its snapshot: passed whole.
EXPLAIN (VERBOSE, COSTS OFF) SELECT (medchain.provenance(l)).kind FROM plan.lab l FOR SHARE;
EXPLAIN (VERBOSE, COSTS OFF)
INSERT INTO plan.lab VALUES (4, 'LDL', 99, NULL, 'mg/dL') RETURNING (medchain.provenance(lab)).kind;
-- The row of a table with children may be a child's: passed whole.
CREATE TABLE plan.parent (id int PRIMARY KEY);
CREATE TABLE plan.child () INHERITS (plan.parent);
EXPLAIN (VERBOSE, COSTS OFF) SELECT (medchain.provenance(p)).kind FROM plan.parent p;
EXPLAIN (VERBOSE, COSTS OFF) SELECT (medchain.provenance(p)).kind FROM ONLY plan.parent p;

-- provenance_at() called by hand: the row at that ctid, as the query sees it.
SELECT l.lab_id, p.kind, p.intact FROM plan.lab l, medchain.provenance_at('plan.lab', l.ctid) p
 WHERE l.lab_id = 1;
SELECT medchain.provenance_at('plan.lab', '(4242,1)') IS NULL AS past_the_end,
	   medchain.provenance_at('plan.lab', '(0,99)') IS NULL AS past_the_page;
SELECT medchain.provenance_at('plan.lab', NULL) IS NULL AS null_ctid;
CREATE VIEW plan.lab_view AS SELECT * FROM plan.lab;
SELECT medchain.provenance_at('plan.lab_view', '(0,1)');
\echo :LAST_ERROR_SQLSTATE

-- Reading the whole row still takes SELECT on every column; reading
-- provenance takes SELECT on the table, as provenance() does.
CREATE ROLE regress_plan_partial;
GRANT USAGE ON SCHEMA plan TO regress_plan_partial;
GRANT SELECT (lab_id, code) ON plan.lab TO regress_plan_partial;
SET ROLE regress_plan_partial;
SELECT l.lab_id, (medchain.provenance(l)).kind FROM plan.lab l;
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.provenance_at('plan.lab', '(0,1)');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Under row-level security, a ctid of a row the policy hides has no answer.
CREATE ROLE regress_plan_reader;
GRANT USAGE ON SCHEMA plan TO regress_plan_reader;
GRANT SELECT ON plan.lab TO regress_plan_reader;
ALTER TABLE plan.lab ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_ldl ON plan.lab FOR SELECT TO regress_plan_reader USING (code = 'LDL');
SET ROLE regress_plan_reader;
SELECT l.lab_id, (medchain.provenance(l)).intact FROM plan.lab l ORDER BY l.lab_id;
SELECT (SELECT ctid FROM plan.lab WHERE lab_id = 1) IS NULL AS hidden,
	   medchain.provenance_at('plan.lab', '(0,1)') IS NULL AS no_answer;
RESET ROLE;
ALTER TABLE plan.lab DISABLE ROW LEVEL SECURITY;

-- No name is looked up where the caller's search_path could move it.
CREATE SCHEMA evil;
CREATE FUNCTION evil.provenance_at(regclass, tid) RETURNS record
	LANGUAGE sql AS 'SELECT NULL::record';
SET search_path = evil, plan, pg_catalog, public;
EXPLAIN (VERBOSE, COSTS OFF) SELECT (medchain.provenance(l)).kind FROM lab l;
SELECT l.lab_id, (medchain.provenance(l)).intact FROM lab l ORDER BY l.lab_id;
RESET search_path;
DROP SCHEMA evil CASCADE;
