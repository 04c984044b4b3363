-- verify(): every kind of tampering, done for real as a superuser going
-- around medchain's guards, yields exactly the finding that names it.
-- Each tamper runs in a transaction that is rolled back afterwards.
SET medchain.difficulty = 8;
CREATE TABLE public.labs (id int PRIMARY KEY, test text, value numeric);
SELECT medchain.enable('public.labs');
INSERT INTO public.labs SELECT i, 'HbA1c', 5 + i / 10.0 FROM generate_series(1, 8) i;
SELECT medchain.seal() AS block_a \gset
INSERT INTO public.labs SELECT i, 'LDL', 90 + i FROM generate_series(9, 14) i;
SELECT medchain.seal() AS block_b \gset
INSERT INTO public.labs SELECT i, 'eGFR', 60 + i FROM generate_series(15, 20) i;
SELECT medchain.seal() AS block_c \gset
INSERT INTO public.labs VALUES (21, 'pending', 1);
-- an event waits in the pending queue; rows wait in batches
CREATE TABLE public.lab_notes (id int PRIMARY KEY, note text);
SELECT medchain.enable('public.lab_notes');
SELECT entry_id AS e5 FROM medchain.entries WHERE relation = 'public.labs' AND row_key = '{"id": 5}' \gset
SELECT entry_id AS e10 FROM medchain.entries WHERE relation = 'public.labs' AND row_key = '{"id": 10}' \gset
SELECT :block_c - :block_a AS blocks_apart, medchain.digest() AS digest_before \gset

-- Clean: nothing to report, for the table and for everything.
SELECT * FROM medchain.verify('public.labs');
SELECT count(*) AS findings FROM medchain.verify();

-- The guards hold against honest mistakes, session_replication_role included.
SET session_replication_role = replica;
UPDATE public.labs SET value = 0 WHERE id = 5;
RESET session_replication_role;

CREATE VIEW public.report AS
SELECT finding, relation, row_key,
	   CASE WHEN entry_id IS NULL THEN NULL
			WHEN entry_id = :e5 THEN 'e5' WHEN entry_id = :e10 THEN 'e10'
			ELSE 'other' END AS entry,
	   CASE WHEN block_height IS NULL THEN NULL
			ELSE 'block ' || (block_height - :block_a) END AS block,
	   detail
  FROM medchain.verify('public.labs');

-- row_modified: a recorded row changed with the triggers disabled.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER medchain_append_only;
UPDATE public.labs SET value = 4.2 WHERE id = 5;
SELECT * FROM public.report;
ROLLBACK;

-- row_missing: a recorded row deleted.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER ALL;
DELETE FROM public.labs WHERE id = 10;
SELECT * FROM public.report;
ROLLBACK;

-- row_unrecorded: a row slipped in without its entry.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER medchain_record;
INSERT INTO public.labs VALUES (99, 'slipped in', 0);
SELECT * FROM public.report;
ROLLBACK;

-- A row altered and moved: still one finding per row.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER ALL;
UPDATE public.labs SET value = value + 1 WHERE id IN (5, 10);
DELETE FROM public.labs WHERE id = 21;
SELECT * FROM public.report ORDER BY row_key::text;
ROLLBACK;

-- entry_modified: an entry's field changed directly.
BEGIN;
UPDATE medchain.journal SET recorded_by = 'someone_else' WHERE entry_id = :e5;
SELECT * FROM public.report;
ROLLBACK;

-- entry_modified: an entry's event detail changed.
BEGIN;
UPDATE medchain.journal SET detail = '{"action": "enable", "baseline_rows": 1000}'
 WHERE relation = 'public.labs' AND kind = 'event';
SELECT finding, relation, row_key, block, detail FROM public.report;
ROLLBACK;

-- entry_modified: row, entry and entry_hash forged consistently; only the
-- block's Merkle root gives it away, so the block is named.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER medchain_append_only;
UPDATE public.labs SET value = 4.2 WHERE id = 5;
UPDATE medchain.journal SET row_hash = sha256(medchain.row_encoding('public.labs', '{"id": 5}'))
 WHERE entry_id = :e5;
UPDATE medchain.journal e SET entry_hash = forge.entry_hash(e) WHERE entry_id = :e5;
SELECT * FROM public.report;
ROLLBACK;

-- entry_missing: a sealed entry deleted.  Its row has lost its record too.
BEGIN;
DELETE FROM medchain.journal WHERE entry_id = :e10;
SELECT * FROM public.report ORDER BY finding;
ROLLBACK;

-- entry_missing: every entry of a block deleted.
BEGIN;
DELETE FROM medchain.journal WHERE block_height = :block_b;
SELECT finding, block, detail FROM public.report WHERE finding LIKE 'entry%';
ROLLBACK;

-- block_modified: a header field changed.
BEGIN;
UPDATE medchain.blocks SET sealed_at = sealed_at + interval '1 hour' WHERE height = :block_b;
SELECT * FROM public.report;
ROLLBACK;
BEGIN;
UPDATE medchain.blocks SET merkle_root = sha256('x') WHERE height = :block_b;
SELECT * FROM public.report;
ROLLBACK;

-- block_modified: the block hash recomputed without the proof-of-work.
BEGIN;
SELECT forge.reseal(:block_b, 8, meet_difficulty => false);
SELECT finding, block, regexp_replace(detail, '\d+ leading', 'N leading') AS detail FROM public.report;
ROLLBACK;

-- chain_broken: a block replaced by a re-mined one, a missing block, a
-- missing genesis, a missing head.
BEGIN;
UPDATE medchain.blocks SET sealed_at = sealed_at - interval '1 day' WHERE height = :block_b;
SELECT forge.reseal(:block_b, 8);
SELECT * FROM public.report;
ROLLBACK;
BEGIN;
DELETE FROM medchain.blocks WHERE height = :block_b;
SELECT * FROM public.report;
ROLLBACK;
BEGIN;
DELETE FROM medchain.blocks WHERE height = 0;
SELECT finding, block IS NOT NULL AS names_block, detail FROM public.report;
ROLLBACK;
BEGIN;
DELETE FROM medchain.blocks WHERE height = (SELECT max(height) FROM medchain.blocks);
SELECT * FROM public.report;
ROLLBACK;

-- A whole suffix forged with valid proof-of-work at a lower difficulty:
-- row 10, its entry and entry_hash, block B's Merkle root, and every block
-- from B up re-mined at difficulty 2.  The first forged block is easier
-- than the one below it, and the digest taken before no longer holds.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER medchain_append_only;
UPDATE public.labs SET value = 0 WHERE id = 10;
UPDATE medchain.journal SET row_hash = sha256(medchain.row_encoding('public.labs', '{"id": 10}'))
 WHERE entry_id = :e10;
UPDATE medchain.journal e SET entry_hash = forge.entry_hash(e) WHERE entry_id = :e10;
SELECT forge.reseal(h, 2) FROM generate_series(:block_b, (SELECT max(height) FROM medchain.blocks)) h ORDER BY h;
SELECT * FROM public.report;
SELECT medchain.verify_digest(:'digest_before') AS digest_still_holds;
ROLLBACK;

-- The registry is a claim, checked against the journal's events: a
-- registration released, deleted or pointed at another enablement by hand
-- is a finding, and the table is checked all the same.
CREATE VIEW public.report_masked AS
SELECT finding, relation, row_key, entry, block, regexp_replace(detail, '\d+', 'N', 'g') AS detail
  FROM public.report;
BEGIN;
UPDATE medchain.ledger_registry SET relid = NULL, released_at = now(), released_by = 'postgres',
	   release_reason = 'x' WHERE relation = 'public.labs' AND released_at IS NULL;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER medchain_append_only;
UPDATE public.labs SET value = 0 WHERE id = 3;
SELECT * FROM public.report_masked ORDER BY finding;
ROLLBACK;
BEGIN;
DELETE FROM medchain.ledger_registry;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER ALL;
DELETE FROM public.labs WHERE id = 3;
SELECT * FROM public.report_masked WHERE relation = 'public.labs' ORDER BY finding;
SELECT count(*) > 0 AS every_table_is_named FROM medchain.verify() WHERE finding = 'registry_modified';
ROLLBACK;
BEGIN;
UPDATE medchain.ledger_registry SET enablement_id = enablement_id + 1000
 WHERE relation = 'public.labs' AND released_at IS NULL;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE public.labs DISABLE TRIGGER ALL;
DELETE FROM public.labs WHERE id <= 2;
SELECT * FROM public.report_masked ORDER BY finding, row_key::text;
ROLLBACK;

-- The pending queue is checked against the unsealed entries: an entry
-- whose queue row was deleted stays a finding, and unsealed, until it is
-- re-queued as the finding says.
BEGIN;
DELETE FROM medchain.pending;
SELECT finding, entry, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM public.report WHERE finding LIKE '%queue%';
SELECT medchain.seal() IS NOT NULL AS sealed_the_rest;
SELECT finding, entry FROM public.report WHERE finding LIKE '%queue%';
INSERT INTO medchain.pending SELECT entry_id, ctid FROM medchain.journal
 WHERE block_height IS NULL;
SELECT medchain.seal() IS NOT NULL AS sealed_once_requeued;
SELECT count(*) AS findings FROM public.report;
ROLLBACK;
BEGIN;
INSERT INTO medchain.pending SELECT entry_id, entry_tid FROM medchain.pending;
SELECT finding, detail FROM public.report WHERE finding LIKE '%queue%';
ROLLBACK;
-- Batched entries: a batch row deleted leaves its rows unrecorded, one
-- copied names its entries twice, one cut short cannot be read.
BEGIN;
DELETE FROM medchain.entry_batches WHERE relation = 'public.labs';
SELECT finding, row_key, detail FROM public.report;
ROLLBACK;
BEGIN;
INSERT INTO medchain.entry_batches SELECT * FROM medchain.entry_batches WHERE relation = 'public.labs';
SELECT finding, entry, detail FROM public.report WHERE finding LIKE '%queue%';
ROLLBACK;
BEGIN;
UPDATE medchain.entry_batches SET entries = substr(entries, 1, 50) WHERE relation = 'public.labs';
SELECT finding, row_key, regexp_replace(detail, '\(\d+,\d+\)', '(N,N)') AS detail FROM public.report;
ROLLBACK;

-- One finding per tampered thing, naming it: an entry moved to another
-- block, a block's entry_count, a pending entry's row_key rewritten
-- consistently, a block's entry range.
BEGIN;
UPDATE medchain.journal SET block_height = :block_b WHERE entry_id = :e5;
SELECT * FROM public.report_masked;
ROLLBACK;
BEGIN;
UPDATE medchain.blocks SET entry_count = 3 WHERE height = :block_a;
SELECT finding, block FROM public.report;
ROLLBACK;
BEGIN;
SELECT forge.batch_rewrite_key('public.labs', '{"id": 21}', '{"id": 7777}');
SELECT finding, row_key, entry, detail FROM public.report;
ROLLBACK;
BEGIN;
UPDATE medchain.blocks SET first_entry_id = first_entry_id - 1 WHERE height = :block_b;
SELECT finding, block, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM public.report;
ROLLBACK;

-- What verify() cannot check is a finding, and it goes on: a key column
-- retyped in the catalog behind medchain's back.
BEGIN;
UPDATE pg_attribute SET atttypid = 'float4'::regtype
 WHERE attrelid = 'public.labs'::regclass AND attname = 'id';
SELECT finding, relation, detail FROM public.report;
ROLLBACK;

-- After the rollbacks: clean again.
SELECT * FROM medchain.verify();
SELECT medchain.verify_digest(:'digest_before') AS digest_holds;

-- Who may verify, and what.
SET SESSION AUTHORIZATION regress_clinician;
SELECT * FROM medchain.verify();
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_auditor;
SELECT count(*) AS findings FROM medchain.verify();
RESET SESSION AUTHORIZATION;
SELECT * FROM medchain.verify('public.keyless');
\echo :LAST_ERROR_SQLSTATE
-- verify() is read-only: it runs in a read-only transaction.
BEGIN READ ONLY;
SELECT count(*) AS findings FROM medchain.verify();
COMMIT;
