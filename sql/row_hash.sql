-- Row hashes: every built-in type an EHR uses, hashed the same whatever the
-- session settings, physical column order, dropped columns or storage.
\set ECHO none
\i test/fixtures/all_types.sql
\set ECHO all

-- Pinned hashes: a change here is a change of format (docs/FORMAT.md).
SELECT row_key, encode(row_hash, 'hex') AS row_hash
  FROM medchain.entries WHERE relation = 'public.typed' AND kind = 'insert' ORDER BY entry_id;

-- The recorded hashes, recomputed under other settings, still match.
CREATE FUNCTION public.rehash_mismatches() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM medchain.entries e
	 WHERE e.relation = 'public.typed' AND e.kind = 'insert'
	   AND sha256(medchain.row_encoding('public.typed', e.row_key)) <> e.row_hash
$$;
SELECT public.rehash_mismatches();
SET TimeZone = 'Pacific/Chatham';
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'iso_8601';
SET extra_float_digits = -15;
SET bytea_output = 'escape';
SET search_path = pg_catalog;
SET lc_monetary = 'C';
SET lc_numeric = 'C';
SET lc_time = 'C';
SET client_encoding = 'LATIN1';
SET standard_conforming_strings = off;
SELECT public.rehash_mismatches();
RESET ALL;
-- Rows inserted under those settings hash like rows inserted without them.
SET TimeZone = 'America/St_Johns';
SET DateStyle = 'German';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = 0;
INSERT INTO public.typed (id, c_timestamptz, c_interval, c_float8, c_date)
VALUES (10, '2024-02-29 13:45:30.5+01', '1 year 2 mons 3 days 04:05:06.789', 0.1, '2024-02-29');
RESET ALL;
INSERT INTO public.typed (id, c_timestamptz, c_interval, c_float8, c_date)
VALUES (11, '2024-02-29 13:45:30.5+01', '1 year 2 mons 3 days 04:05:06.789', 0.1, '2024-02-29');
-- Those two rows differ only in id: their encodings differ exactly there.
SELECT encode(medchain.row_encoding('public.typed', '{"id": 10}'), 'hex') =
       replace(encode(medchain.row_encoding('public.typed', '{"id": 11}'), 'hex'), '000000000000000b', '000000000000000a')
       AS same_but_for_id;

-- Column order and dropped-column holes do not matter; names do.
CREATE TABLE public.order_a (id int PRIMARY KEY, b text, c int);
CREATE TABLE public.order_b (gone int, c int, b text, id int PRIMARY KEY);
ALTER TABLE public.order_b DROP COLUMN gone;
SELECT medchain.enable('public.order_a'), medchain.enable('public.order_b');
INSERT INTO public.order_a VALUES (1, 'same', 7);
INSERT INTO public.order_b (id, b, c) VALUES (1, 'same', 7);
SELECT count(DISTINCT row_hash) AS distinct_hashes
  FROM medchain.entries WHERE relation IN ('public.order_a', 'public.order_b') AND kind = 'insert';

-- NULL, absent and empty: NULL and absent are the same, empty is not.
CREATE TABLE public.nulls (id int PRIMARY KEY, note text);
CREATE TABLE public.nulls_narrow (id int PRIMARY KEY);
SELECT medchain.enable('public.nulls'), medchain.enable('public.nulls_narrow');
INSERT INTO public.nulls VALUES (1, NULL), (2, '');
INSERT INTO public.nulls_narrow VALUES (1);
SELECT e.relation, e.row_key, encode(e.row_hash, 'hex') AS row_hash
  FROM medchain.entries e WHERE e.relation IN ('public.nulls', 'public.nulls_narrow') AND kind = 'insert'
 ORDER BY e.relation, e.row_key::text;

-- TOAST and compression do not matter: the same long value, stored
-- compressed inline in one table and uncompressed out of line in another.
CREATE TABLE public.toast_main (id int PRIMARY KEY, body text);
CREATE TABLE public.toast_external (id int PRIMARY KEY, body text);
ALTER TABLE public.toast_external ALTER COLUMN body SET STORAGE EXTERNAL;
SELECT medchain.enable('public.toast_main'), medchain.enable('public.toast_external');
INSERT INTO public.toast_main SELECT 1, repeat('Progress note: stable. ', 5000);
INSERT INTO public.toast_external SELECT 1, repeat('Progress note: stable. ', 5000);
SELECT pg_column_size(m.body) < 10000 AS main_compressed, pg_column_size(x.body) > 100000 AS external_plain
  FROM public.toast_main m, public.toast_external x;
SELECT count(DISTINCT row_hash) AS distinct_hashes
  FROM medchain.entries WHERE relation IN ('public.toast_main', 'public.toast_external') AND kind = 'insert';

-- Adding a nullable column without a default keeps every recorded hash.
ALTER TABLE public.typed ADD COLUMN c_comment text;
SELECT public.rehash_mismatches();
INSERT INTO public.typed (id, c_comment) VALUES (20, 'after the new column');
SELECT count(*) AS mismatches FROM medchain.entries e
 WHERE e.relation = 'public.typed' AND e.row_key = '{"id": 20}'
   AND sha256(medchain.row_encoding('public.typed', e.row_key)) <> e.row_hash;

-- Keys of date/time types are written in a form that does not depend on
-- TimeZone or DateStyle, so the row is found under any settings.
CREATE TABLE public.readings (taken timestamptz, device uuid, value numeric, PRIMARY KEY (taken, device));
SELECT medchain.enable('public.readings');
INSERT INTO public.readings VALUES ('2024-03-10 02:30:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 98.6);
SET TimeZone = 'Asia/Kathmandu';
SET DateStyle = 'Postgres, MDY';
SELECT row_key FROM medchain.entries WHERE relation = 'public.readings' AND kind = 'insert';
SELECT sha256(medchain.row_encoding('public.readings', row_key)) = row_hash AS found_and_matches
  FROM medchain.entries WHERE relation = 'public.readings' AND kind = 'insert';
RESET ALL;

-- row_encoding() errors.
SELECT medchain.row_encoding('public.typed', '{"id": 999}');
SELECT medchain.row_encoding('public.typed', '{"nope": 1}');
SELECT medchain.row_encoding('public.typed', '[1]');
SELECT medchain.row_encoding('cdm.visit_occurrence', '{"visit_occurrence_id": 1}');

-- Format version 2: geometric types and multiranges have binary forms, and
-- a type without one is written through its output under fixed settings,
-- so no session setting changes a hash, nested or not.
CREATE TABLE public.shapes (
	id int PRIMARY KEY,
	c_point point, c_lseg lseg, c_box box, c_path path, c_polygon polygon,
	c_circle circle, c_line line,
	c_multirange tstzmultirange, c_nummultirange nummultirange,
	c_regclass regclass, c_macaddr macaddr, c_tsvector tsvector,
	c_nested point[], c_nested_range tstzmultirange[]
);
SELECT medchain.enable('public.shapes');
INSERT INTO public.shapes VALUES
 (1, '(1.1,-2.5)', '[(0,0),(1,1e-5)]', '(3,4),(1,2)', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))',
  '<(0.1,0.2),3.3>', '{1,-1,0.5}',
  '{[2024-01-01 00:00+00,2024-02-01 00:00+00), [2024-03-01 00:00+00,)}', '{[1.5,2.5], (7,8)}',
  'cdm.person', '08:00:2b:01:02:03', 'fever & cough', ARRAY['(0.1,0.3)'::point, NULL],
  ARRAY['{[2024-01-01 00:00+00,2024-01-02 00:00+00)}'::tstzmultirange]),
 (2, NULL, NULL, NULL, '((0,0),(1,1))', NULL, NULL, NULL, '{}', '{empty}', NULL, NULL, '', '{}', '{}');
CREATE FUNCTION public.shape_mismatches() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM medchain.entries e
	 WHERE e.relation = 'public.shapes' AND e.kind = 'insert'
	   AND sha256(medchain.row_encoding('public.shapes', e.row_key)) <> e.row_hash
$$;
SELECT public.shape_mismatches();
SET extra_float_digits = -15;
SET TimeZone = 'Asia/Kathmandu';
SET DateStyle = 'German';
SET search_path = cdm, public;
SELECT public.shape_mismatches();
RESET ALL;
-- The binary tags are those of FORMAT.md: point 0x13 with two IEEE doubles.
SELECT position('\x13000000103ff199999999999ac004000000000000'::bytea
				IN medchain.row_encoding('public.shapes', '{"id": 1}')) > 0 AS point_encoded;
-- jsonb is written as canonical JSON: keys by UTF-8 length, then bytes.
CREATE TABLE public.json_docs (id int PRIMARY KEY, doc jsonb);
SELECT medchain.enable('public.json_docs');
INSERT INTO public.json_docs VALUES (1, '{"é": 2, "ab": 1, "ß": "ü\n", "n": [1e3, -0.0, 1.50, true, null]}');
WITH enc AS (SELECT b, position('\x07'::bytea IN b) AS p
			   FROM medchain.row_encoding('public.json_docs', '{"id": 1}') AS b)
SELECT convert_from(substring(b FROM p + 5 FOR (get_byte(b, p) << 24 | get_byte(b, p + 1) << 16 |
												get_byte(b, p + 2) << 8 | get_byte(b, p + 3))),
					'UTF8') AS canonical_text
  FROM enc;
