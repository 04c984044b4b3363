-- Digests and inclusion proofs, checked inside the database; the outside
-- verifier checks the same objects in test/t/005_outside_verifier.pl.
SET medchain.difficulty = 8;

-- The digest names the head block.
SELECT d ? 'node' AS has_node, (d->>'height')::bigint = (SELECT max(height) FROM medchain.blocks) AS head,
	   d->>'block_hash' = (SELECT encode(block_hash, 'hex') FROM medchain.blocks ORDER BY height DESC LIMIT 1) AS hash,
	   (d->>'sealed_at')::timestamptz = (SELECT sealed_at FROM medchain.blocks ORDER BY height DESC LIMIT 1) AS sealed_at,
	   d->'format_version' AS format_version
  FROM medchain.digest() d;
SELECT medchain.digest() AS d0 \gset
SELECT medchain.verify_digest(:'d0');
-- More blocks on top: an old digest still holds.
INSERT INTO public.labs VALUES (30, 'new', 1);
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT medchain.verify_digest(:'d0') AS old_digest_holds,
	   medchain.verify_digest(medchain.digest()) AS new_digest_holds;
-- A digest that does not match the chain.
SELECT medchain.verify_digest(jsonb_set(:'d0', '{block_hash}', to_jsonb(repeat('ab', 32)))) AS wrong_hash,
	   medchain.verify_digest(jsonb_set(:'d0', '{height}', '100000')) AS beyond_head,
	   medchain.verify_digest(jsonb_set(:'d0', '{node}', '"another-node"')) AS wrong_node;
-- A block changed below the head breaks every digest at or below it.
BEGIN;
UPDATE medchain.blocks SET nonce = nonce + 1 WHERE height = (:'d0'::jsonb->>'height')::bigint;
SELECT medchain.verify_digest(:'d0') AS after_tamper;
ROLLBACK;
-- Malformed digests are errors, not false.
SELECT medchain.verify_digest('[]');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.verify_digest(:'d0'::jsonb - 'height');
SELECT medchain.verify_digest(jsonb_set(:'d0', '{height}', '"ten"'));
SELECT medchain.verify_digest(jsonb_set(:'d0', '{height}', '-1'));
SELECT medchain.verify_digest(jsonb_set(:'d0', '{block_hash}', '"xyz"'));
SELECT medchain.verify_digest(jsonb_set(:'d0', '{format_version}', '7'));
SELECT medchain.verify_digest(:'d0'::jsonb || '{"comment": "kept in the safe"}');
-- Every member a digest gives is checked, sealed_at and the floor included.
SELECT medchain.verify_digest(jsonb_set(:'d0', '{sealed_at}', '"2001-01-01T00:00:00.000000Z"')) AS wrong_time,
	   medchain.verify_digest(jsonb_set(:'d0', '{min_difficulty}', '0')) AS wrong_floor,
	   medchain.verify_digest(jsonb_set(:'d0', '{format_version}', '1')) AS wrong_version,
	   medchain.verify_digest(:'d0'::jsonb - 'sealed_at' - 'node' - 'min_difficulty' - 'format_version') AS hash_and_height_suffice;
-- The digest reads the same whatever the session's settings.
SELECT medchain.digest() AS d_default \gset
SET TimeZone = 'Pacific/Chatham';
SET DateStyle = 'SQL, DMY';
SELECT medchain.digest() = :'d_default'::jsonb AS same_digest,
	   (medchain.digest()->>'sealed_at') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS iso_utc,
	   medchain.verify_digest(:'d_default') AS holds_here;
RESET TimeZone;
RESET DateStyle;

-- A proof of a sealed row holds, and names its block.
SELECT medchain.proof('public.labs', '{"id": 5}') AS p5 \gset
SELECT medchain.verify_proof(:'p5') AS valid,
	   :'p5'::jsonb->'entry'->>'row_key' AS row_key,
	   :'p5'::jsonb->'entry'->>'kind' AS kind,
	   (:'p5'::jsonb->'block'->>'height')::bigint = (SELECT block_height FROM medchain.entries
		WHERE relation = 'public.labs' AND row_key = '{"id": 5}') AS right_block,
	   decode(:'p5'::jsonb->>'row', 'hex') = medchain.row_encoding('public.labs', '{"id": 5}') AS row_encoding;
-- Every sealed row of the table has a valid proof.
SELECT count(*) AS rows, count(*) FILTER (WHERE medchain.verify_proof(medchain.proof('public.labs', jsonb_build_object('id', id)))) AS valid
  FROM public.labs WHERE id <= 20;
-- Any change to a proof makes it fail.
SELECT m.what, medchain.verify_proof(m.p) AS valid
  FROM (VALUES
	('row', jsonb_set(:'p5', '{row}', to_jsonb(left(:'p5'::jsonb->>'row', -1)
		|| CASE WHEN right(:'p5'::jsonb->>'row', 1) = '0' THEN '1' ELSE '0' END))),
	('entry.recorded_by', jsonb_set(:'p5', '{entry,recorded_by}', '"mallory"')),
	('entry.recorded_at', jsonb_set(:'p5', '{entry,recorded_at}', to_jsonb((:'p5'::jsonb->'entry'->>'recorded_at')::bigint + 1))),
	('entry.row_key', jsonb_set(:'p5', '{entry,row_key}', '"{\"id\": 6}"')),
	('entry_hash', jsonb_set(:'p5', '{entry_hash}', to_jsonb(repeat('00', 32)))),
	('leaf_index', jsonb_set(:'p5', '{leaf_index}', to_jsonb((:'p5'::jsonb->>'leaf_index')::int + 1))),
	('audit_path', jsonb_set(:'p5', '{audit_path,0}', to_jsonb(repeat('11', 32)))),
	('audit_path shortened', jsonb_set(:'p5', '{audit_path}', (:'p5'::jsonb->'audit_path') - 0)),
	('block.merkle_root', jsonb_set(:'p5', '{block,merkle_root}', to_jsonb(repeat('22', 32)))),
	('block.nonce', jsonb_set(:'p5', '{block,nonce}', to_jsonb((:'p5'::jsonb->'block'->>'nonce')::numeric + 1))),
	('block.entry_count', jsonb_set(:'p5', '{block,entry_count}', to_jsonb((:'p5'::jsonb->'block'->>'entry_count')::int + 1))),
	('block.node_name', jsonb_set(:'p5', '{block,node_name}', '"another-node"')),
	('block.difficulty', jsonb_set(:'p5', '{block,difficulty}', '40'))
  ) AS m(what, p);
-- Malformed proofs are errors.
SELECT medchain.verify_proof('{}');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.verify_proof(:'p5'::jsonb - 'entry');
SELECT medchain.verify_proof(jsonb_set(:'p5', '{row}', '"not hex"'));
SELECT medchain.verify_proof(jsonb_set(:'p5', '{audit_path}', '"not an array"'));
SELECT medchain.verify_proof(jsonb_set(:'p5', '{block,nonce}', '-1'));
SELECT medchain.verify_proof(jsonb_set(:'p5', '{format_version}', '7'));
-- No proof for a row that is pending, unknown, or not in a ledger table.
INSERT INTO public.labs VALUES (40, 'pending', 1);
\set VERBOSITY terse
SELECT medchain.proof('public.labs', '{"id": 40}');
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.proof('public.labs', '{"id": 4000}');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.proof('public.labs', '{"nope": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.proof('public.keyless', '{"id": 1}');
\echo :LAST_ERROR_SQLSTATE
-- A proof holds the row: it needs SELECT on the table.
SET SESSION AUTHORIZATION regress_stranger;
SELECT medchain.proof('public.labs', '{"id": 5}');
\echo :LAST_ERROR_SQLSTATE
SELECT medchain.verify_proof(:'p5') AS anyone_can_check;
RESET SESSION AUTHORIZATION;

-- The export: one object per block, hashes only, entry hashes in leaf order.
SELECT count(*) = (SELECT count(*) FROM medchain.blocks) AS one_per_block,
	   bool_and(jsonb_array_length(x->'entry_hashes') = (x->>'entry_count')::int) AS all_entry_hashes,
	   bool_and(NOT x ? 'row' AND NOT x ? 'row_key') AS no_patient_data
  FROM medchain.export_chain() x;
SELECT min((x->>'height')::bigint) = 2 AS from_height FROM medchain.export_chain(2) x;
SELECT x->'entry_hashes'->((:'p5'::jsonb->>'leaf_index')::int) = :'p5'::jsonb->'entry_hash' AS leaf_in_export
  FROM medchain.export_chain() x WHERE (x->>'height')::bigint = (:'p5'::jsonb->'block'->>'height')::bigint;
SET SESSION AUTHORIZATION regress_clinician;
SELECT count(*) FROM medchain.export_chain();
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
