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
	('block.node_id', jsonb_set(:'p5', '{block,node_id}', to_jsonb(repeat('33', 32)))),
	('block.signer_key', jsonb_set(:'p5', '{block,signer_key}', to_jsonb(repeat('44', 32)))),
	('block.signature', jsonb_set(:'p5', '{block,signature}', to_jsonb(repeat('55', 64)))),
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

-- Anchored proofs: a proof carries the headers from its block up to an
-- anchor, and holds against a digest of that height only if they link.
SELECT medchain.digest() AS d_head \gset
SELECT medchain.verify_proof(medchain.proof('public.labs', '{"id": 5}'), :'d_head') AS anchored_at_head,
	   medchain.verify_proof(medchain.proof('public.labs', '{"id": 5}', (:'d0'::jsonb->>'height')::bigint), :'d0')
		   AS anchored_at_older_digest,
	   medchain.verify_proof(medchain.proof('public.labs', '{"id": 5}', (:'d0'::jsonb->>'height')::bigint), :'d_head')
		   AS short_of_the_head,
	   jsonb_array_length(medchain.proof('public.labs', '{"id": 5}')->'chain') =
		   (SELECT max(height) FROM medchain.blocks) - (:'p5'::jsonb->'block'->>'height')::bigint AS headers_up_to_head;
SELECT medchain.verify_proof(:'p5', jsonb_set(:'d_head', '{block_hash}', to_jsonb(repeat('ab', 32)))) AS wrong_digest,
	   medchain.verify_proof(:'p5', jsonb_set(:'d_head', '{min_difficulty}', '20')) AS higher_floor;
-- A proof built from nothing, at difficulty 0, holds by itself but not
-- against a digest of the real chain.
SELECT jsonb_build_object('format_version', 2,
		'row', encode(r.row, 'hex'),
		'entry', jsonb_build_object('format_version', 2, 'kind', 'insert', 'entry_id', 1,
			'schema', 'public', 'table', 'labs', 'enablement_id', 1, 'row_key', '{"id": 5}',
			'row_hash', encode(sha256(r.row), 'hex'), 'recorded_by', 'mallory',
			'recorded_at', 0, 'xact', 1),
		'entry_hash', encode(e.h, 'hex'), 'leaf_index', 0, 'audit_path', '[]'::jsonb,
		'block', jsonb_build_object('height', 0, 'format_version', 2,
			'prev_hash', repeat('00', 32), 'merkle_root', encode(sha256('\x00'::bytea || e.h), 'hex'),
			'sealed_at', 0, 'entry_count', 1, 'difficulty', 0, 'min_difficulty', 0,
			'node_id', encode(sha256(convert_to('mallory', 'UTF8')), 'hex'), 'node_name', 'mallory',
			'nonce', 0, 'block_hash', encode(sha256('MCB2'::bytea || int4send(2) || int8send(0) ||
				decode(repeat('00', 32), 'hex') || sha256('\x00'::bytea || e.h) || int8send(0) ||
				int4send(1) || int4send(0) || int4send(0) || sha256(convert_to('mallory', 'UTF8')) ||
				int8send(0)), 'hex')),
		'chain', '[]'::jsonb) AS forged
  FROM (SELECT '\x520200000000'::bytea AS row) r,
	   LATERAL (SELECT sha256('\x4502'::bytea || forge.str('insert') || int8send(1) || forge.str('public')
							  || forge.str('labs') || int8send(1) || '\x01'::bytea || forge.str('{"id": 5}')
							  || sha256(r.row) || forge.str('mallory') || int8send(0) || int8send(1)) AS h) e \gset
SELECT medchain.verify_proof(:'forged') AS forged_alone, medchain.verify_proof(:'forged', :'d_head') AS forged_anchored;
SELECT medchain.proof('public.labs', '{"id": 5}', 100000);
\echo :LAST_ERROR_SQLSTATE

-- Proofs of events, and of the sealed rows of a released table.
CREATE TABLE public.released_labs (id int PRIMARY KEY, value numeric);
INSERT INTO public.released_labs VALUES (1, 4.2);
SELECT medchain.enable('public.released_labs');
SELECT medchain.disable('public.released_labs', 'moved to the archive') AS release_event \gset
SELECT medchain.seal() IS NOT NULL AS sealed;
SELECT medchain.verify_proof(medchain.proof('public.released_labs', '{"id": 1}'), medchain.digest()) AS released_row_proof,
	   sha256(medchain.row_encoding('public.released_labs', '{"id": 1}')) =
		   (SELECT row_hash FROM medchain.entries WHERE relation = 'public.released_labs' AND kind = 'baseline')
		   AS released_row_encoding;
SELECT p->'entry'->>'kind' AS kind, p->>'detail' AS detail, medchain.verify_proof(p, medchain.digest()) AS holds
  FROM (SELECT medchain.event_proof(entry_id) AS p FROM medchain.entries
		 WHERE relation = 'public.released_labs' AND kind = 'event' ORDER BY entry_id) e;
SELECT medchain.verify_proof(jsonb_set(medchain.event_proof(:release_event), '{detail}',
									   '"{\"action\": \"disable\", \"reason\": \"never\"}"')) AS altered_detail;
SELECT medchain.event_proof(-5);
\echo :LAST_ERROR_SQLSTATE
SET SESSION AUTHORIZATION regress_stranger;
SELECT medchain.event_proof(:release_event);
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
-- Once a released table's row is changed, no proof can show it.
UPDATE public.released_labs SET value = 0 WHERE id = 1;
SELECT medchain.proof('public.released_labs', '{"id": 1}');
\echo :LAST_ERROR_SQLSTATE
