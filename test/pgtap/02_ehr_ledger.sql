-- The sample EHR schema (scripts/sample_ehr.sql, 100 patients, loaded by
-- the test runner) as a ledger: enable every table, record clinical work,
-- refuse changes, release.  Everything is rolled back at the end.
BEGIN;
SELECT plan(32);

SELECT is(medchain.enable('cdm.person'), 100::bigint, 'person: 100 baseline rows');
SELECT is(medchain.enable('cdm.visit_occurrence'), 300::bigint, 'visit_occurrence: 300 baseline rows');
SELECT is(medchain.enable('cdm.condition_occurrence'), 300::bigint, 'condition_occurrence: 300 baseline rows');
SELECT is(medchain.enable('cdm.drug_exposure'), 300::bigint, 'drug_exposure: 300 baseline rows');
SELECT is(medchain.enable('cdm.measurement'), 600::bigint, 'measurement: 600 baseline rows');

SELECT results_eq(
	$$SELECT relation, rows_recorded FROM medchain.ledger_tables ORDER BY relation$$,
	$$VALUES ('cdm.condition_occurrence', 300::bigint), ('cdm.drug_exposure', 300),
			 ('cdm.measurement', 600), ('cdm.person', 100), ('cdm.visit_occurrence', 300)$$,
	'ledger_tables lists every enabled table with its rows');

SELECT has_trigger('cdm', 'measurement', 'medchain_record', 'record trigger installed');
SELECT trigger_is('cdm', 'measurement', 'medchain_record', 'medchain', 'record_rows');
SELECT trigger_is('cdm', 'measurement', 'medchain_append_only', 'medchain', 'refuse_change');
SELECT trigger_is('cdm', 'measurement', 'medchain_no_truncate', 'medchain', 'refuse_change');

-- A new visit with its condition, prescription and lab result.
SELECT lives_ok($$
	INSERT INTO cdm.visit_occurrence (visit_occurrence_id, person_id, visit_concept_id,
		visit_start_date, visit_end_date, visit_type_concept_id)
	VALUES (10001, 42, 9202, '2026-11-01', '2026-11-01', 32817);
	INSERT INTO cdm.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id,
		condition_start_date, condition_type_concept_id, visit_occurrence_id)
	VALUES (10001, 42, 201826, '2026-11-01', 32817, 10001);
	INSERT INTO cdm.drug_exposure (drug_exposure_id, person_id, drug_concept_id,
		drug_exposure_start_date, drug_exposure_end_date, drug_type_concept_id, quantity, sig,
		visit_occurrence_id)
	VALUES (10001, 42, 1503297, '2026-11-01', '2027-01-30', 32838, 180, '500 mg twice daily', 10001);
	INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
		measurement_date, measurement_type_concept_id, value_as_number, unit_concept_id,
		visit_occurrence_id)
	VALUES (10001, 42, 3004410, '2026-11-01', 32817, 8.2, 8554, 10001)$$,
	'clinical inserts go through');
SELECT results_eq(
	$$SELECT relation, kind FROM medchain.entries WHERE xact = pg_current_xact_id() AND kind = 'insert' ORDER BY entry_id$$,
	$$VALUES ('cdm.visit_occurrence', 'insert'), ('cdm.condition_occurrence', 'insert'),
			 ('cdm.drug_exposure', 'insert'), ('cdm.measurement', 'insert')$$,
	'one insert entry per new row, in order');
SELECT is(
	(SELECT row_key FROM medchain.entries WHERE relation = 'cdm.drug_exposure' AND kind = 'insert'),
	'{"drug_exposure_id": 10001}'::jsonb, 'row_key names the primary key');
SELECT is(
	(SELECT count(*) FROM medchain.entries e
	  WHERE e.kind IN ('baseline', 'insert') AND e.relation LIKE 'cdm.%'
		AND sha256(medchain.row_encoding(e.relation::regclass, e.row_key)) <> e.row_hash),
	0::bigint, 'every recorded row hashes to its entry');
SELECT is(
	(SELECT count(*) FROM medchain.entries WHERE relation LIKE 'cdm.%' AND block_height IS NOT NULL),
	0::bigint, 'nothing is sealed yet');

-- Corrections must be new rows; changes are refused with SQLSTATE 55000.
SELECT throws_ok($$UPDATE cdm.measurement SET value_as_number = 7.2 WHERE measurement_id = 10001$$,
	'55000', 'cannot update rows of ledger table "measurement"', 'UPDATE refused');
SELECT throws_ok($$DELETE FROM cdm.person WHERE person_id = 42$$,
	'55000', 'cannot delete rows from ledger table "person"', 'DELETE refused');
SELECT throws_ok($$TRUNCATE cdm.condition_occurrence CASCADE$$,
	'55000', NULL, 'TRUNCATE refused');
SELECT throws_ok($$INSERT INTO cdm.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
	VALUES (42, 8507, 1970, 8527, 38003564) ON CONFLICT (person_id) DO UPDATE SET year_of_birth = 1971$$,
	'55000', NULL, 'ON CONFLICT DO UPDATE refused');
SELECT throws_ok($$ALTER TABLE cdm.person DROP COLUMN person_source_value$$,
	'55000', NULL, 'DROP COLUMN refused');
SELECT throws_ok($$DROP TABLE cdm.measurement$$, '55000', NULL, 'DROP TABLE refused');
SELECT lives_ok($$ALTER TABLE cdm.person ADD COLUMN preferred_language text$$,
	'a nullable column without default may be added');
SELECT is(
	(SELECT count(*) FROM medchain.entries e
	  WHERE e.relation = 'cdm.person' AND e.kind = 'baseline'
		AND sha256(medchain.row_encoding('cdm.person', e.row_key)) <> e.row_hash),
	0::bigint, 'the new column left every recorded hash intact');

-- Seal the clinical record and check it.
SET LOCAL medchain.difficulty = 8;
SELECT ok(medchain.seal() IS NOT NULL, 'the EHR entries are sealed');
SELECT is((SELECT pending_entries FROM medchain.chain_status), 0::bigint, 'nothing pending');
SELECT is_empty($$SELECT * FROM medchain.verify()$$, 'verify() finds nothing on the sealed EHR');
SELECT ok(medchain.verify_proof(medchain.proof('cdm.drug_exposure', '{"drug_exposure_id": 10001}')),
	'the new prescription has a valid inclusion proof');
SELECT ok(medchain.verify_digest(medchain.digest()), 'the digest of the head holds');
-- Release one table.
SELECT throws_ok($$SELECT medchain.disable('cdm.measurement', '   ')$$,
	'22023', 'a reason is required to release a ledger table', 'blank reason refused');
SELECT lives_ok($$SELECT medchain.disable('cdm.measurement', 'lab results move to the LIS')$$,
	'disable with a reason');
SELECT results_eq(
	$$SELECT detail->>'action', detail->>'reason', recorded_by::text FROM medchain.entries
	   WHERE relation = 'cdm.measurement' AND kind = 'event' ORDER BY entry_id DESC LIMIT 1$$,
	$$VALUES ('disable', 'lab results move to the LIS', current_user::text)$$,
	'the release is recorded with who and why');

-- A superuser goes around the guards; verify() names the altered row.
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE cdm.person DISABLE TRIGGER medchain_append_only;
UPDATE cdm.person SET year_of_birth = 1900 WHERE person_id = 42;
ALTER TABLE cdm.person ENABLE ALWAYS TRIGGER medchain_append_only;
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
SELECT results_eq(
	$$SELECT finding, row_key FROM medchain.verify('cdm.person')$$,
	$$VALUES ('row_modified'::text, '{"person_id": 42}'::jsonb)$$,
	'a person altered behind the triggers is named');

SELECT * FROM finish();
ROLLBACK;
