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
\echo '### 3. Pending entries are sealed into a block: Merkle root, link to the previous block, proof-of-work'
SELECT * FROM medchain.chain_status;
SELECT medchain.seal() AS sealed_block;
SELECT height, entry_count, difficulty, nonce, encode(block_hash, 'hex') AS block_hash,
       encode(prev_hash, 'hex') = repeat('00', 32) AS genesis
  FROM medchain.blocks ORDER BY height;

\echo
\echo '### 4. Provenance with plain SQL: who recorded each result, when, in which block, proven how'
SELECT m.measurement_id, m.measurement_source_value, m.value_as_number,
       p.kind, p.recorded_by, p.block_height, p.confirmations, p.intact
  FROM cdm.measurement m CROSS JOIN LATERAL medchain.provenance(m) p
 WHERE m.person_id = 7 ORDER BY m.measurement_id DESC LIMIT 3;
-- A digest to keep outside the database, and a proof anchored in it:
SELECT medchain.digest();
SELECT medchain.verify_proof(p, medchain.digest()) AS proof_anchored_in_digest,
       jsonb_array_length(p->'audit_path') AS audit_path_hashes,
       p->'block'->>'block_hash' AS in_block
  FROM medchain.proof('cdm.measurement', '{"measurement_id": 900001}') AS p;

