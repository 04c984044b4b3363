-- Tables for bench/chain_bench.sh: :rows EHR observation rows.
\ir obs_table.sql
SELECT make_obs_table('obs');
INSERT INTO obs
SELECT i, (i * 7919) % 100000, 3004410, date '2024-01-01' + (i % 700)::int,
	   timestamptz '2024-01-01 08:00+00' + i * interval '1 minute', 32817,
	   (40 + i % 100) / 10.0, 'HbA1c ' || ((40 + i % 100) / 10.0) || ' %', 'percent',
	   'fasting', i % 500, i * 10, 'LAB:HBA1C:4548-4',
	   'Patient fasting since midnight; sample drawn by nurse on ward 7; result reviewed by the attending; repeat in three months.'
  FROM generate_series(1::bigint, :rows) AS i;
