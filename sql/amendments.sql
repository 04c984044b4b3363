-- Versioned ledger tables: a clinician corrects a record and nothing is
-- destroyed.  The replaced version moves to the history table, the change
-- is an update or delete entry that supersedes the version it replaces,
-- and history() shows every version with its proof and reason.
SET medchain.difficulty = 8;
CREATE SCHEMA amend;
CREATE TABLE amend.notes (note_id int PRIMARY KEY, patient text NOT NULL, body text,
	written date DEFAULT '2026-01-01');
INSERT INTO amend.notes VALUES (1, 'p1', 'BP 120/80', '2026-01-02'),
	(2, 'p2', 'no known allergies', '2026-01-03');
SELECT medchain.enable('amend.notes', mode => 'versioned');
SELECT relation, mode, history_table, reason_required, rows_recorded
  FROM medchain.ledger_tables WHERE relation = 'amend.notes';
-- The history table: the same columns, append-only, owned alike.
SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull
  FROM pg_attribute WHERE attrelid = 'amend.notes_history'::regclass AND attnum > 0 ORDER BY attnum;
SELECT tgname, tgenabled FROM pg_trigger
 WHERE tgrelid IN ('amend.notes'::regclass, 'amend.notes_history'::regclass)
 ORDER BY tgrelid::regclass::text, tgname;

INSERT INTO amend.notes VALUES (3, 'p3', 'HbA1c 6.1', '2026-01-04');
-- An amendment, with its reason, in one transaction.
BEGIN;
SET LOCAL medchain.reason = 'transcription error: BP was 130/80';
UPDATE amend.notes SET body = 'BP 130/80' WHERE note_id = 1;
COMMIT;
SELECT medchain.seal() AS first_block \gset
BEGIN;
SET LOCAL medchain.reason = 'added the arm';
UPDATE amend.notes SET body = 'BP 130/80, left arm' WHERE note_id = 1;
SET LOCAL medchain.reason = 'entered for the wrong patient';
DELETE FROM amend.notes WHERE note_id = 2;
COMMIT;
-- Without a reason the change is still recorded, with none.
UPDATE amend.notes SET written = '2026-01-05' WHERE note_id = 3;

-- The journal: each change supersedes the version it replaces.
SELECT e.kind, e.row_key, e.format_version, e.note,
	   (SELECT s.kind FROM medchain.entries s WHERE s.entry_id = e.supersedes) AS supersedes_kind
  FROM medchain.entries e WHERE e.relation = 'amend.notes' AND e.row_key IS NOT NULL
 ORDER BY e.recorded_at, e.entry_id;
-- The history table holds each replaced version as it was.
SELECT * FROM amend.notes_history ORDER BY note_id, body;
TABLE amend.notes;

-- history(): every version, oldest first, with provenance and reason.
SELECT h.kind, h.reason, h.current, h.intact, h.row_data ->> 'body' AS body,
	   h.block_height - :first_block AS block, h.supersedes IS NOT NULL AS supersedes
  FROM medchain.history('amend.notes', '{"note_id": 1}') h;
SELECT h.kind, h.reason, h.current, h.intact, h.row_data ->> 'body' AS body
  FROM medchain.history('amend.notes', '{"note_id": 2}') h;
SELECT h.kind, h.current, h.intact, h.row_data ->> 'written' AS written
  FROM medchain.history('amend.notes', '{"note_id": 3}') h;
-- A key that was never recorded has no versions.
SELECT count(*) FROM medchain.history('amend.notes', '{"note_id": 99}');
-- provenance() names the current version's entry.
SELECT n.note_id, (medchain.provenance(n)).kind, (medchain.provenance(n)).intact
  FROM amend.notes n ORDER BY n.note_id;
-- The current version's proof holds outside the server too.
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT medchain.verify_proof(medchain.proof('amend.notes', '{"note_id": 1}')) AS proof_valid;
SELECT (medchain.proof('amend.notes', '{"note_id": 1}') -> 'entry') ->> 'note' AS proven_reason;
SELECT * FROM medchain.verify();

-- A deleted key may be inserted again: a new row, not a version of the old.
INSERT INTO amend.notes VALUES (2, 'p2', 'penicillin allergy', '2026-02-01');
SELECT h.kind, h.current, h.row_data ->> 'body' AS body
  FROM medchain.history('amend.notes', '{"note_id": 2}') h;
SELECT * FROM medchain.verify();

-- The key cannot change: versions are linked by it.
UPDATE amend.notes SET note_id = 10 WHERE note_id = 3;
\echo :LAST_ERROR_SQLSTATE
-- A table can require a reason.
SELECT medchain.require_reason('amend.notes');
UPDATE amend.notes SET body = 'x' WHERE note_id = 3;
SET medchain.reason = '   ';
DELETE FROM amend.notes WHERE note_id = 3;
RESET medchain.reason;
SELECT reason_required FROM medchain.ledger_tables WHERE relation = 'amend.notes';
SELECT medchain.require_reason('amend.notes', false);

-- The history table is append-only and guarded like a ledger table.
UPDATE amend.notes_history SET body = 'x';
DELETE FROM amend.notes_history;
TRUNCATE amend.notes_history;
DROP TABLE amend.notes_history;
ALTER TABLE amend.notes_history DROP COLUMN body;
ALTER TABLE amend.notes_history RENAME TO notes_old;
-- Both tables keep the same columns.
ALTER TABLE amend.notes ADD COLUMN author text;

-- Bad input.
SELECT medchain.enable('amend.notes', mode => 'editable');
SELECT medchain.enable('amend.notes', mode => NULL);
SELECT medchain.enable('amend.notes', concurrently => true, mode => 'versioned');
CREATE TABLE amend.parted (id int, taken date, PRIMARY KEY (id, taken)) PARTITION BY RANGE (taken);
SELECT medchain.enable('amend.parted', mode => 'versioned');
DROP TABLE amend.parted;
CREATE TABLE amend.labs (lab_id int PRIMARY KEY, value numeric);
CREATE TABLE amend.labs_history (x int);
SELECT medchain.enable('amend.labs', mode => 'versioned');
DROP TABLE amend.labs_history;
SELECT medchain.require_reason('amend.labs');
SELECT medchain.enable('amend.labs');
SELECT medchain.require_reason('amend.labs');
SELECT * FROM medchain.history('amend.labs', '{"lab": 1}');
SELECT * FROM medchain.history('amend.notes_history', '{"note_id": 1}');
-- An append-only table still refuses updates.
INSERT INTO amend.labs VALUES (1, 4.2);
UPDATE amend.labs SET value = 4.3;
SELECT kind, current, intact FROM medchain.history('amend.labs', '{"lab_id": 1}');

-- What a superuser does behind the triggers, verify() names.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE amend.notes_history DISABLE TRIGGER medchain_append_only;
UPDATE amend.notes_history SET body = 'BP 110/70' WHERE body = 'BP 120/80';
DELETE FROM amend.notes_history WHERE note_id = 2;
INSERT INTO amend.notes_history VALUES (7, 'p7', 'never written', '2026-01-01');
SELECT finding, relation, row_key, entry_id IS NOT NULL AS has_entry, detail
  FROM medchain.verify() ORDER BY finding, row_key::text;
-- history() shows the altered version without data, not intact.
SELECT h.kind, h.intact, h.row_data ->> 'body' AS body
  FROM medchain.history('amend.notes', '{"note_id": 1}') h;
ROLLBACK;
-- The current row altered behind the version trigger.
BEGIN;
ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
ALTER TABLE amend.notes DISABLE TRIGGER medchain_record_version;
UPDATE amend.notes SET body = 'BP 100/60' WHERE note_id = 1;
SELECT finding, relation, row_key, detail FROM medchain.verify();
ROLLBACK;
-- The registry is a claim: verify() checks the mode against the journal.
BEGIN;
UPDATE medchain.ledger_registry SET mode = 'append-only', history_relid = NULL
 WHERE relation = 'amend.notes' AND released_at IS NULL;
SELECT finding, relation, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM medchain.verify();
ROLLBACK;

-- Under a hostile search_path, amendments and history() still work.
CREATE SCHEMA evil;
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
SET search_path = evil, public, pg_catalog;
BEGIN;
SET LOCAL medchain.reason = 'follow-up';
UPDATE amend.notes SET body = 'BP 125/80' WHERE note_id = 1;
COMMIT;
SELECT count(*) AS versions FROM medchain.history('amend.notes', '{"note_id": 1}');
SELECT * FROM medchain.verify();
RESET search_path;
DROP SCHEMA evil CASCADE;

-- Entries forged with their hashes recomputed, as a superuser can: an
-- update slipped into an append-only table, an update that supersedes no
-- version of its row, and one that replaces a version replaced already.
-- (The blocks that seal them no longer match, which verify() reports too.)
BEGIN;
SELECT medchain.seal() IS NOT NULL AS sealed;
UPDATE medchain.journal SET kind = 'update', format_version = 3, supersedes = 0
 WHERE relation = 'amend.labs' AND kind = 'insert';
UPDATE medchain.journal j SET supersedes = 424242
 WHERE relation = 'amend.notes' AND kind = 'update' AND note = 'added the arm';
UPDATE medchain.journal j SET supersedes = (SELECT s.supersedes FROM medchain.journal s
											  WHERE s.relation = 'amend.notes' AND s.note = 'follow-up')
 WHERE relation = 'amend.notes' AND kind = 'update' AND note = 'transcription error: BP was 130/80';
UPDATE medchain.journal j SET entry_hash = forge.entry_hash(j)
 WHERE relation IN ('amend.labs', 'amend.notes') AND kind IN ('update', 'insert');
SELECT finding, relation, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM medchain.verify()
 WHERE finding NOT LIKE 'block%' ORDER BY finding, detail;
ROLLBACK;

-- disable() releases both tables; the history table stays, unguarded.
SELECT medchain.disable('amend.notes', 'moved to the archive') IS NOT NULL AS released;
SELECT count(*) AS triggers FROM pg_trigger
 WHERE tgrelid IN ('amend.notes'::regclass, 'amend.notes_history'::regclass) AND NOT tgisinternal;
SELECT count(*) AS kept_versions FROM amend.notes_history;
SELECT medchain.disable('amend.labs', 'test done') IS NOT NULL AS released;
SELECT * FROM medchain.verify();
