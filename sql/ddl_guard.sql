-- DDL that would change recorded rows or break their verification is
-- refused on ledger tables; harmless DDL goes through; released tables are
-- free again.
CREATE SCHEMA ward;
CREATE TYPE ward.acuity AS ENUM ('low', 'high');
CREATE TABLE ward.admissions (id int PRIMARY KEY, person_id int NOT NULL, acuity ward.acuity, note text);
CREATE INDEX admissions_person_idx ON ward.admissions (person_id);
INSERT INTO ward.admissions VALUES (1, 10, 'low', 'admitted');
SELECT medchain.enable('ward.admissions');

-- Refused, SQLSTATE 55000, nothing changed.
ALTER TABLE ward.admissions DROP COLUMN note;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE ward.admissions RENAME COLUMN note TO remark;
ALTER TABLE ward.admissions ALTER COLUMN note TYPE varchar(100);
ALTER TABLE ward.admissions ADD COLUMN bed int DEFAULT 0;
ALTER TABLE ward.admissions ADD COLUMN bed int NOT NULL;
ALTER TABLE ward.admissions ADD COLUMN bed serial;
ALTER TABLE ward.admissions ADD COLUMN bed int GENERATED ALWAYS AS (id * 2) STORED;
ALTER TABLE ward.admissions ADD COLUMN bed int GENERATED ALWAYS AS IDENTITY;
ALTER TABLE ward.admissions RENAME TO admissions_old;
ALTER TABLE ward.admissions SET SCHEMA public;
ALTER SCHEMA ward RENAME TO ward_old;
ALTER TABLE ward.admissions DISABLE TRIGGER medchain_append_only;
ALTER TABLE ward.admissions DISABLE TRIGGER ALL;
ALTER TABLE ward.admissions DISABLE TRIGGER USER;
ALTER TABLE ward.admissions ENABLE TRIGGER medchain_record;
-- (ENABLE TRIGGER would turn ENABLE ALWAYS back into ENABLE ORIGIN.)
ALTER TABLE ward.admissions ENABLE TRIGGER ALL;
ALTER TRIGGER medchain_record ON ward.admissions RENAME TO other_name;
DROP TRIGGER medchain_append_only ON ward.admissions;
ALTER TABLE ward.admissions SET UNLOGGED;
ALTER TABLE ward.admissions REPLICA IDENTITY FULL;
ALTER TABLE ward.admissions DROP CONSTRAINT admissions_pkey;
DROP INDEX ward.admissions_pkey;
ALTER TYPE ward.acuity RENAME VALUE 'low' TO 'minor';
DROP TABLE ward.admissions;
\echo :LAST_ERROR_SQLSTATE
DROP SCHEMA ward CASCADE;
DROP TYPE ward.acuity CASCADE;
DROP EXTENSION medchain CASCADE;
-- session_replication_role does not switch the guard off.
SET session_replication_role = replica;
ALTER TABLE ward.admissions DROP COLUMN note;
RESET session_replication_role;
-- A transaction that tries stays unchanged.
BEGIN;
ALTER TABLE ward.admissions ADD COLUMN ok_col text;
ALTER TABLE ward.admissions DROP COLUMN note;
ROLLBACK;
SELECT attname FROM pg_attribute WHERE attrelid = 'ward.admissions'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'ward.admissions'::regclass AND NOT tgisinternal ORDER BY tgname;

-- Allowed: changes that leave recorded rows and their hashes alone.
ALTER TABLE ward.admissions ADD COLUMN discharge_note text;
ALTER TABLE ward.admissions ALTER COLUMN note SET STORAGE EXTERNAL;
ALTER TABLE ward.admissions ALTER COLUMN note SET STATISTICS 500;
ALTER TABLE ward.admissions ADD CONSTRAINT person_positive CHECK (person_id > 0);
ALTER TYPE ward.acuity ADD VALUE 'critical';
CREATE INDEX admissions_note_idx ON ward.admissions (note);
DROP INDEX ward.admissions_person_idx;
COMMENT ON TABLE ward.admissions IS 'inpatient admissions';
-- Other tables in the schema are untouched by the guard.
CREATE TABLE ward.scratch (id int);
ALTER TABLE ward.scratch ADD COLUMN x int DEFAULT 1;
ALTER TABLE ward.scratch RENAME TO scratch2;
DROP TABLE ward.scratch2;
INSERT INTO ward.admissions (id, person_id, acuity, discharge_note) VALUES (2, 11, 'critical', 'home');
SELECT count(*) AS mismatches FROM medchain.entries e
 WHERE e.relation = 'ward.admissions' AND e.kind <> 'event'
   AND sha256(medchain.row_encoding('ward.admissions', e.row_key)) <> e.row_hash;

-- Once released, the table is an ordinary table again.
SELECT medchain.disable('ward.admissions', 'moving admissions to the archive schema') > 0 AS released;
ALTER TABLE ward.admissions DROP COLUMN discharge_note;
ALTER TABLE ward.admissions RENAME TO admissions_archive;
UPDATE ward.admissions_archive SET note = 'edited after release' WHERE id = 1;
DROP SCHEMA ward CASCADE;
-- Its entries stay in the journal.
SELECT kind, count(*) FROM medchain.entries WHERE relation = 'ward.admissions' GROUP BY kind ORDER BY kind;

-- Called by hand, the event trigger functions refuse to run.
SELECT medchain.guard_ddl();
SELECT medchain.guard_drop();

-- A type's definition is part of what its recorded values encode to: DDL
-- that changes it is refused however deep a ledger table holds the type
-- (through a domain, an array, a composite, a range), and allowed again
-- once no ledger table does.
CREATE SCHEMA deep;
CREATE TYPE deep.mood AS ENUM ('calm', 'upset');
CREATE DOMAIN deep.mood_d AS deep.mood;
CREATE TYPE deep.vitals AS (pulse int, note text);
CREATE DOMAIN deep.vitals_d AS deep.vitals;
CREATE TYPE deep.pain AS ENUM ('none', 'mild', 'severe');
CREATE TYPE deep.pain_range AS RANGE (subtype = deep.pain);
CREATE TYPE deep.observation AS (moods deep.mood_d[], vitals deep.vitals_d, pain deep.pain_range);
CREATE TABLE deep.rounds (id int PRIMARY KEY, obs deep.observation);
INSERT INTO deep.rounds VALUES (1, ROW(ARRAY['calm']::deep.mood_d[], ROW(72, 'ok'), '[none,mild]'));
SELECT medchain.enable('deep.rounds');
ALTER TYPE deep.vitals ADD ATTRIBUTE bp int;
\echo :LAST_ERROR_SQLSTATE
ALTER TYPE deep.vitals DROP ATTRIBUTE note;
ALTER TYPE deep.vitals RENAME ATTRIBUTE pulse TO heart_rate;
ALTER TYPE deep.vitals ALTER ATTRIBUTE pulse TYPE bigint;
ALTER TYPE deep.observation RENAME ATTRIBUTE moods TO mood_list;
ALTER TYPE deep.mood RENAME VALUE 'calm' TO 'settled';
ALTER TYPE deep.pain RENAME VALUE 'mild' TO 'moderate';
-- adding an enum label changes no recorded value
ALTER TYPE deep.mood ADD VALUE 'tired';
-- types no ledger table holds are free
CREATE TYPE deep.unused AS (a int);
ALTER TYPE deep.unused ADD ATTRIBUTE b int;
SELECT count(*) AS findings FROM medchain.verify('deep.rounds');
SELECT medchain.disable('deep.rounds', 'types to be revised') > 0 AS released;
ALTER TYPE deep.mood RENAME VALUE 'calm' TO 'settled';
DROP SCHEMA deep CASCADE;
