-- scripts/demo.sql: what scripts/demo.sh shows, against the sample EHR.
\pset footer off
\set ECHO queries

\echo
\echo '### 1. A DBA makes the EHR tables ledger tables; existing rows are recorded as baseline entries'
CREATE EXTENSION medchain;
SELECT medchain.enable('cdm.person') AS person_rows,
       medchain.enable('cdm.visit_occurrence') AS visit_rows,
       medchain.enable('cdm.condition_occurrence') AS condition_rows,
       medchain.enable('cdm.drug_exposure') AS drug_rows,
       medchain.enable('cdm.measurement') AS measurement_rows;
SELECT * FROM medchain.ledger_tables ORDER BY relation;

\echo
\echo '### 2. A clinician records a new HbA1c result: the C trigger journals it'
INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
        measurement_date, measurement_type_concept_id, value_as_number,
        unit_concept_id, measurement_source_value, unit_source_value)
VALUES (900001, 7, 3004410, date '2026-11-20', 32817, 7.9, 8554, 'HbA1c', '%');
SELECT entry_id, kind, relation, row_key, encode(row_hash, 'hex') AS row_hash,
       recorded_by, block_height
  FROM medchain.entries
 WHERE relation = 'cdm.measurement' AND row_key = '{"measurement_id": 900001}';

\echo
\echo '### 3. The row hash is SHA-256 of the canonical row encoding (docs/FORMAT.md)'
SELECT encode(sha256(medchain.row_encoding('cdm.measurement', '{"measurement_id": 900001}')), 'hex')
       = encode(row_hash, 'hex') AS recomputed_hash_matches
  FROM medchain.entries
 WHERE relation = 'cdm.measurement' AND row_key = '{"measurement_id": 900001}';

\echo
\echo '### 4. Rows can only be appended: the correction is refused'
\set ON_ERROR_STOP 0
UPDATE cdm.measurement SET value_as_number = 6.1 WHERE measurement_id = 900001;
DELETE FROM cdm.person WHERE person_id = 7;
TRUNCATE cdm.drug_exposure;
ALTER TABLE cdm.measurement DROP COLUMN value_as_number;
\set ON_ERROR_STOP 1

\echo
\echo '### 5. A superuser goes around every guard and alters a recorded row'
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE cdm.measurement DISABLE TRIGGER medchain_append_only;
UPDATE cdm.measurement SET value_as_number = 6.1 WHERE measurement_id = 900001;
ALTER TABLE cdm.measurement ENABLE ALWAYS TRIGGER medchain_append_only;
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;

\echo
\echo '### 6. Recomputing every row hash against the journal names the altered row'
SELECT e.relation, e.row_key, e.entry_id,
       encode(e.row_hash, 'hex') AS recorded_hash,
       encode(sha256(medchain.row_encoding(e.relation::regclass, e.row_key)), 'hex') AS current_hash
  FROM medchain.entries e
 WHERE e.kind IN ('baseline', 'insert')
   AND sha256(medchain.row_encoding(e.relation::regclass, e.row_key)) IS DISTINCT FROM e.row_hash;
