-- Tables for bench/insert_bench.sh: four identical observation tables.
CREATE EXTENSION medchain;

\ir obs_table.sql
SELECT make_obs_table(t) FROM unnest(ARRAY['obs_plain', 'obs_ledger', 'obs_audit', 'obs_chain']) t;

-- The ledger table.
SELECT medchain.enable('obs_ledger');

-- A hand-written audit trigger.
CREATE TABLE audit_log (
	audit_id bigserial PRIMARY KEY,
	table_name text NOT NULL,
	recorded_by name NOT NULL DEFAULT session_user,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	row_data jsonb NOT NULL);
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_log (table_name, row_data) VALUES (TG_TABLE_NAME, to_jsonb(NEW));
	RETURN NULL;
END
$$;
CREATE TRIGGER audit AFTER INSERT ON obs_audit FOR EACH ROW EXECUTE FUNCTION audit_row();

-- A hand-written PL/pgSQL hash chain: every row locks the chain head.
CREATE TABLE chain_head (id int PRIMARY KEY, last_hash bytea NOT NULL);
INSERT INTO chain_head VALUES (1, '\x0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE chain_log (
	seq bigserial PRIMARY KEY,
	table_name text NOT NULL,
	row_hash bytea NOT NULL,
	chain_hash bytea NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION chain_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	prev bytea;
	row_hash bytea := sha256(convert_to(to_jsonb(NEW)::text, 'UTF8'));
BEGIN
	SELECT last_hash INTO prev FROM chain_head WHERE id = 1 FOR UPDATE;
	INSERT INTO chain_log (table_name, row_hash, chain_hash)
	VALUES (TG_TABLE_NAME, row_hash, sha256(prev || row_hash));
	UPDATE chain_head SET last_hash = sha256(prev || row_hash) WHERE id = 1;
	RETURN NULL;
END
$$;
CREATE TRIGGER chain AFTER INSERT ON obs_chain FOR EACH ROW EXECUTE FUNCTION chain_row();

-- One sample row, to report the row size.
INSERT INTO obs_plain (person_id, observation_concept_id, observation_date, observation_datetime,
	observation_type_concept_id, value_as_number, value_as_string, unit_source_value,
	qualifier_source_value, provider_id, visit_occurrence_id, observation_source_value, note)
VALUES (1, 3004410, '2026-11-01', '2026-11-01 09:30+00', 32817, 7.4, 'HbA1c 7.4 %', 'percent',
	'fasting', 17, 100017, 'LAB:HBA1C:4548-4',
	'Patient fasting since midnight; sample drawn by nurse on ward 7; result reviewed by the attending; repeat in three months.');
