-- Ledger tables take new rows and refuse every change to recorded ones.
CREATE TABLE public.notes (id int PRIMARY KEY, person_id int, body text, written timestamptz DEFAULT '2026-01-01 10:00+00');
SELECT medchain.enable('public.notes');
CREATE VIEW public.note_entries AS
SELECT kind, row_key FROM medchain.entries WHERE relation = 'public.notes' AND kind <> 'event';

-- INSERT: one entry per row, hashing the row as stored (defaults included).
INSERT INTO public.notes (id, person_id, body) VALUES (1, 10, 'first visit');
INSERT INTO public.notes (id, person_id, body) VALUES (2, 10, 'follow-up'), (3, 11, NULL);
SELECT * FROM public.note_entries ORDER BY row_key::text;
SELECT count(*) AS mismatches FROM medchain.entries e
 WHERE e.relation = 'public.notes' AND e.kind = 'insert'
   AND sha256(medchain.row_encoding('public.notes', e.row_key)) <> e.row_hash;
-- INSERT ... SELECT and COPY.
INSERT INTO public.notes (id, person_id, body) SELECT 100 + i, i, 'bulk ' || i FROM generate_series(1, 5) i;
COPY public.notes (id, person_id, body) FROM stdin;
200	20	copied one
201	21	copied two
\.
SELECT count(*) AS entries FROM public.note_entries;
-- The entries of one transaction share its xid and timestamp.
BEGIN;
INSERT INTO public.notes (id, body) VALUES (300, 'a'), (301, 'b');
SELECT count(DISTINCT xact) = 1 AND bool_and(xact = pg_current_xact_id()) AS same_xact,
       count(DISTINCT recorded_at) = 1 AS same_time
  FROM medchain.entries WHERE relation = 'public.notes' AND row_key->>'id' IN ('300', '301');
COMMIT;

-- Refused changes: SQLSTATE 55000 (object not in prerequisite state).
UPDATE public.notes SET body = 'edited' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM public.notes WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE public.notes;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO public.notes (id, body) VALUES (1, 'again') ON CONFLICT (id) DO UPDATE SET body = excluded.body;
\echo :LAST_ERROR_SQLSTATE
MERGE INTO public.notes n USING (VALUES (2, 'merged')) AS s(id, body) ON n.id = s.id
 WHEN MATCHED THEN UPDATE SET body = s.body
 WHEN NOT MATCHED THEN INSERT (id, body) VALUES (s.id, s.body);
\echo :LAST_ERROR_SQLSTATE
MERGE INTO public.notes n USING (VALUES (3)) AS s(id) ON n.id = s.id
 WHEN MATCHED THEN DELETE;
\echo :LAST_ERROR_SQLSTATE
-- session_replication_role = replica does not switch the triggers off.
SET session_replication_role = replica;
UPDATE public.notes SET body = 'edited' WHERE id = 1;
INSERT INTO public.notes (id, body) VALUES (400, 'replica role');
RESET session_replication_role;
SELECT count(*) FROM public.note_entries WHERE row_key = '{"id": 400}';
-- The refused statements changed nothing.
SELECT id, body FROM public.notes WHERE id IN (1, 2, 3) ORDER BY id;

-- Statements that only insert go through and are recorded.
INSERT INTO public.notes (id, body) VALUES (500, 'new') ON CONFLICT (id) DO UPDATE SET body = excluded.body;
INSERT INTO public.notes (id, body) VALUES (1, 'dup'), (501, 'new') ON CONFLICT DO NOTHING;
MERGE INTO public.notes n USING (VALUES (502, 'merged in')) AS s(id, body) ON n.id = s.id
 WHEN MATCHED THEN UPDATE SET body = s.body
 WHEN NOT MATCHED THEN INSERT (id, body) VALUES (s.id, s.body);
-- An UPDATE that matches no row changes nothing, so it is not refused.
UPDATE public.notes SET body = 'x' WHERE id = -1;
SELECT row_key FROM public.note_entries WHERE (row_key->>'id')::int >= 500 ORDER BY 1::text;
SELECT count(*) AS entries_for_id_1 FROM public.note_entries WHERE row_key = '{"id": 1}';

-- Nothing is recorded for a rolled-back or failed statement.
SELECT count(*) AS before FROM public.note_entries \gset
BEGIN;
INSERT INTO public.notes (id, body) VALUES (600, 'rolled back');
ROLLBACK;
INSERT INTO public.notes (id, body) VALUES (601, 'ok'), (1, 'duplicate key');
INSERT INTO public.notes (id, body) VALUES (602, 'ok'), (603, repeat('x', 10) || 1/0);
-- A subtransaction rolled back leaves no entry; its parent's rows stay.
BEGIN;
INSERT INTO public.notes (id, body) VALUES (700, 'kept');
SAVEPOINT s1;
INSERT INTO public.notes (id, body) VALUES (701, 'rolled back to savepoint');
ROLLBACK TO SAVEPOINT s1;
INSERT INTO public.notes (id, body) VALUES (702, 'kept too');
COMMIT;
SELECT row_key FROM public.note_entries WHERE (row_key->>'id')::int >= 600 ORDER BY 1::text;
SELECT count(*) - :before AS new_entries FROM public.note_entries;
-- A PL/pgSQL exception block is a subtransaction too.
DO $$
BEGIN
	INSERT INTO public.notes (id, body) VALUES (800, 'inside a block that fails');
	PERFORM 1 / 0;
EXCEPTION WHEN division_by_zero THEN
	INSERT INTO public.notes (id, body) VALUES (801, 'after the failure');
END
$$;
SELECT row_key FROM public.note_entries WHERE (row_key->>'id')::int >= 800 ORDER BY 1::text;
-- Every row of the table has exactly one entry, and every entry its row.
SELECT count(*) AS rows_without_entry FROM public.notes n
 WHERE NOT EXISTS (SELECT 1 FROM public.note_entries e WHERE e.row_key = jsonb_build_object('id', n.id));
SELECT count(*) AS entries_without_row FROM public.note_entries e
 WHERE NOT EXISTS (SELECT 1 FROM public.notes n WHERE e.row_key = jsonb_build_object('id', n.id));
SELECT count(*) AS duplicate_entries FROM (SELECT row_key FROM public.note_entries GROUP BY 1 HAVING count(*) > 1) d;

-- Called by hand, the trigger functions refuse to run.
SELECT medchain.record_row();
SELECT medchain.refuse_change();
