/* medchain--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medchain UPDATE TO '1.5'" to load this file. \quit

------------------------------------------------------------------------
-- Provenance for analysts (docs/DESIGN.md, "Provenance"): where a row
-- came from and how well it is proven, in plain SQL, at the cost of index
-- lookups.
------------------------------------------------------------------------

CREATE FUNCTION medchain.provenance(r record,
	OUT entry_id bigint, OUT kind text, OUT recorded_by name,
	OUT recorded_at timestamptz, OUT xact xid8, OUT block_height bigint,
	OUT block_hash bytea, OUT sealed_at timestamptz, OUT confirmations bigint,
	OUT peers_holding integer, OUT cosigners integer, OUT intact boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'medchain_provenance'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION medchain.provenance(record) IS
	'Where a row of a ledger table came from: its entry, who recorded it and when, the block that seals it, how many blocks, peers and cosigners stand behind that block, and whether the row still hashes to its entry';
GRANT EXECUTE ON FUNCTION medchain.provenance(record) TO PUBLIC;

-- The journal's entries of one row are found by a 64-bit hash of the
-- relation and the key's canonical text (FORMAT.md's row key), an integer
-- rather than a jsonb value.  Its index is a hash index: a lookup reads one
-- bucket page rather than descending a btree page by page, and nothing
-- asks for a range of key_hash.  The hash is a lookup aid, covered by no
-- entry hash: medchain compares the relation and the key of every entry
-- it finds through it, and falls back to the (relation, row_key) index
-- when it finds none.
ALTER TABLE medchain.journal ADD COLUMN key_hash bigint;
COMMENT ON COLUMN medchain.journal.key_hash IS
	'Hash of relation and row_key, to find a row''s entries; checked against both, covered by no hash';
CREATE FUNCTION medchain.key_hash(relation text, row_key jsonb)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_key_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION medchain.key_hash(text, jsonb) IS
	'The journal''s key_hash of a row entry: a 64-bit hash of its relation and its key''s canonical JSON';
UPDATE medchain.journal SET key_hash = medchain.key_hash(relation, row_key)
 WHERE row_key IS NOT NULL;
CREATE INDEX journal_key_hash_idx ON medchain.journal USING hash (key_hash);

------------------------------------------------------------------------
-- Amendments (docs/DESIGN.md, "Amendments"): a versioned ledger table
-- takes UPDATE and DELETE but destroys nothing.  The version a change
-- replaces moves to the table's history table, and the change is an entry
-- of its own, of kind update or delete, format version 3: it names the
-- entry it supersedes and carries the reason given in medchain.reason.
------------------------------------------------------------------------

ALTER TABLE medchain.journal ADD COLUMN supersedes bigint,
	ADD COLUMN note text;
COMMENT ON COLUMN medchain.journal.supersedes IS
	'Format version 3: the entry whose version of the row this one replaces or removes, 0 for none';
COMMENT ON COLUMN medchain.journal.note IS
	'Format version 3: the reason of an amendment, the label of a notarization';

-- The view shows the two columns; what it showed before stays first, and
-- key_hash, a lookup aid covered by no hash, stays out of it.
CREATE OR REPLACE VIEW medchain.entries WITH (security_invoker = true) AS
SELECT j.entry_id, j.relation, j.row_key, j.row_hash, j.entry_hash, j.kind,
	   j.recorded_by, j.recorded_at, j.xact, j.detail, j.block_height,
	   j.leaf_index, j.format_version, j.enablement_id, j.supersedes, j.note
  FROM medchain.journal j
UNION ALL
SELECT b.entry_id, b.relation, b.row_key, b.row_hash, b.entry_hash, b.kind,
	   b.recorded_by, b.recorded_at, b.xact, b.detail, b.block_height,
	   b.leaf_index, b.format_version, b.enablement_id, b.supersedes, b.note
  FROM medchain.batched_entries() b;

ALTER TABLE medchain.ledger_registry
	ADD COLUMN mode text NOT NULL DEFAULT 'append-only',
	ADD COLUMN history_relid regclass,
	ADD COLUMN history_table text,
	ADD COLUMN reason_required boolean NOT NULL DEFAULT false,
	ADD CONSTRAINT ledger_registry_mode_known
		CHECK (mode IN ('append-only', 'versioned')),
	ADD CONSTRAINT ledger_registry_released_has_no_history_relid
		CHECK (released_at IS NULL OR history_relid IS NULL);
COMMENT ON COLUMN medchain.ledger_registry.mode IS
	'append-only, or versioned: UPDATE and DELETE keep the replaced version in the history table';
COMMENT ON COLUMN medchain.ledger_registry.history_table IS
	'Versioned tables: the table that holds the versions updates and deletes replaced';
COMMENT ON COLUMN medchain.ledger_registry.reason_required IS
	'Versioned tables: an update or delete without medchain.reason is refused';

DROP FUNCTION medchain.enable(regclass, boolean);
CREATE FUNCTION medchain.enable(tbl regclass, concurrently boolean DEFAULT false,
	mode text DEFAULT 'append-only')
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_enable'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.enable(regclass, boolean, text) IS
	'Make a table a ledger table; returns the number of existing rows recorded.  mode => ''versioned'' allows UPDATE and DELETE, keeping every replaced version; concurrently => true lets inserts go on meanwhile';
REVOKE ALL ON FUNCTION medchain.enable(regclass, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.enable(regclass, boolean, text) TO medchain_admin;

CREATE FUNCTION medchain.record_version()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medchain_record_version'
LANGUAGE C;
COMMENT ON FUNCTION medchain.record_version() IS
	'Trigger of versioned ledger tables: keeps the replaced version and records the update or delete';

CREATE FUNCTION medchain.require_reason(tbl regclass, required boolean DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'medchain_require_reason'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION medchain.require_reason(regclass, boolean) IS
	'Make medchain.reason mandatory (or optional again) for updates and deletes of a versioned ledger table';
REVOKE ALL ON FUNCTION medchain.require_reason(regclass, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.require_reason(regclass, boolean) TO medchain_admin;

CREATE FUNCTION medchain.history(tbl regclass, key jsonb,
	OUT entry_id bigint, OUT kind text, OUT recorded_by name,
	OUT recorded_at timestamptz, OUT xact xid8, OUT block_height bigint,
	OUT block_hash bytea, OUT sealed_at timestamptz, OUT confirmations bigint,
	OUT peers_holding integer, OUT cosigners integer, OUT intact boolean,
	OUT supersedes bigint, OUT reason text, OUT current boolean,
	OUT row_data jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medchain_history'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION medchain.history(regclass, jsonb) IS
	'Every recorded version of the row with this key, oldest first: its entry and proof as provenance() gives them, the reason of an amendment, and the version''s data where it is still stored';
GRANT EXECUTE ON FUNCTION medchain.history(regclass, jsonb) TO PUBLIC;

CREATE OR REPLACE VIEW medchain.ledger_tables AS
SELECT r.relation,
	   r.key_columns,
	   r.enabled_at,
	   r.enabled_by,
	   medchain.rows_recorded(r.relation, r.enablement_id) AS rows_recorded,
	   r.state,
	   p.blocks_done AS baseline_blocks_done,
	   p.heap_blocks AS baseline_blocks,
	   p.baseline_rows AS baseline_rows_recorded,
	   p.rows_estimated AS baseline_rows_estimated,
	   p.updated_at AS baseline_updated_at,
	   p.worker_pid AS baseline_worker_pid,
	   p.last_error AS baseline_error,
	   r.mode,
	   r.history_table,
	   r.reason_required
  FROM medchain.ledger_registry r
  LEFT JOIN medchain.enable_progress p
	ON p.registration_id OPERATOR(pg_catalog.=) r.registration_id
 WHERE r.released_at IS NULL
   AND (pg_catalog.pg_has_role('medchain_auditor', 'USAGE')
		OR medchain.can_read_relation(r.relation));
-- The compliance report (docs/DESIGN.md, "The compliance report"): what
-- a compliance officer files, in one statement.  The findings are the
-- scrubber's while it runs and its last pass is recent, otherwise those
-- of a verify() run for the report; nothing is checked twice, and
-- nothing here checks anything verify() does not.  Every time is in UTC.
------------------------------------------------------------------------

CREATE FUNCTION medchain.compliance_report(max_scrub_age interval DEFAULT interval '1 day')
RETURNS jsonb
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET IntervalStyle = 'postgres'
AS $$
	WITH scrubber AS (
		SELECT s.last_pass_started_at, s.last_pass_finished_at,
			   EXISTS (SELECT 1 FROM medchain.worker_status w
						WHERE w.database OPERATOR(pg_catalog.=) pg_catalog.current_database()
						  AND w.process OPERATOR(pg_catalog.=) 'scrubber'
						  AND w.pid IS NOT NULL)
			   AND pg_catalog.current_setting('medchain.scrub_rate', true) OPERATOR(pg_catalog.<>) '0' AS running
		  FROM medchain.scrub_status s
	),
	source AS (
		SELECT s.*,
			   coalesce(s.running AND s.last_pass_finished_at OPERATOR(pg_catalog.>=)
						(pg_catalog.statement_timestamp() OPERATOR(pg_catalog.-) compliance_report.max_scrub_age),
						false) AS from_scrubber
		  FROM scrubber s
	),
	-- One source or the other: the condition is a constant of the query,
	-- so verify() runs only when the scrubber's findings are not used.
	found AS (
		SELECT f.finding, f.relation, f.row_key, f.entry_id, f.block_height, f.detail,
			   f.first_seen, f.last_seen
		  FROM medchain.findings f
		 WHERE f.resolved_at IS NULL AND (SELECT s.from_scrubber FROM source s)
		UNION ALL
		SELECT v.finding, v.relation, v.row_key, v.entry_id, v.block_height, v.detail,
			   NULL::timestamptz, NULL::timestamptz
		  FROM medchain.verify() v
		 WHERE NOT (SELECT s.from_scrubber FROM source s)
	),
	tally AS (
		SELECT pg_catalog.count(*) AS open,
			   coalesce(pg_catalog.jsonb_object_agg(k.finding, k.n), '{}') AS by_kind
		  FROM (SELECT f.finding, pg_catalog.count(*) AS n FROM found f GROUP BY f.finding) k
	),
	-- A report lists the first thousand; the tally counts them all.
	listed AS (
		SELECT f.* FROM found f
		 ORDER BY f.relation COLLATE pg_catalog."C", f.entry_id, f.block_height,
				  f.finding COLLATE pg_catalog."C", f.row_key::pg_catalog.text COLLATE pg_catalog."C"
		 LIMIT 1000
	),
	-- Every entry of each relation, sealed or pending, in one pass over the
	-- journal and the batches.
	journal AS (
		SELECT e.relation, pg_catalog.count(*) AS entries,
			   pg_catalog.count(e.block_height) AS sealed,
			   pg_catalog.count(*) FILTER (WHERE e.block_height IS NULL) AS pending,
			   pg_catalog.min(e.recorded_at) FILTER (WHERE e.block_height IS NULL) AS oldest_pending_at
		  FROM medchain.entries e
		 GROUP BY e.relation
	),
	-- Each table's latest registration; a relation with entries and none
	-- is one the registry lost (verify() names it registry_modified).
	registration AS (
		SELECT DISTINCT ON (r.relation) r.*
		  FROM medchain.ledger_registry r
		 ORDER BY r.relation, r.registration_id DESC
	),
	ledger AS (
		SELECT coalesce(r.relation, j.relation) AS relation,
			   CASE WHEN r.relation IS NULL THEN 'unregistered'
					WHEN r.released_at IS NOT NULL THEN 'released'
					ELSE r.state END AS state,
			   r.key_columns, r.enabled_at, r.enabled_by, r.released_at, r.released_by, r.release_reason,
			   CASE WHEN r.released_at IS NULL
					THEN medchain.rows_recorded(r.relation, r.enablement_id) END AS rows_recorded,
			   coalesce(j.entries, 0) AS entries, coalesce(j.sealed, 0) AS sealed,
			   coalesce(j.pending, 0) AS pending, j.oldest_pending_at
		  FROM registration r
		  FULL JOIN (SELECT * FROM journal
					  WHERE relation OPERATOR(pg_catalog.<>) 'medchain.blocks') j
			ON j.relation OPERATOR(pg_catalog.=) r.relation
	),
	head AS (
		SELECT b.* FROM medchain.blocks b ORDER BY b.height DESC LIMIT 1
	),
	signer AS (
		SELECT b.signer_key, pg_catalog.min(b.height) AS first_height,
			   pg_catalog.max(b.height) AS last_height, pg_catalog.count(*) AS blocks,
			   (pg_catalog.array_agg(b.node_name ORDER BY b.height DESC))[1] AS node_name
		  FROM medchain.blocks b
		 GROUP BY b.signer_key
	),
	peer AS (
		SELECT d.name, d.node_id, s.reachable, s.last_contact, s.their_height, s.blocks_behind,
			   s.last_status, s.last_error,
			   (SELECT pg_catalog.count(*) FROM medchain.cosignatures c
				  JOIN medchain.blocks b ON b.height OPERATOR(pg_catalog.=) c.height
										AND b.block_hash OPERATOR(pg_catalog.=) c.block_hash
				 WHERE c.cosigner_id OPERATOR(pg_catalog.=) d.node_id) AS cosigned_blocks,
			   EXISTS (SELECT 1 FROM medchain.cosignatures c, head h
						WHERE c.cosigner_id OPERATOR(pg_catalog.=) d.node_id
						  AND c.height OPERATOR(pg_catalog.=) h.height
						  AND c.block_hash OPERATOR(pg_catalog.=) h.block_hash) AS cosigned_head
		  FROM medchain.peer_directory d
		  JOIN medchain.peer_status s ON s.peer OPERATOR(pg_catalog.=) d.name
	)
	SELECT pg_catalog.jsonb_build_object(
		'report', 'medchain compliance report',
		'verdict', CASE WHEN f.open OPERATOR(pg_catalog.=) 0 THEN 'clean' ELSE 'findings' END,
		'open_findings', f.open,
		'generated_at', pg_catalog.statement_timestamp(),
		'generated_by', pg_catalog.jsonb_build_object(
			'session_user', session_user,
			'current_user', current_user,
			'sees_every_table', pg_catalog.pg_has_role('medchain_auditor', 'USAGE')),
		'database', pg_catalog.current_database(),
		'extension_version', (SELECT x.extversion FROM pg_catalog.pg_extension x
							   WHERE x.extname OPERATOR(pg_catalog.=) 'medchain'),
		'node', medchain.node_identity(),
		'findings_source', pg_catalog.jsonb_build_object(
			'source', CASE WHEN s.from_scrubber THEN 'scrubber' ELSE 'verify' END,
			'max_scrub_age', compliance_report.max_scrub_age,
			'scrubber_running', s.running,
			'scrubber_last_pass_started_at', s.last_pass_started_at,
			'scrubber_last_pass_finished_at', s.last_pass_finished_at),
		'findings_by_kind', f.by_kind,
		'findings', coalesce((SELECT pg_catalog.jsonb_agg(
									CASE WHEN s.from_scrubber THEN pg_catalog.to_jsonb(l.*)
										 ELSE pg_catalog.to_jsonb(l.*) OPERATOR(pg_catalog.-) 'first_seen'
											  OPERATOR(pg_catalog.-) 'last_seen' END)
								FROM listed l), '[]'),
		'ledger_tables', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t.*)
															   ORDER BY t.relation COLLATE pg_catalog."C")
									 FROM ledger t), '[]'),
		'chain', (SELECT pg_catalog.jsonb_build_object(
					'height', h.height,
					'head_hash', pg_catalog.encode(h.block_hash, 'hex'),
					'head_sealed_at', h.sealed_at,
					'difficulty', h.difficulty,
					'entries_sealed', (SELECT coalesce(pg_catalog.sum(b.entry_count), 0) FROM medchain.blocks b),
					'entries_pending', (SELECT coalesce(pg_catalog.sum(j.pending), 0) FROM journal j),
					'oldest_pending_at', (SELECT pg_catalog.min(j.oldest_pending_at) FROM journal j),
					'signers', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
										'public_key', pg_catalog.encode(g.signer_key, 'hex'),
										'fingerprint', pg_catalog.encode(pg_catalog.sha256(g.signer_key), 'hex'),
										'node_name', g.node_name,
										'first_height', g.first_height, 'last_height', g.last_height,
										'blocks', g.blocks) ORDER BY g.first_height)
										   FROM signer g), '[]'),
					'sealing_halt', (SELECT pg_catalog.to_jsonb(x.*) OPERATOR(pg_catalog.-) 'only_row'
									   FROM medchain.sealing_halt x))
					FROM (SELECT 1) one LEFT JOIN head h ON true),
		'network', CASE WHEN EXISTS (SELECT 1 FROM peer) THEN pg_catalog.jsonb_build_object(
			'peers', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
							'name', p.name, 'fingerprint', pg_catalog.encode(p.node_id, 'hex'),
							'reachable', p.reachable, 'last_contact', p.last_contact,
							'their_height', p.their_height, 'blocks_behind', p.blocks_behind,
							'last_status', p.last_status, 'last_error', p.last_error,
							'cosigned_blocks', p.cosigned_blocks, 'cosigned_head', p.cosigned_head)
							ORDER BY p.name COLLATE pg_catalog."C")
						FROM peer p),
			'head_held_by', (SELECT pg_catalog.count(*) FROM peer p, head h
							  WHERE p.their_height OPERATOR(pg_catalog.>=) h.height),
			'head_cosigned_by', (SELECT pg_catalog.count(*) FROM peer p WHERE p.cosigned_head),
			'consensus', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
										'origin', c.origin, 'chain_id', pg_catalog.encode(c.chain_id, 'hex'),
										'height', c.height, 'verdict', c.verdict, 'agreeing', c.agreeing,
										'disagreeing', c.disagreeing, 'unreachable', c.unreachable,
										'first_divergent_height', c.first_divergent_height,
										'detail', c.detail, 'checked_at', c.checked_at)
										ORDER BY c.origin COLLATE pg_catalog."C")
									 FROM medchain.consensus_status c), '[]'),
			'rejected_blocks', (SELECT pg_catalog.count(*) FROM medchain.rejected_blocks),
			'equivocations', (SELECT pg_catalog.count(*) FROM medchain.equivocations)) END,
		'digest', CASE WHEN EXISTS (SELECT 1 FROM head) THEN medchain.digest() END)
	  FROM tally f, source s
$$;
COMMENT ON FUNCTION medchain.compliance_report(interval) IS
	'The compliance report as JSON: verdict, who generated it where, open findings (the scrubber''s if its last pass ended within max_scrub_age, else verify() now), each ledger table''s rows and entries, the chain, the network, and the digest to keep';
REVOKE ALL ON FUNCTION medchain.compliance_report(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.compliance_report(interval) TO medchain_auditor, medchain_admin;

-- The same report as plain text to file: fixed sections, aligned tables.
-- It is rendered from compliance_report()'s JSON, so the two never differ.
CREATE FUNCTION medchain.compliance_report_text(max_scrub_age interval DEFAULT interval '1 day')
RETURNS text
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
	WITH report AS (
		SELECT d.doc, r.*, w.*, s.*, c.*
		  FROM (SELECT medchain.compliance_report(compliance_report_text.max_scrub_age) AS doc) d,
			   pg_catalog.jsonb_to_record(d.doc) AS r(verdict text, open_findings bigint,
					generated_at text, generated_by jsonb, database text, extension_version text,
					node jsonb, findings_source jsonb, findings_by_kind jsonb, findings jsonb,
					ledger_tables jsonb, chain jsonb, network jsonb, digest jsonb),
			   pg_catalog.jsonb_to_record(r.generated_by) AS w("session_user" text,
					"current_user" text, sees_every_table boolean),
			   pg_catalog.jsonb_to_record(r.findings_source) AS s(source text, max_scrub_age text,
					scrubber_running boolean,
					scrubber_last_pass_started_at text, scrubber_last_pass_finished_at text),
			   pg_catalog.jsonb_to_record(r.chain) AS c(height bigint, head_hash text,
					head_sealed_at text, difficulty integer, entries_sealed bigint,
					entries_pending bigint, oldest_pending_at text, signers jsonb, sealing_halt jsonb)
	),
	-- The report's tables: a header, then a line per row.
	grid (section, n, cells, right_aligned) AS (
		SELECT 'ledger', 0::bigint,
			   ARRAY['relation', 'state', 'rows recorded', 'entries', 'sealed', 'pending', 'oldest pending'],
			   ARRAY[3, 4, 5, 6]
		UNION ALL
		SELECT 'ledger', t.ordinality,
			   ARRAY[t.relation, t.state, t.rows_recorded::pg_catalog.text, t.entries::pg_catalog.text,
					 t.sealed::pg_catalog.text, t.pending::pg_catalog.text, t.oldest_pending_at],
			   ARRAY[3, 4, 5, 6]
		  FROM report r,
			   ROWS FROM (pg_catalog.jsonb_to_recordset(r.ledger_tables)
				 AS (relation text, state text, rows_recorded bigint, entries bigint, sealed bigint,
					  pending bigint, oldest_pending_at text))
				WITH ORDINALITY AS t
		UNION ALL
		SELECT 'signers', 0, ARRAY['signer key fingerprint', 'node', 'heights', 'blocks'], ARRAY[4]
		UNION ALL
		SELECT 'signers', g.ordinality,
			   ARRAY[coalesce(g.fingerprint, '(unsigned: formats 1 and 2)'), g.node_name,
					 pg_catalog.concat(g.first_height, '-', g.last_height), g.blocks::pg_catalog.text],
			   ARRAY[4]
		  FROM report r,
			   ROWS FROM (pg_catalog.jsonb_to_recordset(r.signers)
				 AS (fingerprint text, node_name text, first_height bigint, last_height bigint,
					  blocks bigint))
				WITH ORDINALITY AS g
		UNION ALL
		SELECT 'peers', 0,
			   ARRAY['peer', 'key fingerprint', 'reachable', 'their height', 'behind', 'last status',
					 'cosigned blocks', 'cosigned head'],
			   ARRAY[4, 5, 7]
		UNION ALL
		SELECT 'peers', p.ordinality,
			   ARRAY[p.name, p.fingerprint, CASE WHEN p.reachable THEN 'yes' ELSE 'no' END,
					 p.their_height::pg_catalog.text, p.blocks_behind::pg_catalog.text,
					 pg_catalog.concat_ws(': ', p.last_status, p.last_error),
					 p.cosigned_blocks::pg_catalog.text, CASE WHEN p.cosigned_head THEN 'yes' ELSE 'no' END],
			   ARRAY[4, 5, 7]
		  FROM report r,
			   ROWS FROM (pg_catalog.jsonb_to_recordset(r.network OPERATOR(pg_catalog.->) 'peers')
				 AS (name text, fingerprint text, reachable boolean, their_height bigint,
					  blocks_behind bigint, last_status text, last_error text, cosigned_blocks bigint,
					  cosigned_head boolean))
				WITH ORDINALITY AS p
		UNION ALL
		SELECT 'consensus', 0,
			   ARRAY['chain of', 'height', 'verdict', 'agreeing', 'disagreeing', 'unreachable',
					 'first divergent', 'checked at'],
			   ARRAY[2, 4, 5, 6, 7]
		UNION ALL
		SELECT 'consensus', k.ordinality,
			   ARRAY[k.origin, k.height::pg_catalog.text, k.verdict, k.agreeing::pg_catalog.text,
					 k.disagreeing::pg_catalog.text, k.unreachable::pg_catalog.text,
					 k.first_divergent_height::pg_catalog.text, k.checked_at],
			   ARRAY[2, 4, 5, 6, 7]
		  FROM report r,
			   ROWS FROM (pg_catalog.jsonb_to_recordset(r.network OPERATOR(pg_catalog.->) 'consensus')
				 AS (origin text, height bigint, verdict text, agreeing integer, disagreeing integer,
					  unreachable integer, first_divergent_height bigint, checked_at text))
				WITH ORDINALITY AS k
	),
	cell AS (
		SELECT g.section, g.n, c.i, coalesce(c.v, '-') AS v,
			   c.i OPERATOR(pg_catalog.=) ANY (g.right_aligned) AS right_aligned
		  FROM grid g, pg_catalog.unnest(g.cells) WITH ORDINALITY c(v, i)
	),
	width AS (
		SELECT c.section, c.i, pg_catalog.max(pg_catalog.length(c.v)) AS w
		  FROM cell c GROUP BY c.section, c.i
	),
	line AS (
		SELECT c.section, c.n,
			   pg_catalog.rtrim(pg_catalog.concat('  ', pg_catalog.string_agg(
					CASE WHEN c.right_aligned THEN pg_catalog.lpad(c.v, w.w::integer)
						 ELSE pg_catalog.rpad(c.v, w.w::integer) END, '  ' ORDER BY c.i))) AS text
		  FROM cell c
		  JOIN width w ON w.section OPERATOR(pg_catalog.=) c.section AND w.i OPERATOR(pg_catalog.=) c.i
		 GROUP BY c.section, c.n
	),
	-- A table with no row but its header is left out.
	tabled AS (
		SELECT l.section, pg_catalog.string_agg(l.text, E'\n' ORDER BY l.n) AS text
		  FROM line l GROUP BY l.section HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
	),
	listed AS (
		SELECT pg_catalog.string_agg(pg_catalog.concat_ws(E'\n',
					pg_catalog.format('  %s. %s', f.ordinality, pg_catalog.concat_ws(', ', f.finding, f.relation,
						'row ' OPERATOR(pg_catalog.||) f.row_key, 'entry ' OPERATOR(pg_catalog.||) f.entry_id,
						'block ' OPERATOR(pg_catalog.||) f.block_height)),
					'     ' OPERATOR(pg_catalog.||) f.detail,
					CASE WHEN f.first_seen IS NOT NULL
						 THEN pg_catalog.format('     first seen %s, last seen %s', f.first_seen, f.last_seen) END),
					E'\n' ORDER BY f.ordinality) AS text
		  FROM report r,
			   ROWS FROM (pg_catalog.jsonb_to_recordset(r.findings)
				 AS (finding text, relation text, row_key text, entry_id text, block_height text,
					  detail text, first_seen text, last_seen text))
				WITH ORDINALITY AS f
	)
	SELECT pg_catalog.concat_ws(E'\n',
		'medchain compliance report',
		'==========================',
		pg_catalog.format('%-20s %s', 'Verdict',
			CASE WHEN r.verdict OPERATOR(pg_catalog.=) 'clean' THEN 'CLEAN: no open findings'
				 ELSE pg_catalog.format('FINDINGS: %s open (%s)', r.open_findings,
						(SELECT pg_catalog.string_agg(pg_catalog.concat(k.key, ' ', k.value), ', '
													  ORDER BY k.key COLLATE pg_catalog."C")
						   FROM pg_catalog.jsonb_each_text(r.findings_by_kind) k)) END),
		pg_catalog.format('%-20s %s', 'Generated at', r.generated_at),
		pg_catalog.format('%-20s %s%s', 'Generated by', r."session_user",
			CASE WHEN r."current_user" OPERATOR(pg_catalog.<>) r."session_user"
				 THEN pg_catalog.format(' (as role %s)', r."current_user") END),
		pg_catalog.format('%-20s %s', 'Database', r.database),
		pg_catalog.format('%-20s %s (key fingerprint %s)', 'Node',
			r.node OPERATOR(pg_catalog.->>) 'node_name', r.node OPERATOR(pg_catalog.->>) 'fingerprint'),
		pg_catalog.format('%-20s %s', 'Chain id',
			coalesce(r.node OPERATOR(pg_catalog.->>) 'chain_id', 'none yet: nothing is sealed')),
		pg_catalog.format('%-20s %s', 'medchain version', r.extension_version),
		'All times are in UTC.',
		CASE WHEN NOT r.sees_every_table
			 THEN pg_catalog.format('Note: %s is not a member of medchain_auditor: "Ledger tables" lists only'
									' the tables %s may read; the findings and the chain cover all of them.',
									r."current_user", r."current_user") END,
		'',
		'Findings',
		'--------',
		CASE WHEN r.source OPERATOR(pg_catalog.=) 'scrubber'
			 THEN pg_catalog.format('%-20s the scrubber''s last full pass, from %s to %s (max_scrub_age %s)',
									'Source', r.scrubber_last_pass_started_at,
									r.scrubber_last_pass_finished_at, r.max_scrub_age)
			 ELSE pg_catalog.format('%-20s verify(), run for this report: %s', 'Source',
					CASE WHEN NOT r.scrubber_running THEN 'the scrubber is not running in this database'
						 WHEN r.scrubber_last_pass_finished_at IS NULL THEN 'the scrubber has not finished a pass'
						 ELSE pg_catalog.format('the scrubber''s last pass ended at %s, longer ago than max_scrub_age %s',
												r.scrubber_last_pass_finished_at, r.max_scrub_age) END) END,
		pg_catalog.format('%-20s %s', 'Open findings', r.open_findings),
		(SELECT l.text FROM listed l),
		CASE WHEN r.open_findings OPERATOR(pg_catalog.>) pg_catalog.jsonb_array_length(r.findings)
			 THEN pg_catalog.format('  ... and %s more, which %s lists', r.open_findings OPERATOR(pg_catalog.-)
									pg_catalog.jsonb_array_length(r.findings),
									CASE WHEN r.source OPERATOR(pg_catalog.=) 'scrubber' THEN 'medchain.findings'
										 ELSE 'medchain.verify()' END) END,
		'',
		'Ledger tables',
		'-------------',
		coalesce((SELECT t.text FROM tabled t WHERE t.section OPERATOR(pg_catalog.=) 'ledger'), '  none'),
		'',
		'Chain',
		'-----',
		CASE WHEN r.height IS NULL
			 THEN pg_catalog.format('%-20s none: nothing is sealed yet', 'Height')
			 ELSE pg_catalog.concat_ws(E'\n',
					pg_catalog.format('%-20s %s', 'Height', r.height),
					pg_catalog.format('%-20s %s', 'Head block hash', r.head_hash),
					pg_catalog.format('%-20s %s', 'Head sealed at', r.head_sealed_at),
					pg_catalog.format('%-20s %s bits', 'Difficulty', r.difficulty)) END,
		pg_catalog.format('%-20s %s', 'Entries sealed', r.entries_sealed),
		pg_catalog.format('%-20s %s%s', 'Entries pending', r.entries_pending,
			CASE WHEN r.oldest_pending_at IS NOT NULL
				 THEN pg_catalog.format(', the oldest recorded at %s', r.oldest_pending_at) END),
		CASE WHEN r.sealing_halt IS NOT NULL
			 THEN pg_catalog.format('%-20s halted since %s: peer %s holds this chain up to height %s, this node up to %s',
									'Sealing', r.sealing_halt OPERATOR(pg_catalog.->>) 'halted_at',
									r.sealing_halt OPERATOR(pg_catalog.->>) 'peer',
									r.sealing_halt OPERATOR(pg_catalog.->>) 'published_height',
									r.sealing_halt OPERATOR(pg_catalog.->>) 'own_height') END,
		CASE WHEN r.height IS NOT NULL THEN 'Blocks by signer' END,
		(SELECT t.text FROM tabled t WHERE t.section OPERATOR(pg_catalog.=) 'signers'),
		'',
		'Network',
		'-------',
		CASE WHEN r.network IS NULL
			 THEN 'None: no peers are registered, so no other node holds or cosigns this chain and no consensus is checked.'
			 ELSE pg_catalog.concat_ws(E'\n',
					pg_catalog.format('%-20s %s registered', 'Peers',
						pg_catalog.jsonb_array_length(r.network OPERATOR(pg_catalog.->) 'peers')),
					(SELECT t.text FROM tabled t WHERE t.section OPERATOR(pg_catalog.=) 'peers'),
					CASE WHEN r.height IS NOT NULL
						 THEN pg_catalog.format('%-20s held by %s, cosigned by %s', 'Head block',
								r.network OPERATOR(pg_catalog.->>) 'head_held_by',
								r.network OPERATOR(pg_catalog.->>) 'head_cosigned_by') END,
					pg_catalog.format('%-20s %s blocks refused, %s equivocations', 'Evidence kept',
						r.network OPERATOR(pg_catalog.->>) 'rejected_blocks',
						r.network OPERATOR(pg_catalog.->>) 'equivocations'),
					'Consensus',
					coalesce((SELECT t.text FROM tabled t WHERE t.section OPERATOR(pg_catalog.=) 'consensus'),
							 '  not checked yet')) END,
		'',
		'Digest to keep',
		'--------------',
		coalesce(r.digest::pg_catalog.text, 'None: nothing is sealed yet.'),
		CASE WHEN r.digest IS NOT NULL
			 THEN E'Keep it outside the database.  Later, SELECT medchain.verify_digest(''<digest>'') shows\n'
				  'whether the chain still holds this block, unchanged, with every block above it intact.' END)
	  FROM report r
$$;
COMMENT ON FUNCTION medchain.compliance_report_text(interval) IS
	'medchain.compliance_report() as plain text to file: verdict, findings, ledger tables, chain, network, digest';
REVOKE ALL ON FUNCTION medchain.compliance_report_text(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.compliance_report_text(interval) TO medchain_auditor, medchain_admin;
-- Partitioned tables (docs/DESIGN.md, "Partitioned tables"): enable() on
-- a partitioned table makes all its partitions, present and future, one
-- ledger named by it.  A partition created or attached later gets its
-- TRUNCATE trigger (statement triggers are not cloned) from an event
-- trigger at ddl_command_end, which also records the rows an attached
-- table brings; the DDL guard refuses DETACH and DROP of a partition of a
-- ledger table, so it now looks at DROP TABLE and DROP OWNED too.
------------------------------------------------------------------------

CREATE FUNCTION medchain.adopt_partition()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'medchain_adopt_partition'
LANGUAGE C;
COMMENT ON FUNCTION medchain.adopt_partition() IS
	'Event trigger: a new partition of a ledger table gets its TRUNCATE trigger, and an attached one has its rows recorded';

CREATE EVENT TRIGGER medchain_adopt_partition ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'CREATE SCHEMA', 'ALTER TABLE')
	EXECUTE FUNCTION medchain.adopt_partition();
ALTER EVENT TRIGGER medchain_adopt_partition ENABLE ALWAYS;

DROP EVENT TRIGGER medchain_guard_ddl;
CREATE EVENT TRIGGER medchain_guard_ddl ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA', 'ALTER TRIGGER', 'ALTER TYPE',
				 'DROP TRIGGER', 'DROP INDEX', 'DROP SCHEMA', 'DROP EXTENSION',
				 'CREATE RULE', 'DROP TABLE', 'DROP OWNED')
	EXECUTE FUNCTION medchain.guard_ddl();
ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;

------------------------------------------------------------------------
-- Proof of existence (docs/DESIGN.md, "Proof of existence"): a document's
-- SHA-256 and a label, recorded as an entry of kind notarize of
-- medchain.notarizations; the document itself is not kept.  attest()
-- says when a document was first recorded and proves it.
------------------------------------------------------------------------

-- Who may write notarizations into the chain: research teams, without
-- the powers of medchain_admin.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medchain_notary') THEN
		CREATE ROLE medchain_notary NOLOGIN;
	END IF;
END
$$;

-- attest() finds a document's entries through key_hash, which for a
-- notarization is computed from the document's hash as it is from the key
-- for a row entry.
COMMENT ON COLUMN medchain.journal.key_hash IS
	'Hash of relation and row_key (of a notarization: of relation and document hash), to find entries; checked against both, covered by no hash';

-- The notarizations, for notaries and auditors; as the relation that
-- notarize entries name, it also decides who sees them in
-- medchain.entries (can_read_relation()).
CREATE VIEW medchain.notarizations WITH (security_invoker = true) AS
SELECT j.entry_id, j.row_hash AS document_sha256, j.note AS label, j.recorded_by,
	   j.recorded_at, j.block_height
  FROM medchain.journal j
 WHERE j.kind OPERATOR(pg_catalog.=) 'notarize'
   AND j.relation OPERATOR(pg_catalog.=) 'medchain.notarizations';
COMMENT ON VIEW medchain.notarizations IS
	'Every notarization: the document''s SHA-256, its label, who recorded it, when, and the block that seals it (NULL while pending)';
REVOKE ALL ON medchain.notarizations FROM PUBLIC;
GRANT SELECT ON medchain.notarizations TO medchain_notary, medchain_auditor, medchain_admin;

CREATE FUNCTION medchain.notarize(document bytea, label text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_notarize'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.notarize(bytea, text) IS
	'Record the document''s SHA-256 and a label in the chain; returns the entry_id.  A value stored out of line uncompressed is read a slice at a time';

CREATE FUNCTION medchain.notarize_hash(document_sha256 bytea, label text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_notarize_hash'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.notarize_hash(bytea, text) IS
	'Record a document''s SHA-256, computed elsewhere, and a label in the chain; returns the entry_id';

CREATE FUNCTION medchain.notarize_large_object(loid oid, label text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medchain_notarize_large_object'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medchain.notarize_large_object(oid, text) IS
	'Record the SHA-256 of a large object, read a slice at a time, and a label in the chain; returns the entry_id';

REVOKE ALL ON FUNCTION medchain.notarize(bytea, text), medchain.notarize_hash(bytea, text),
	medchain.notarize_large_object(oid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medchain.notarize(bytea, text), medchain.notarize_hash(bytea, text),
	medchain.notarize_large_object(oid, text) TO medchain_notary, medchain_admin;

CREATE FUNCTION medchain.attest(document bytea, anchor_height bigint DEFAULT NULL)
RETURNS TABLE (entry_id bigint, label text, recorded_by name, recorded_at timestamptz,
	block_height bigint, block_hash bytea, sealed_at timestamptz, confirmations bigint,
	peers_holding integer, cosigners integer, proof jsonb)
AS 'MODULE_PATHNAME', 'medchain_attest'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.attest(bytea, bigint) IS
	'When the document was first notarized, by whom, in which block, how much stands behind that block, and the proof (NULL while pending); no row if it never was';

CREATE FUNCTION medchain.attest_hash(document_sha256 bytea, anchor_height bigint DEFAULT NULL)
RETURNS TABLE (entry_id bigint, label text, recorded_by name, recorded_at timestamptz,
	block_height bigint, block_hash bytea, sealed_at timestamptz, confirmations bigint,
	peers_holding integer, cosigners integer, proof jsonb)
AS 'MODULE_PATHNAME', 'medchain_attest_hash'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.attest_hash(bytea, bigint) IS
	'attest() for a document whose SHA-256 was computed elsewhere';

CREATE FUNCTION medchain.attest_large_object(loid oid, anchor_height bigint DEFAULT NULL)
RETURNS TABLE (entry_id bigint, label text, recorded_by name, recorded_at timestamptz,
	block_height bigint, block_hash bytea, sealed_at timestamptz, confirmations bigint,
	peers_holding integer, cosigners integer, proof jsonb)
AS 'MODULE_PATHNAME', 'medchain_attest_large_object'
LANGUAGE C STABLE;
COMMENT ON FUNCTION medchain.attest_large_object(oid, bigint) IS
	'attest() for a document stored as a large object, read a slice at a time';

-- Anyone may ask: an answer says only what whoever holds the document (or
-- its hash) may know, that it was notarized, when, by whom, with what label.
GRANT EXECUTE ON FUNCTION medchain.attest(bytea, bigint), medchain.attest_hash(bytea, bigint),
	medchain.attest_large_object(oid, bigint) TO PUBLIC;

------------------------------------------------------------------------
-- provenance(t) as the planner makes it (src/provenance_plan.c): an
-- analyst's (medchain.provenance(t)).* calls provenance() once per output
-- column, and each call would build the row t anew from its columns.  In
-- a SELECT that locks no rows, provenance(t) of a plain table t of the
-- query becomes provenance_at(t's table, t's ctid): the calls pass the
-- row's address, those after the first find the row just answered by it,
-- and the first reads the row as the query's snapshot sees it.
------------------------------------------------------------------------

CREATE FUNCTION medchain.provenance_at(relation regclass, ctid tid,
	OUT entry_id bigint, OUT kind text, OUT recorded_by name,
	OUT recorded_at timestamptz, OUT xact xid8, OUT block_height bigint,
	OUT block_hash bytea, OUT sealed_at timestamptz, OUT confirmations bigint,
	OUT peers_holding integer, OUT cosigners integer, OUT intact boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'medchain_provenance_at'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION medchain.provenance_at(regclass, tid) IS
	'provenance() of the row of relation at ctid, as the query sees it; NULL if it sees none there: what the planner makes of provenance(t) for a table t of a SELECT';
GRANT EXECUTE ON FUNCTION medchain.provenance_at(regclass, tid) TO PUBLIC;

CREATE FUNCTION medchain.provenance_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'medchain_provenance_support'
LANGUAGE C STRICT;
COMMENT ON FUNCTION medchain.provenance_support(internal) IS
	'Planner support of provenance(): provenance(t) of a table t of a SELECT becomes provenance_at(t''s table, t''s ctid)';
ALTER FUNCTION medchain.provenance(record) SUPPORT medchain.provenance_support;
