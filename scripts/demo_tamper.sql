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
\echo '### 5b. A versioned table takes corrections, keeping every version with its reason'
CREATE TABLE cdm.note (note_id bigint PRIMARY KEY, person_id bigint NOT NULL, note_text text);
INSERT INTO cdm.note VALUES (1, 7, 'BP 120/80, HbA1c to be repeated');
SELECT medchain.enable('cdm.note', mode => 'versioned');
BEGIN;
SET LOCAL medchain.reason = 'transcription error: BP was 130/80';
UPDATE cdm.note SET note_text = 'BP 130/80, HbA1c to be repeated' WHERE note_id = 1;
COMMIT;
SELECT kind, recorded_by, reason, current, intact, row_data ->> 'note_text' AS note_text
  FROM medchain.history('cdm.note', '{"note_id": 1}');

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
-- The report a compliance officer files (psql -XAtc 'SELECT medchain.compliance_report_text()' > report.txt):
SELECT r ->> 'verdict' AS verdict, r #>> '{findings_source,source}' AS findings_from,
       jsonb_array_length(r -> 'ledger_tables') AS ledger_tables
  FROM medchain.compliance_report() r;


\echo
\echo '### 8. The background worker: the scrubber re-verifies the ledger by itself and keeps what it finds'
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN EXISTS (SELECT FROM medchain.findings WHERE resolved_at IS NULL);
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
SELECT finding, relation, row_key, entry_id, block_height, first_seen FROM medchain.findings;
SELECT pass, rows_checked, last_pass_finished_at IS NOT NULL AS full_pass_done, open_findings
  FROM medchain.scrub_status;
-- The worker seals once the oldest pending entry has waited medchain.seal_interval:
ALTER SYSTEM SET medchain.seal_interval = '1s';
SELECT pg_reload_conf();
INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
        measurement_date, measurement_type_concept_id, value_as_number,
        unit_concept_id, measurement_source_value, unit_source_value)
VALUES (900002, 7, 3004410, date '2026-11-27', 32817, 7.4, 8554, 'HbA1c', '%');
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN (SELECT pending_entries FROM medchain.chain_status) = 0;
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
SELECT row_key, block_height IS NOT NULL AS sealed_by_the_worker
  FROM medchain.entries
 WHERE relation = 'cdm.measurement' AND row_key = '{"measurement_id": 900002}';
SELECT database, process, pid IS NOT NULL AS running, blocks_sealed, last_error FROM medchain.worker_status;
