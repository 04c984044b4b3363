-- Blocks: seal() turns committed pending entries into a hash-chained block
-- with an RFC 6962 Merkle root and a proof-of-work nonce.
\set ECHO none
\i test/fixtures/forge.sql
\set ECHO all
SET medchain.difficulty = 6;

-- Before the first seal: no chain, everything pending.
SELECT height IS NULL AS no_block, head_hash IS NULL AS no_head,
	   pending_entries = (SELECT count(*) FROM medchain.entries) AS all_pending,
	   oldest_pending_age >= interval '0' AS has_age
  FROM medchain.chain_status;
SELECT medchain.digest();
\echo :LAST_ERROR_SQLSTATE

-- The genesis block holds every committed pending entry, in entry_id order,
-- and the node_key event that announces the key it is signed with (the
-- earlier suites left more entries than a block holds by default).
SELECT count(*) AS pending_before FROM medchain.entries \gset
SET medchain.block_max_entries = 200000;
SELECT medchain.seal() AS genesis;
RESET medchain.block_max_entries;
SELECT height, format_version, entry_count = :pending_before + 1 AS all_sealed,
	   prev_hash = decode(repeat('00', 32), 'hex') AS zero_prev_hash,
	   difficulty, length(block_hash) AS hash_bytes,
	   first_entry_id = (SELECT min(entry_id) FROM medchain.entries) AS first_ok,
	   last_entry_id = (SELECT max(entry_id) FROM medchain.entries) AS last_ok
  FROM medchain.blocks;
-- The header, built in SQL from FORMAT.md, hashes to block_hash, which has
-- at least `difficulty` leading zero bits; the Merkle root, computed in SQL
-- from the entry hashes, is the stored one.
SELECT sha256(forge.header(b)) = b.block_hash AS header_matches,
	   forge.leading_zero_bits(b.block_hash) >= b.difficulty AS work_done,
	   forge.merkle_root(b.height) = b.merkle_root AS root_matches,
	   length(forge.header(b)) AS header_bytes
  FROM medchain.blocks b;
-- Entries record their block and their leaf index, 0 .. n-1 in id order.
SELECT count(*) FILTER (WHERE block_height = 0) = :pending_before + 1 AS all_in_block_0,
	   bool_and(leaf_index = position) AS leaf_indexes
  FROM (SELECT block_height, leaf_index, row_number() OVER (ORDER BY entry_id) - 1 AS position
		  FROM medchain.entries) e;
-- Every entry hash is what FORMAT.md's entry encoding gives.
SELECT count(*) FILTER (WHERE forge.entry_hash(e) <> e.entry_hash) AS entry_hash_mismatches,
	   count(*) > 0 AS some
  FROM medchain.journal e;
SELECT height = 0 AS at_genesis, pending_entries, oldest_pending_age IS NULL AS nothing_waits
  FROM medchain.chain_status;

-- Nothing pending: NULL.
SELECT medchain.seal() IS NULL AS nothing_to_seal;

-- max_entries: the lowest ids first, the rest later.
CREATE TABLE public.pulses (id int PRIMARY KEY, pulse int);
SELECT medchain.enable('public.pulses');
INSERT INTO public.pulses SELECT i, 60 + i FROM generate_series(1, 5) i;
SELECT medchain.seal(3) AS height;
SELECT medchain.seal() AS height;
SELECT b.height, b.entry_count, b.prev_hash = p.block_hash AS linked
  FROM medchain.blocks b JOIN medchain.blocks p ON p.height = b.height - 1 ORDER BY b.height;
SELECT e.block_height, e.leaf_index, e.kind, e.row_key FROM medchain.entries e
 WHERE e.relation = 'public.pulses' ORDER BY e.entry_id;
SELECT medchain.seal(0);
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.seal(-5);

-- An entry of a transaction still in progress waits for a later block;
-- one rolled back leaves nothing to seal.
BEGIN;
INSERT INTO public.pulses VALUES (10, 70);
PREPARE TRANSACTION 'pulses_10';
BEGIN;
INSERT INTO public.pulses VALUES (11, 71);
PREPARE TRANSACTION 'pulses_11';
INSERT INTO public.pulses VALUES (12, 72);
SELECT medchain.seal() AS height;
SELECT row_key, block_height FROM medchain.entries WHERE relation = 'public.pulses' AND row_key->>'id' IN ('10', '11', '12') ORDER BY row_key::text;
COMMIT PREPARED 'pulses_10';
ROLLBACK PREPARED 'pulses_11';
SELECT pending_entries FROM medchain.chain_status;
SELECT medchain.seal() AS height;
SELECT row_key, block_height FROM medchain.entries WHERE relation = 'public.pulses' AND row_key->>'id' IN ('10', '11', '12') ORDER BY row_key::text;
SELECT count(*) AS sealed_twice FROM (SELECT entry_id FROM medchain.entries GROUP BY 1 HAVING count(*) > 1) d;

-- A seal rolled back leaves the entries pending.
INSERT INTO public.pulses VALUES (13, 73);
BEGIN;
SELECT medchain.seal() AS height;
ROLLBACK;
SELECT pending_entries, height FROM medchain.chain_status;

-- The nonce search honours statement_timeout and rolls back cleanly.
SET medchain.difficulty = 60;
SET statement_timeout = '200ms';
\set SHOW_CONTEXT never
SELECT medchain.seal();
\set SHOW_CONTEXT errors
RESET statement_timeout;
SET medchain.difficulty = 6;
SELECT pending_entries, height FROM medchain.chain_status;
SELECT medchain.seal() AS height;

-- medchain.difficulty: range-checked, settable by superusers and
-- medchain_admin, never below the chain's difficulty.
SET medchain.difficulty = 65;
SET medchain.difficulty = -1;
SET medchain.difficulty = 5;
INSERT INTO public.pulses VALUES (14, 74);
SELECT medchain.seal();
\echo :LAST_ERROR_SQLSTATE
SET SESSION AUTHORIZATION regress_clinician;
SET medchain.difficulty = 8;
SELECT medchain.seal();
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_dba;
SET medchain.difficulty = 7;
SELECT medchain.seal() AS height;
RESET SESSION AUTHORIZATION;
SELECT height, difficulty FROM medchain.blocks ORDER BY height DESC LIMIT 1;
SET medchain.difficulty = 7;

-- Only medchain writes blocks and the pending queue.
SET SESSION AUTHORIZATION regress_dba;
UPDATE medchain.blocks SET nonce = 0;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM medchain.pending;
SELECT count(*) > 0 AS blocks_readable FROM medchain.blocks;
RESET SESSION AUTHORIZATION;

-- A journal altered behind medchain's back stops sealing with a clear
-- error.  Queued entries (events): one deleted from the journal, marked
-- sealed by hand, or its hash cut.
CREATE TABLE public.pulse_notes (id int PRIMARY KEY, note text);
BEGIN;
SELECT medchain.enable('public.pulse_notes') AS baseline;
DELETE FROM medchain.journal WHERE relation = 'public.pulse_notes' AND kind = 'event';
\set VERBOSITY sqlstate
SELECT medchain.seal();
\set VERBOSITY default
ROLLBACK;
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '[0-9]+', 'N') AS error;
BEGIN;
SELECT medchain.enable('public.pulse_notes') AS baseline;
UPDATE medchain.journal SET block_height = 0 WHERE relation = 'public.pulse_notes' AND kind = 'event';
\set VERBOSITY sqlstate
SELECT medchain.seal();
\set VERBOSITY default
ROLLBACK;
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '[0-9]+', 'N') AS error;
BEGIN;
SELECT medchain.enable('public.pulse_notes') AS baseline;
UPDATE medchain.journal SET entry_hash = '\x00' WHERE relation = 'public.pulse_notes' AND kind = 'event';
\set VERBOSITY sqlstate
SELECT medchain.seal();
\set VERBOSITY default
ROLLBACK;
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '[0-9]+', 'N') AS error;
-- Batched row entries: a batch row's packed entries cut short, or its
-- count of them changed.
BEGIN;
INSERT INTO public.pulses VALUES (15, 75), (16, 76);
UPDATE medchain.entry_batches SET entries = substr(entries, 1, 100)
 WHERE relation = 'public.pulses';
\set VERBOSITY sqlstate
SELECT medchain.seal();
\set VERBOSITY default
ROLLBACK;
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '[0-9]+', 'N', 'g') AS error;
BEGIN;
INSERT INTO public.pulses VALUES (15, 75), (16, 76);
UPDATE medchain.entry_batches SET entry_count = 3 WHERE relation = 'public.pulses';
\set VERBOSITY sqlstate
SELECT medchain.seal();
\set VERBOSITY default
ROLLBACK;
SELECT regexp_replace(:'LAST_ERROR_MESSAGE', '[0-9]+', 'N', 'g') AS error;

-- medchain.block_max_entries bounds a block: a longer queue becomes
-- several blocks, each on top of the last, and seal() returns the height
-- of the last one.  max_entries still bounds the whole call.
CREATE TABLE public.beats (id int PRIMARY KEY);
SELECT medchain.enable('public.beats');
SELECT medchain.seal() AS before_split \gset
INSERT INTO public.beats SELECT generate_series(1, 7);
SET medchain.block_max_entries = 3;
SELECT medchain.seal() - :before_split AS blocks_sealed;
INSERT INTO public.beats SELECT generate_series(8, 12);
SELECT medchain.seal(4) - :before_split AS blocks_sealed;
SELECT medchain.seal() - :before_split AS blocks_sealed;
SELECT b.height - :before_split AS block, b.entry_count, b.prev_hash = p.block_hash AS linked,
	   (SELECT string_agg(e.row_key->>'id', ',' ORDER BY e.leaf_index) FROM medchain.entries e
		 WHERE e.block_height = b.height) AS ids
  FROM medchain.blocks b JOIN medchain.blocks p ON p.height = b.height - 1
 WHERE b.height > :before_split ORDER BY b.height;
RESET medchain.block_max_entries;
SET medchain.block_max_entries = 0;
SET medchain.block_max_entries = 2147483647;

-- The whole chain, checked: clean.
SELECT * FROM medchain.verify();
