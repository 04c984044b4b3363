-- scripts/demo_tamper.sql: the second half of scripts/demo.sh.
\pset footer off
\set ECHO queries

\echo
\echo '### 5. Rows can only be appended: the correction is refused'
\set ON_ERROR_STOP 0
UPDATE cdm.measurement SET value_as_number = 6.1 WHERE measurement_id = 900001;
DELETE FROM cdm.person WHERE person_id = 7;
TRUNCATE cdm.drug_exposure;
ALTER TABLE cdm.measurement DROP COLUMN value_as_number;
\set ON_ERROR_STOP 1

\echo
\echo '### 6. A superuser goes around every guard and alters the sealed result'
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE cdm.measurement DISABLE TRIGGER medchain_append_only;
UPDATE cdm.measurement SET value_as_number = 6.1 WHERE measurement_id = 900001;
ALTER TABLE cdm.measurement ENABLE ALWAYS TRIGGER medchain_append_only;
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;

\echo
\echo '### 7. The compliance check names exactly what was altered'
SELECT * FROM medchain.verify();
-- The chain itself is untouched: the digest taken before still holds.
SELECT medchain.verify_digest(medchain.digest()) AS chain_intact;

