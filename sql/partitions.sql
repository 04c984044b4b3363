-- Partitioned tables: enable() on a partitioned table makes its
-- partitions, present and future, one ledger named by it.
SET medchain.difficulty = 8;
CREATE ROLE regress_part_dba LOGIN IN ROLE medchain_admin;
CREATE ROLE regress_part_clerk LOGIN;
CREATE SCHEMA part AUTHORIZATION regress_part_dba;
CREATE SCHEMA part_archive AUTHORIZATION regress_part_dba;
SET SESSION AUTHORIZATION regress_part_dba;

-- Measurements partitioned by date, with rows in two partitions; the
-- second was made apart, its columns in another order, one dropped.
CREATE TABLE part.measurement (
	measurement_id bigint NOT NULL,
	taken date NOT NULL,
	code text NOT NULL,
	value numeric,
	PRIMARY KEY (measurement_id, taken)
) PARTITION BY RANGE (taken);
CREATE TABLE part.measurement_2024 PARTITION OF part.measurement
	FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE part.measurement_2025 (value numeric, scratch int, code text NOT NULL,
	taken date NOT NULL, measurement_id bigint NOT NULL);
ALTER TABLE part.measurement_2025 DROP COLUMN scratch;
ALTER TABLE part.measurement ATTACH PARTITION part.measurement_2025
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO part.measurement VALUES (1, '2024-03-01', 'HbA1c', 6.1), (2, '2024-07-01', 'LDL', 101),
	(3, '2025-02-01', 'HbA1c', 5.8), (4, '2025-05-01', 'eGFR', 72);

-- A partition is enabled through its partitioned table, and enabling
-- that one concurrently is not supported.
SELECT medchain.enable('part.measurement_2024');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.enable('part.measurement', concurrently => true);
\echo :LAST_ERROR_SQLSTATE

-- Enabled as a whole: the baseline takes the rows of every partition,
-- and the entries name the partitioned table, with its key.
SELECT medchain.enable('part.measurement');
SELECT relation, kind, row_key, detail FROM medchain.entries
 WHERE relation LIKE 'part.%' ORDER BY entry_id;
SELECT relation, key_columns, rows_recorded FROM medchain.ledger_tables WHERE relation LIKE 'part.%';
-- The row triggers are the partitioned table's, cloned onto each
-- partition; TRUNCATE triggers are each table's own.
SELECT tgrelid::regclass AS "table", tgname, tgenabled, tgparentid <> 0 AS cloned
  FROM pg_trigger WHERE tgname LIKE 'medchain%' AND tgrelid::regclass::text LIKE 'part.%'
 ORDER BY 1, 2;
-- Once part of a ledger, a partition cannot be enabled, nor released alone.
SELECT medchain.enable('part.measurement_2025');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.disable('part.measurement_2025', 'only this year');
\echo :LAST_ERROR_SQLSTATE

-- Rows inserted through the partitioned table and straight into a
-- partition are recorded alike.
INSERT INTO part.measurement VALUES (5, '2024-09-01', 'LDL', 99);
INSERT INTO part.measurement_2025 (measurement_id, taken, code, value) VALUES (6, '2025-06-01', 'LDL', 97);
-- A partition created later is part of the ledger from the start.
CREATE TABLE part.measurement_2026 PARTITION OF part.measurement
	FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO part.measurement VALUES (7, '2026-01-15', 'HbA1c', 6.0);
-- COPY into the partitioned table, rows routed to three partitions.
COPY part.measurement (measurement_id, taken, code, value) FROM stdin;
8	2026-02-01	LDL	95
9	2024-10-01	eGFR	80
10	2025-10-01	HbA1c	5.7
\.
-- An empty table attached: only the attachment is recorded.
CREATE TABLE part.measurement_2023 (LIKE part.measurement);
ALTER TABLE part.measurement ATTACH PARTITION part.measurement_2023
	FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
-- A table attached with rows: they were never recorded, and become
-- baseline entries of the ledger, with an event naming the partition.
CREATE TABLE part.measurement_2022 (LIKE part.measurement);
INSERT INTO part.measurement_2022 VALUES (11, '2022-04-01', 'LDL', 120), (12, '2022-08-01', 'HbA1c', 7.0);
ALTER TABLE part.measurement ATTACH PARTITION part.measurement_2022
	FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
SELECT relation, kind, row_key, detail FROM medchain.entries
 WHERE relation LIKE 'part.%' AND entry_id > (SELECT min(entry_id) FROM medchain.entries
											  WHERE relation = 'part.measurement' AND kind = 'event')
 ORDER BY entry_id;
SELECT tgrelid::regclass AS "table", count(*) AS triggers, bool_and(tgenabled = 'A') AS always
  FROM pg_trigger WHERE tgname LIKE 'medchain%' AND tgrelid::regclass::text LIKE 'part.%'
 GROUP BY 1 ORDER BY 1;
SELECT relation, rows_recorded FROM medchain.ledger_tables WHERE relation LIKE 'part.%';
SELECT count(*) AS rows FROM part.measurement;
-- The same row encodes alike through the partitioned table and through
-- the partition with the other column order.
SELECT medchain.row_encoding('part.measurement', '{"measurement_id": 3, "taken": "2025-02-01"}')
	 = medchain.row_encoding('part.measurement_2025', '{"measurement_id": 3, "taken": "2025-02-01"}')
	AS same_encoding;

-- Append-only through every partition: an UPDATE that would move a row
-- to another partition is an update too.
UPDATE part.measurement SET taken = '2025-03-01' WHERE measurement_id = 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE part.measurement_2024 SET value = 6.2 WHERE measurement_id = 1;
DELETE FROM part.measurement WHERE measurement_id = 2;
TRUNCATE part.measurement_2024;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE part.measurement_2026;
TRUNCATE part.measurement_2022;
TRUNCATE part.measurement;

-- DETACH and DROP of a partition are refused, as DROP TABLE of a ledger
-- table is, and so are changes to a partition's triggers.
ALTER TABLE part.measurement DETACH PARTITION part.measurement_2024;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE part.measurement DETACH PARTITION part.measurement_2026 CONCURRENTLY;
DROP TABLE part.measurement_2024;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE part.measurement_2023, part.measurement_2026;
ALTER TABLE part.measurement_2024 DISABLE TRIGGER medchain_record;
ALTER TABLE part.measurement_2024 DISABLE TRIGGER ALL;
DROP TRIGGER medchain_no_truncate ON part.measurement_2024;
ALTER TRIGGER medchain_no_truncate ON part.measurement_2024 RENAME TO no_truncate;
CREATE RULE divert AS ON INSERT TO part.measurement_2024 DO INSTEAD NOTHING;
ALTER TABLE part.measurement_2024 SET UNLOGGED;
-- A partition in another schema, or owned by another role, goes with
-- neither.
CREATE TABLE part_archive.measurement_2021 PARTITION OF part.measurement
	FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
INSERT INTO part.measurement VALUES (21, '2021-06-01', 'LDL', 110);
DROP SCHEMA part_archive CASCADE;
RESET SESSION AUTHORIZATION;
ALTER TABLE part_archive.measurement_2021 OWNER TO regress_part_clerk;
DROP OWNED BY regress_part_clerk;
ALTER TABLE part_archive.measurement_2021 OWNER TO regress_part_dba;
-- A partition made by CREATE SCHEMA, which event triggers see as that.
CREATE SCHEMA part_more AUTHORIZATION regress_part_dba
	CREATE TABLE measurement_2030 PARTITION OF part.measurement
		FOR VALUES FROM ('2030-01-01') TO ('2031-01-01');
SET SESSION AUTHORIZATION regress_part_dba;
TRUNCATE part_more.measurement_2030;
-- Renaming a partition changes nothing recorded: the entries name the
-- partitioned table.
ALTER TABLE part_archive.measurement_2021 RENAME TO measurement_y2021;

-- What cannot become a partition of a ledger table: an unlogged table, a
-- table with rules, a ledger table of its own.
CREATE UNLOGGED TABLE part.measurement_2027 PARTITION OF part.measurement
	FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE part.staging (LIKE part.measurement);
CREATE RULE divert AS ON INSERT TO part.staging DO INSTEAD NOTHING;
ALTER TABLE part.measurement ATTACH PARTITION part.staging
	FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE part.staging;
CREATE TABLE part.imported (LIKE part.measurement INCLUDING INDEXES);
SELECT medchain.enable('part.imported');
ALTER TABLE part.measurement ATTACH PARTITION part.imported
	FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.disable('part.imported', 'stays a table of its own') > 0 AS released;
-- A partition enabled on its own before 1.5 stays a ledger table of its
-- own: its partitioned table cannot be enabled over it.  (Its
-- registration is made here as 1.4 made it, its triggers left out.)
RESET SESSION AUTHORIZATION;
CREATE TABLE part.legacy (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE part.legacy_low PARTITION OF part.legacy FOR VALUES FROM (0) TO (100);
BEGIN;
INSERT INTO medchain.ledger_registry (relid, relation, key_columns, enabled_at, enabled_by, enablement_id)
	VALUES ('part.legacy_low'::regclass, 'part.legacy_low', '{id}', now(), current_user, 1);
SELECT medchain.enable('part.legacy');
ROLLBACK;
-- and whoever enables a partitioned table must own its partitions too
CREATE TABLE part.notes (note_id int PRIMARY KEY, body text) PARTITION BY RANGE (note_id);
CREATE TABLE part.notes_low PARTITION OF part.notes FOR VALUES FROM (0) TO (100);
ALTER TABLE part.notes OWNER TO regress_part_dba;
ALTER TABLE part.notes_low OWNER TO regress_part_clerk;
SET SESSION AUTHORIZATION regress_part_dba;
SELECT medchain.enable('part.notes');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- Sealed and verified through the partitioned table: clean.
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT * FROM medchain.verify('part.measurement');
SELECT * FROM medchain.verify('part.measurement_2024');

-- A superuser gets past the triggers of one partition: a row slipped in
-- with the cloned recording trigger disabled there, a row altered and
-- another deleted with the append-only trigger disabled.  verify()
-- finds each, named by the partitioned table, whichever table it is
-- asked about.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE part.measurement_2025 DISABLE TRIGGER medchain_record;
INSERT INTO part.measurement VALUES (13, '2025-11-01', 'LDL', 90);
ALTER TABLE part.measurement_2024 DISABLE TRIGGER medchain_append_only;
UPDATE part.measurement_2024 SET value = 6.9 WHERE measurement_id = 1;
DELETE FROM part.measurement WHERE measurement_id = 9;
SELECT finding, relation, row_key, detail FROM medchain.verify()
 WHERE relation LIKE 'part%' ORDER BY finding;
SELECT finding, relation, row_key FROM medchain.verify('part.measurement_2022') ORDER BY finding;
-- provenance() says the same of each row
SELECT m.measurement_id, p.kind, p.intact
  FROM part.measurement m CROSS JOIN LATERAL medchain.provenance(m) p
 WHERE m.measurement_id IN (1, 13) ORDER BY 1;
ROLLBACK;

-- Proofs and provenance through the partitioned table, and through a
-- partition: its rows are the ledger's.
SELECT medchain.verify_proof(medchain.proof('part.measurement',
	'{"measurement_id": 11, "taken": "2022-04-01"}')) AS proof_holds;
SELECT medchain.verify_proof(medchain.proof('part.measurement_2025',
	'{"measurement_id": 6, "taken": "2025-06-01"}')) AS proof_holds;
SELECT (medchain.proof('part.measurement_2025',
	'{"measurement_id": 6, "taken": "2025-06-01"}'))->'entry'->>'table' AS proof_names;
SELECT m.measurement_id, m.taken, p.kind, p.block_height IS NOT NULL AS sealed, p.intact
  FROM part.measurement m CROSS JOIN LATERAL medchain.provenance(m) p ORDER BY 1;
SELECT m.measurement_id, p.entry_id = e.entry_id AS same_entry, p.intact
  FROM part.measurement_2025 m CROSS JOIN LATERAL medchain.provenance(m) p
  JOIN medchain.entries e ON e.relation = 'part.measurement'
   AND e.row_key = jsonb_build_object('measurement_id', m.measurement_id, 'taken', m.taken)
 ORDER BY 1;
SELECT count(*) AS rows, bool_and((medchain.provenance(m)).intact) AS intact
  FROM part_archive.measurement_y2021 m;

-- Multi-level: a partition that is itself partitioned, created later;
-- rows at the bottom are the ledger's, its own partitions too.
SET SESSION AUTHORIZATION regress_part_dba;
CREATE TABLE part.measurement_2029 PARTITION OF part.measurement
	FOR VALUES FROM ('2029-01-01') TO ('2030-01-01') PARTITION BY HASH (measurement_id);
CREATE TABLE part.measurement_2029_a PARTITION OF part.measurement_2029
	FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE part.measurement_2029_b PARTITION OF part.measurement_2029
	FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO part.measurement VALUES (14, '2029-01-01', 'LDL', 88), (15, '2029-02-01', 'HbA1c', 5.5);
INSERT INTO part.measurement_2029 VALUES (16, '2029-03-01', 'LDL', 87);
SELECT relation, kind, row_key FROM medchain.entries
 WHERE relation LIKE 'part.%' AND (row_key->>'measurement_id')::int BETWEEN 14 AND 20 ORDER BY entry_id;
SELECT count(*) AS rows FROM part.measurement_2029_a;
ALTER TABLE part.measurement_2029 DETACH PARTITION part.measurement_2029_b;
TRUNCATE part.measurement_2029_a;
SELECT medchain.enable('part.measurement_2029');
RESET SESSION AUTHORIZATION;
SELECT count(*) AS findings FROM medchain.verify('part.measurement');

-- A hostile search_path: operators of the caller's own, first on the
-- path, are never what medchain's queries run.  (The first query shows
-- that the path does reach them.)
SET SESSION AUTHORIZATION regress_part_dba;
CREATE FUNCTION part.eq_bigint(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'hostile bigint operator ran as %', current_user;
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR part.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = part.eq_bigint);
CREATE FUNCTION part.eq_date(date, date) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'hostile date operator ran as %', current_user;
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR part.= (LEFTARG = date, RIGHTARG = date, FUNCTION = part.eq_date);
CREATE FUNCTION part.eq_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'hostile text operator ran as %', current_user;
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR part.= (LEFTARG = text, RIGHTARG = text, FUNCTION = part.eq_text);
CREATE FUNCTION part.eq_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'hostile oid operator ran as %', current_user;
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR part.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = part.eq_oid);
SET search_path = part, pg_catalog;
SELECT 1::bigint = 1::bigint AS reached;
CREATE TABLE vitals (vital_id bigint, taken date, pulse int, PRIMARY KEY (vital_id, taken))
	PARTITION BY RANGE (taken);
CREATE TABLE vitals_2024 PARTITION OF vitals FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO vitals VALUES (1, '2024-05-01', 70);
SELECT medchain.enable('vitals');
CREATE TABLE vitals_2025 PARTITION OF vitals FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE vitals_2023 (LIKE vitals);
INSERT INTO vitals_2023 VALUES (2, '2023-05-01', 71);
ALTER TABLE vitals ATTACH PARTITION vitals_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
INSERT INTO vitals VALUES (3, '2025-05-01', 72);
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT medchain.verify_proof(medchain.proof('vitals_2023', '{"vital_id": 2, "taken": "2023-05-01"}'))
	AS proof_holds;
SELECT v.vital_id, p.kind, p.intact FROM vitals v CROSS JOIN LATERAL medchain.provenance(v) p ORDER BY 1;
SELECT medchain.disable('vitals', 'hostile path test') > 0 AS released;
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS findings FROM medchain.verify() WHERE relation LIKE 'part%';

-- disable() on the partitioned table releases the whole ledger: the
-- triggers go from every partition, the entries stay.
SET SESSION AUTHORIZATION regress_part_dba;
SELECT medchain.disable('part.measurement', 'moved to the archive') > 0 AS released;
SELECT count(*) AS medchain_triggers FROM pg_trigger
 WHERE tgname LIKE 'medchain%' AND tgrelid::regclass::text LIKE 'part%measurement%';
SELECT relation FROM medchain.ledger_tables WHERE relation LIKE 'part.%';
SELECT count(*) AS entries FROM medchain.entries WHERE relation = 'part.measurement';
TRUNCATE part.measurement_2024;
ALTER TABLE part.measurement DETACH PARTITION part.measurement_2022;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS findings FROM medchain.verify() WHERE relation LIKE 'part%';
