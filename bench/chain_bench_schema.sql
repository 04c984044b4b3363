-- Tables for bench/chain_bench.sh: EHR observation rows of about 250 bytes.
CREATE FUNCTION make_obs(name text, n bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($t$
		CREATE TABLE %I (
			observation_id bigint PRIMARY KEY,
			person_id integer NOT NULL,
			observation_concept_id integer NOT NULL,
			observation_date date NOT NULL,
			observation_datetime timestamptz NOT NULL,
			observation_type_concept_id integer NOT NULL,
			value_as_number numeric,
			value_as_string varchar(60),
			unit_source_value varchar(50),
			qualifier_source_value varchar(50),
			provider_id integer,
			visit_occurrence_id bigint,
			observation_source_value varchar(50),
			note text)$t$, name);
	EXECUTE format($i$
		INSERT INTO %I
		SELECT i, (i * 7919) %% 100000, 3004410, date '2024-01-01' + (i %% 700),
			   timestamptz '2024-01-01 08:00+00' + i * interval '1 minute', 32817,
			   (40 + i %% 100) / 10.0, 'HbA1c ' || ((40 + i %% 100) / 10.0) || ' %%', 'percent',
			   'fasting', i %% 500, i * 10, 'LAB:HBA1C:4548-4',
			   'Patient fasting since midnight; sample drawn by nurse on ward 7; result reviewed by the attending; repeat in three months.'
		  FROM generate_series(1, %s) AS i$i$, name, n);
END
$$;
SELECT make_obs('obs', :rows);
