-- Bulk statements: COPY, INSERT ... SELECT, multi-row VALUES, MERGE and
-- writable CTEs are recorded by one statement trigger, one entry per row,
-- the same entries as rows inserted one at a time.
CREATE SCHEMA bulk;
CREATE TABLE bulk.labs (
	lab_id bigint PRIMARY KEY,
	person_id integer NOT NULL,
	loinc text NOT NULL,
	value numeric,
	unit text,
	taken_at timestamptz NOT NULL DEFAULT '2026-12-01 08:00+00',
	flag text GENERATED ALWAYS AS (CASE WHEN value > 200 THEN 'high' END) STORED
);
SELECT medchain.enable('bulk.labs');
SELECT tgname, tgtype & 1 = 1 AS for_each_row, tgfoid::regproc
  FROM pg_trigger WHERE tgrelid = 'bulk.labs'::regclass ORDER BY tgname;

-- Every entry of the table, checked against its row: one entry per row,
-- kind insert, hashing the row as stored (defaults and generated columns
-- included).
CREATE FUNCTION bulk.lab_entries_check(OUT rows bigint, OUT entries bigint,
	OUT distinct_keys bigint, OUT mismatches bigint) LANGUAGE sql AS $$
SELECT (SELECT count(*) FROM bulk.labs),
	   count(*), count(DISTINCT row_key),
	   count(*) FILTER (WHERE sha256(medchain.row_encoding('bulk.labs', row_key)) <> row_hash)
  FROM medchain.entries WHERE relation = 'bulk.labs' AND kind = 'insert'
$$;

-- COPY
COPY bulk.labs (lab_id, person_id, loinc, value, unit) FROM stdin;
1	1	2345-7	95	mg/dL
2	1	2160-0	1.1	mg/dL
3	2	2345-7	250	mg/dL
\.
-- INSERT ... SELECT of more rows than the journal writes at once
INSERT INTO bulk.labs (lab_id, person_id, loinc, value, unit)
SELECT 1000 + g, g % 50, '2345-7', 70 + g % 200, 'mg/dL' FROM generate_series(1, 2500) g;
-- multi-row VALUES
INSERT INTO bulk.labs (lab_id, person_id, loinc, value) VALUES (10, 3, '718-7', 13.5), (11, 3, '718-7', NULL);
-- a statement that inserts nothing
INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT 1, 1, 'x' WHERE false;
SELECT * FROM bulk.lab_entries_check();

-- ON CONFLICT DO NOTHING: only the rows inserted are recorded.
INSERT INTO bulk.labs (lab_id, person_id, loinc, value)
SELECT g, 4, '2345-7', 99 FROM generate_series(9, 13) g ON CONFLICT DO NOTHING;
SELECT row_key FROM medchain.entries
 WHERE relation = 'bulk.labs' AND row_key->>'lab_id' IN ('9', '12', '13') ORDER BY 1;

-- MERGE that only inserts, and a writable CTE inserting twice into the table.
MERGE INTO bulk.labs l
USING (SELECT g AS lab_id FROM generate_series(20, 22) g) s ON l.lab_id = s.lab_id
WHEN NOT MATCHED THEN INSERT (lab_id, person_id, loinc, value) VALUES (s.lab_id, 5, '2345-7', 101);
WITH a AS (INSERT INTO bulk.labs (lab_id, person_id, loinc) VALUES (30, 6, '2345-7') RETURNING lab_id)
INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT lab_id + 1, 6, '2345-7' FROM a;
SELECT * FROM bulk.lab_entries_check();

-- Rolled back: a savepoint, a failed statement, a PL/pgSQL exception block.
-- Their rows leave no entry.
BEGIN;
INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT 5000 + g, 1, 'kept' FROM generate_series(1, 3) g;
SAVEPOINT s;
INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT 6000 + g, 1, 'undone' FROM generate_series(1, 1500) g;
ROLLBACK TO SAVEPOINT s;
COMMIT;
INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT g, 1, 'duplicate' FROM generate_series(7000, 7001) g
UNION ALL SELECT 1, 1, 'duplicate';
DO $$
BEGIN
	BEGIN
		INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT 8000 + g, 1, 'undone' FROM generate_series(1, 10) g;
		RAISE EXCEPTION 'abandon the block';
	EXCEPTION WHEN raise_exception THEN NULL;
	END;
	INSERT INTO bulk.labs (lab_id, person_id, loinc) VALUES (8100, 1, 'kept');
END
$$;
SELECT count(*) FILTER (WHERE id BETWEEN 5000 AND 5999) AS kept_savepoint,
	   count(*) FILTER (WHERE id BETWEEN 6000 AND 7999) AS undone,
	   count(*) FILTER (WHERE id BETWEEN 8000 AND 8099) AS undone_block,
	   count(*) FILTER (WHERE id = 8100) AS kept_block
  FROM (SELECT (row_key->>'lab_id')::int AS id FROM medchain.entries
		 WHERE relation = 'bulk.labs' AND kind = 'insert') e;
SELECT * FROM bulk.lab_entries_check();

-- A statement's entries share its transaction, and ids are distinct.
BEGIN;
INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT 20000 + g, 1, 'x' FROM generate_series(1, 1200) g;
SELECT count(*) AS entries, count(DISTINCT entry_id) AS ids,
	   bool_and(xact = pg_current_xact_id()) AS this_xact,
	   count(DISTINCT recorded_at) AS timestamps
  FROM medchain.entries
 WHERE relation = 'bulk.labs' AND kind = 'insert' AND (row_key->>'lab_id')::int > 20000;
COMMIT;

-- Another trigger reading the same transition table sees every row too.
CREATE TABLE bulk.lab_counts (n bigint);
CREATE FUNCTION bulk.count_new_labs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bulk.lab_counts SELECT count(*) FROM new_labs;
	RETURN NULL;
END
$$;
CREATE TRIGGER a_count AFTER INSERT ON bulk.labs REFERENCING NEW TABLE AS new_labs
	FOR EACH STATEMENT EXECUTE FUNCTION bulk.count_new_labs();
CREATE TRIGGER z_count AFTER INSERT ON bulk.labs REFERENCING NEW TABLE AS new_labs
	FOR EACH STATEMENT EXECUTE FUNCTION bulk.count_new_labs();
INSERT INTO bulk.labs (lab_id, person_id, loinc) SELECT 30000 + g, 1, 'x' FROM generate_series(1, 40) g;
SELECT n FROM bulk.lab_counts;
SELECT count(*) AS recorded FROM medchain.entries
 WHERE relation = 'bulk.labs' AND kind = 'insert' AND (row_key->>'lab_id')::int > 30000;

-- Sealed and verified like any other entries; a bulk-recorded row proves.
SET medchain.difficulty = 8;
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT * FROM medchain.verify('bulk.labs');
SELECT medchain.verify_proof(medchain.proof('bulk.labs', '{"lab_id": 1500}')) AS proof_holds;
SELECT * FROM bulk.lab_entries_check();

-- A partitioned table: rows routed through it fire the partition's row
-- triggers only, so it is recorded by a row trigger, cloned onto each
-- partition (sql/partitions.sql has the rest).
CREATE TABLE bulk.vitals (vital_id bigint, taken date NOT NULL, pulse int,
	PRIMARY KEY (vital_id, taken)) PARTITION BY RANGE (taken);
CREATE TABLE bulk.vitals_2026 PARTITION OF bulk.vitals
	FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT medchain.enable('bulk.vitals');
SELECT tgname, tgtype & 1 = 1 AS for_each_row, tgfoid::regproc
  FROM pg_trigger WHERE tgrelid = 'bulk.vitals_2026'::regclass AND tgname = 'medchain_record';
INSERT INTO bulk.vitals SELECT g, date '2026-03-01' + g, 60 + g FROM generate_series(1, 30) g;
COPY bulk.vitals FROM stdin;
100	2026-06-01	72
\.
SELECT count(*) AS recorded FROM medchain.entries WHERE relation = 'bulk.vitals' AND kind = 'insert';
SELECT * FROM medchain.verify('bulk.vitals');

-- A ledger table cannot become a partition: it would be a ledger of its
-- own inside another, and its statement trigger would not see routed rows.
CREATE TABLE bulk.vitals_2025 (LIKE bulk.vitals);
ALTER TABLE bulk.vitals_2025 ADD PRIMARY KEY (vital_id, taken);
SELECT medchain.enable('bulk.vitals_2025');
ALTER TABLE bulk.vitals ATTACH PARTITION bulk.vitals_2025
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
\echo :LAST_ERROR_SQLSTATE

-- The recording function refuses to run any other way.
SELECT medchain.record_rows();
CREATE TABLE bulk.misused (id int PRIMARY KEY);
CREATE TRIGGER misuse AFTER INSERT ON bulk.misused FOR EACH STATEMENT
	EXECUTE FUNCTION medchain.record_rows();
INSERT INTO bulk.misused VALUES (1);
CREATE OR REPLACE TRIGGER misuse AFTER INSERT ON bulk.misused FOR EACH ROW
	EXECUTE FUNCTION medchain.record_rows();
INSERT INTO bulk.misused VALUES (1);
SELECT count(*) FROM bulk.misused;

DROP TRIGGER a_count ON bulk.labs;
DROP TRIGGER z_count ON bulk.labs;

-- Enabling concurrently: the same journal as enable(), written in steps
-- of their own transactions by a background worker while inserts go on.
CREATE TABLE bulk.orders (order_id bigint PRIMARY KEY, person_id int NOT NULL, code text);
INSERT INTO bulk.orders SELECT g, g % 30, 'c' || g FROM generate_series(1, 3000) g;
BEGIN;
SELECT medchain.enable('bulk.orders', concurrently => true);
ROLLBACK;
SELECT medchain.enable('bulk.orders', concurrently => NULL);
WITH w AS (INSERT INTO bulk.orders VALUES (9999, 1, 'x') RETURNING 1)
SELECT medchain.enable('bulk.orders', concurrently => true) FROM w;
SELECT medchain.enable('bulk.orders', concurrently => true);
SELECT relation, state, rows_recorded, baseline_blocks, baseline_error
  FROM medchain.ledger_tables WHERE relation = 'bulk.orders';
SELECT detail FROM medchain.entries WHERE relation = 'bulk.orders' AND kind = 'event' ORDER BY entry_id;
SELECT count(*) AS baseline, count(DISTINCT row_key) AS keys,
	   count(*) FILTER (WHERE sha256(medchain.row_encoding('bulk.orders', row_key)) <> row_hash) AS mismatches,
	   bool_and(recorded_by = session_user) AS recorded_by_caller
  FROM medchain.entries WHERE relation = 'bulk.orders' AND kind = 'baseline';
SELECT count(*) AS progress_rows FROM medchain.enable_progress;
SELECT medchain.enable('bulk.orders', concurrently => true);
INSERT INTO bulk.orders VALUES (3001, 1, 'after');
UPDATE bulk.orders SET code = 'changed' WHERE order_id = 1;
SELECT * FROM medchain.verify('bulk.orders');
