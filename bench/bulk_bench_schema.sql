-- Objects for bench/bulk_bench.sh, loaded into each database it creates.
CREATE EXTENSION medchain;

-- bulk_rows(first, last): measurement rows first..last, the same rows in
-- every run.  Eight lab results and vital signs (OMOP concept ids, UCUM
-- units, plausible ranges and precision), the vital signs more frequent;
-- 250,000 patients; dates over ten years; about 1.5% of the values missing.
CREATE FUNCTION bulk_rows(first bigint, last bigint)
RETURNS TABLE (measurement_id bigint, person_id integer, measurement_concept_id integer,
	measurement_date date, value_as_number numeric, unit_source_value text, recorded_at timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT i,
		   1 + (h.a % 250000)::int,
		   (ARRAY[3004410, 3027018, 3004249, 3012888, 3025315, 3020891, 3016723, 3000963])[k.k],
		   date '2015-01-01' + (h.c % 3653)::int,
		   CASE WHEN h.d % 200 >= 3 THEN
				round((ARRAY[4.5, 45, 90, 50, 2.5, 35.5, 0.40, 7.0])[k.k]
					  + (ARRAY[7.5, 95, 100, 60, 147.5, 5.0, 4.60, 11.0])[k.k] * (h.e % 1000000) / 1000000.0,
					  (ARRAY[1, 0, 0, 0, 1, 1, 2, 1])[k.k])
		   END,
		   (ARRAY['%', '/min', 'mm[Hg]', 'mm[Hg]', 'kg', 'Cel', 'mg/dL', 'g/dL'])[k.k],
		   ((date '2015-01-01' + (h.c % 3653)::int) + make_interval(secs => 21600 + h.f % 57600))
			   AT TIME ZONE 'UTC'
	  FROM generate_series(first, last) AS i,
		   LATERAL (SELECT hashint8extended(i, 1) & 9223372036854775807 AS a,
						   hashint8extended(i, 2) & 9223372036854775807 AS b,
						   hashint8extended(i, 3) & 9223372036854775807 AS c,
						   hashint8extended(i, 4) & 9223372036854775807 AS d,
						   hashint8extended(i, 5) & 9223372036854775807 AS e,
						   hashint8extended(i, 6) & 9223372036854775807 AS f) h,
		   LATERAL (SELECT (ARRAY[1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 6, 7, 8, 1, 2])[1 + (h.b % 16)::int] AS k) k
$$;

-- The audit log a DBA would write in ten minutes: one row per inserted row,
-- with the row's hash, looked up by table and id.
CREATE TABLE audit_log (
	id bigserial PRIMARY KEY,
	table_name text,
	row_id bigint,
	row_hash bytea,
	logged_at timestamptz DEFAULT now());
CREATE INDEX audit_log_table_row_idx ON audit_log (table_name, row_id);

CREATE FUNCTION audit_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_log (table_name, row_id, row_hash)
	SELECT TG_TABLE_NAME, n.measurement_id, sha256(convert_to(row_to_json(n)::text, 'UTF8'))
	  FROM new_rows n;
	RETURN NULL;
END
$$;

-- make_bulk_table(name, variant): an empty measurement table; variant
-- 'plain' (no triggers), 'audit' (the statement-level audit trigger) or
-- 'ledger' (enabled with medchain.enable() while empty).
CREATE FUNCTION make_bulk_table(name text, variant text DEFAULT 'plain') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($t$
		CREATE TABLE %I (
			measurement_id bigint PRIMARY KEY,
			person_id integer NOT NULL,
			measurement_concept_id integer NOT NULL,
			measurement_date date NOT NULL,
			value_as_number numeric,
			unit_source_value text,
			recorded_at timestamptz NOT NULL)$t$, name);
	IF variant = 'audit' THEN
		EXECUTE format('CREATE TRIGGER audit AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
					   ' FOR EACH STATEMENT EXECUTE FUNCTION audit_rows()', name);
	ELSIF variant = 'ledger' THEN
		PERFORM medchain.enable(format('%I', name)::regclass);
	ELSIF variant <> 'plain' THEN
		RAISE EXCEPTION 'unknown variant %', variant;
	END IF;
END
$$;

-- Rows a measured load left: in the table, and in its audit log or journal.
CREATE FUNCTION bulk_rows_loaded(name text, variant text) RETURNS TABLE (in_table bigint, recorded bigint)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SELECT count(*) FROM %I', name) INTO in_table;
	IF variant = 'audit' THEN
		SELECT count(*) INTO recorded FROM audit_log WHERE table_name = name;
	ELSIF variant = 'ledger' THEN
		SELECT t.rows_recorded INTO recorded FROM medchain.ledger_tables t
		 WHERE to_regclass(t.relation) = format('%I', name)::regclass;
	ELSE
		recorded := in_table;
	END IF;
	RETURN NEXT;
END
$$;

-- drop_bulk_table(name, variant): a ledger table is released first.
CREATE FUNCTION drop_bulk_table(name text, variant text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF variant = 'ledger' THEN
		PERFORM medchain.disable(format('%I', name)::regclass, 'benchmark load measured');
	END IF;
	EXECUTE format('DROP TABLE %I', name);
END
$$;
