-- The extension's catalog: schema, tables, columns, views, functions,
-- privileges and guards, as later issues rely on them.
BEGIN;
LOAD 'medchain';
SELECT plan(233);

SELECT has_schema('medchain');
SELECT has_role('medchain_admin');
SELECT has_role('medchain_auditor');

SELECT has_table('medchain', 'journal', 'journal table');
SELECT has_view('medchain', 'entries', 'entries view: the journal and the batched entries');
SELECT has_table('medchain', 'entry_batches', 'batches of entries waiting to be sealed');
SELECT table_privs_are('medchain', 'entry_batches', 'public', ARRAY['SELECT']);
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'medchain.entry_batches'::regclass),
	'row-level security on the batches');
SELECT col_type_is('medchain', 'entries', 'entry_id', 'bigint', 'entry_id bigint');
SELECT col_type_is('medchain', 'entries', 'relation', 'text', 'relation text');
SELECT col_type_is('medchain', 'entries', 'row_key', 'jsonb', 'row_key jsonb');
SELECT col_type_is('medchain', 'entries', 'row_hash', 'bytea', 'row_hash bytea');
SELECT col_type_is('medchain', 'entries', 'entry_hash', 'bytea', 'entry_hash bytea');
SELECT col_type_is('medchain', 'entries', 'kind', 'text', 'kind text');
SELECT col_type_is('medchain', 'entries', 'recorded_by', 'name', 'recorded_by name');
SELECT col_type_is('medchain', 'entries', 'recorded_at', 'timestamp with time zone', 'recorded_at timestamptz');
SELECT col_type_is('medchain', 'entries', 'xact', 'xid8', 'xact xid8');
SELECT col_type_is('medchain', 'entries', 'block_height', 'bigint', 'block_height bigint');
SELECT col_is_pk('medchain', 'journal', 'entry_id', 'entry_id is the primary key');
SELECT col_not_null('medchain', 'journal', 'row_hash', 'row_hash is never NULL');
SELECT col_not_null('medchain', 'journal', 'entry_hash', 'entry_hash is never NULL');

SELECT has_table('medchain', 'ledger_registry', 'registry table');
SELECT has_view('medchain', 'ledger_tables', 'ledger_tables view');
SELECT columns_are('medchain', 'ledger_tables',
	ARRAY['relation', 'key_columns', 'enabled_at', 'enabled_by', 'rows_recorded', 'state',
		  'baseline_blocks_done', 'baseline_blocks', 'baseline_rows_recorded',
		  'baseline_rows_estimated', 'baseline_updated_at', 'baseline_worker_pid',
		  'baseline_error', 'mode', 'history_table', 'reason_required']);
SELECT has_table('medchain', 'enable_progress', 'progress of concurrent enables');
SELECT table_privs_are('medchain', 'enable_progress', 'public', ARRAY[]::text[]);

SELECT function_returns('medchain', 'enable', ARRAY['regclass', 'boolean', 'text'], 'bigint');
SELECT function_returns('medchain', 'disable', ARRAY['regclass', 'text'], 'bigint');
SELECT function_returns('medchain', 'row_encoding', ARRAY['regclass', 'jsonb'], 'bytea');
SELECT function_lang_is('medchain', 'enable', ARRAY['regclass', 'boolean', 'text'], 'c');
SELECT function_lang_is('medchain', 'record_rows', ARRAY[]::name[], 'c', 'statement trigger is C');
SELECT function_lang_is('medchain', 'record_row', ARRAY[]::name[], 'c', 'row trigger of partitions is C');

-- Only medchain_admin (and superusers) may enable or disable.
SELECT function_privs_are('medchain', 'enable', ARRAY['regclass', 'boolean', 'text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'enable', ARRAY['regclass', 'boolean', 'text'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'disable', ARRAY['regclass', 'text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'disable', ARRAY['regclass', 'text'], 'medchain_admin', ARRAY['EXECUTE']);
-- Nobody but the owner writes the journal.
SELECT table_privs_are('medchain', 'journal', 'public', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'entries', 'public', ARRAY['SELECT']);
SELECT ok(NOT has_table_privilege('medchain_admin', 'medchain.journal', 'INSERT, UPDATE, DELETE, TRUNCATE'),
	'medchain_admin cannot write the journal');
SELECT ok(NOT has_table_privilege('medchain_auditor', 'medchain.journal', 'INSERT, UPDATE, DELETE, TRUNCATE'),
	'medchain_auditor cannot write the journal');
SELECT table_privs_are('medchain', 'ledger_registry', 'public', ARRAY['SELECT']);
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'medchain.journal'::regclass),
	'row-level security on the journal');

-- The journal and registry travel with pg_dump.
SELECT set_eq($$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'medchain'$$,
	ARRAY['medchain.journal', 'medchain.entry_batches', 'medchain.entries_entry_id_seq', 'medchain.ledger_registry',
		  'medchain.ledger_registry_registration_id_seq', 'medchain.pending', 'medchain.blocks',
		  'medchain.findings', 'medchain.peers', 'medchain.peer_blocks', 'medchain.rejected_blocks',
		  'medchain.equivocations', 'medchain.cosignatures', 'medchain.recovered_blocks'],
	'journal, registry, pending queue, blocks, their sequences, the scrubber''s findings, the peers, their chains, the evidence about them, their cosignatures and recovered blocks are dumped');

-- Blocks.
SELECT has_table('medchain', 'blocks', 'blocks table');
SELECT columns_are('medchain', 'blocks',
	ARRAY['height', 'format_version', 'prev_hash', 'merkle_root', 'entry_count', 'sealed_at',
		  'difficulty', 'node_name', 'nonce', 'block_hash', 'first_entry_id', 'last_entry_id',
		  'min_difficulty', 'chain_id', 'node_id', 'signer_key', 'signature']);
SELECT col_is_pk('medchain', 'blocks', 'height', 'height is the primary key');
SELECT col_type_is('medchain', 'entries', 'leaf_index', 'integer', 'entries record their leaf index');
SELECT has_table('medchain', 'pending', 'pending queue');
SELECT has_view('medchain', 'chain_status', 'chain_status view');
SELECT columns_are('medchain', 'chain_status',
	ARRAY['height', 'head_hash', 'pending_entries', 'oldest_pending_age']);
SELECT table_privs_are('medchain', 'blocks', 'public', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'pending', 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'seal', ARRAY['integer'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'seal', ARRAY['integer'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'verify', ARRAY['regclass'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'verify', ARRAY['regclass'], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'digest', ARRAY[]::text[], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'export_chain', ARRAY['bigint'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'verify_proof', ARRAY['jsonb', 'jsonb'], 'public', ARRAY['EXECUTE']);
SELECT is(current_setting('medchain.difficulty'), '16', 'default difficulty is 16 bits');
SELECT ok(has_parameter_privilege('medchain_admin', 'medchain.difficulty', 'SET'),
	'medchain_admin may set the difficulty');

-- The DDL guards are event triggers that fire in every replication role.
SELECT is((SELECT evtenabled::text FROM pg_event_trigger WHERE evtname = 'medchain_guard_ddl'), 'A',
	'guard_ddl is ENABLE ALWAYS');
SELECT is((SELECT evtenabled::text FROM pg_event_trigger WHERE evtname = 'medchain_guard_drop'), 'A',
	'guard_drop is ENABLE ALWAYS');
SELECT is((SELECT evtevent::text FROM pg_event_trigger WHERE evtname = 'medchain_guard_ddl'), 'ddl_command_start',
	'guard_ddl runs before the command');
SELECT is((SELECT evtevent::text FROM pg_event_trigger WHERE evtname = 'medchain_guard_drop'), 'sql_drop',
	'guard_drop sees every dropped object');

-- Version 1.1: format version 2, enablements named by the journal.
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'medchain'), '1.5', 'extension version 1.5');
SELECT col_type_is('medchain', 'entries', 'format_version', 'smallint', 'entries say their format version');
SELECT col_not_null('medchain', 'journal', 'format_version', 'format_version is never NULL');
SELECT col_type_is('medchain', 'entries', 'enablement_id', 'bigint', 'entries name their enablement');
SELECT col_type_is('medchain', 'ledger_registry', 'enablement_id', 'bigint', 'registrations name their enablement');
SELECT hasnt_column('medchain', 'ledger_registry', 'prior_entry_id', 'no enablement boundary by entry id');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'medchain.ledger_registry'::regclass),
	'row-level security on the registry');
SELECT function_privs_are('medchain', 'event_proof', ARRAY['bigint', 'bigint'], 'public', ARRAY['EXECUTE']);
SELECT ok((SELECT 'CREATE RULE' = ANY (evttags) FROM pg_event_trigger WHERE evtname = 'medchain_guard_ddl'),
	'guard_ddl refuses CREATE RULE');

-- Version 1.3: signed blocks, node keys.
SELECT col_type_is('medchain', 'blocks', 'signer_key', 'bytea', 'blocks carry their signer key');
SELECT col_type_is('medchain', 'blocks', 'signature', 'bytea', 'blocks carry their signature');
SELECT function_privs_are('medchain', 'node_identity', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'node_identity', ARRAY[]::text[], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'retire_node_key', ARRAY['text', 'text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'retire_node_key', ARRAY['text', 'text'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'retire_node_key', ARRAY['text', 'text'], 'medchain_auditor', ARRAY[]::text[]);
SELECT is(current_setting('medchain.node_key_file'), 'medchain_node.key',
	'the node key file is in the data directory by default');
SELECT is((SELECT context FROM pg_settings WHERE name = 'medchain.node_key_file'), 'sighup',
	'the node key file is set in the server configuration');

-- Every SECURITY DEFINER function pins its search_path.
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
	JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'medchain' AND p.prosecdef
	  AND NOT coalesce(p.proconfig::text LIKE '%search_path=%', false)$$,
	'SECURITY DEFINER functions pin search_path');

-- Version 1.3: the background worker and the scrubber.
SELECT has_view('medchain', 'worker_status', 'worker_status view');
SELECT columns_are('medchain', 'worker_status',
	ARRAY['database', 'process', 'pid', 'started_at', 'last_seal_at', 'blocks_sealed',
		  'entries_sealed', 'last_error', 'last_error_at']);
SELECT table_privs_are('medchain', 'worker_status', 'public', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'worker_status', 'medchain_auditor', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'worker_status', 'medchain_admin', ARRAY['SELECT']);
SELECT function_privs_are('medchain', 'worker_processes', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'worker_processes', ARRAY[]::text[], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT has_table('medchain', 'findings', 'findings table');
SELECT columns_are('medchain', 'findings',
	ARRAY['finding_id', 'finding', 'relation', 'row_key', 'entry_id', 'block_height', 'detail',
		  'first_seen', 'last_seen', 'resolved_at', 'reported_at']);
SELECT col_is_pk('medchain', 'findings', 'finding_id', 'a finding is one row, by its hash');
SELECT table_privs_are('medchain', 'findings', 'public', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'findings', 'medchain_auditor', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'findings', 'medchain_admin', ARRAY['SELECT']);
SELECT has_table('medchain', 'scrub_state', 'scrub_state table');
SELECT table_privs_are('medchain', 'scrub_state', 'public', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'scrub_state', 'medchain_auditor', ARRAY['SELECT']);
SELECT has_view('medchain', 'scrub_status', 'scrub_status view');
SELECT columns_are('medchain', 'scrub_status',
	ARRAY['pass', 'pass_started_at', 'tables_checked', 'tables_total', 'progress_percent',
		  'rows_checked', 'last_pass_started_at', 'last_pass_finished_at', 'last_pass_rows',
		  'open_findings']);
SELECT table_privs_are('medchain', 'scrub_status', 'public', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'scrub_status', 'medchain_auditor', ARRAY['SELECT']);
SELECT is((SELECT string_agg(name || ':' || context || ':' || coalesce(unit, ''), ',' ORDER BY name)
			 FROM pg_settings WHERE name IN ('medchain.seal_interval', 'medchain.block_max_entries',
											 'medchain.scrub_rate', 'medchain.worker_databases')),
	'medchain.block_max_entries:superuser:,medchain.scrub_rate:sighup:,medchain.seal_interval:sighup:ms,medchain.worker_databases:sighup:',
	'the worker''s settings: a reload changes them, seal_interval has a unit');
SELECT is((SELECT min_val || '..' || max_val FROM pg_settings WHERE name = 'medchain.seal_interval'),
	'10..86400000', 'seal_interval: 10 ms to a day');

-- Peers and the copies of their chains.
SELECT has_role('medchain_peer');
SELECT has_table('medchain', 'peers', 'peers table');
SELECT columns_are('medchain', 'peers', ARRAY['name', 'public_key', 'node_id', 'conninfo', 'added_at']);
SELECT col_is_pk('medchain', 'peers', 'node_id', 'a peer is its key''s fingerprint');
SELECT table_privs_are('medchain', 'peers', 'public', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'peers', 'medchain_auditor', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'peers', 'medchain_admin', ARRAY['SELECT']);
SELECT has_view('medchain', 'peer_directory', 'peer_directory view');
SELECT columns_are('medchain', 'peer_directory', ARRAY['name', 'node_id', 'public_key', 'added_at']);
SELECT table_privs_are('medchain', 'peer_directory', 'medchain_auditor', ARRAY['SELECT']);
SELECT function_privs_are('medchain', 'add_peer', ARRAY['text', 'text', 'text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'add_peer', ARRAY['text', 'text', 'text'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'remove_peer', ARRAY['text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'remove_peer', ARRAY['text'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'block_payloads', ARRAY['bigint', 'integer'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'block_payloads', ARRAY['bigint', 'integer'], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'receive_blocks', ARRAY['bytea', 'bytea[]'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'receive_blocks', ARRAY['bytea', 'bytea[]'], 'medchain_peer', ARRAY['EXECUTE']);
SELECT is_definer('medchain', 'receive_blocks', ARRAY['bytea', 'bytea[]'],
	'receive_blocks writes as the extension''s owner');
SELECT ok((SELECT proconfig FROM pg_proc WHERE oid = 'medchain.receive_blocks(bytea, bytea[])'::regprocedure)
		  OPERATOR(pg_catalog.@>) ARRAY['search_path=pg_catalog, pg_temp'],
	'receive_blocks runs under a pinned search_path');
SELECT ok(NOT has_table_privilege('medchain_peer', 'medchain.peer_blocks', 'SELECT'),
	'medchain_peer reads no table of this node');
SELECT col_is_pk('medchain', 'peer_blocks', ARRAY['chain_id', 'height'], 'a chain holds one block at a height');
SELECT table_privs_are('medchain', 'peer_blocks', 'public', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'peer_blocks', 'medchain_auditor', ARRAY['SELECT']);
SELECT col_is_pk('medchain', 'rejected_blocks', 'payload_hash', 'a refused payload is kept once');
SELECT table_privs_are('medchain', 'rejected_blocks', 'public', ARRAY[]::text[]);
SELECT col_is_pk('medchain', 'equivocations', ARRAY['chain_id', 'height', 'other_hash'],
	'an equivocation is kept once');
SELECT table_privs_are('medchain', 'equivocations', 'medchain_auditor', ARRAY['SELECT']);

-- What a peer may ask of this node: hashes and receipts, through
-- functions that run as the extension's owner under a pinned search_path.
SELECT function_privs_are('medchain', 'held_head', ARRAY['bytea'], 'medchain_peer', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'held_heads', ARRAY[]::text[], 'medchain_peer', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'held_hashes', ARRAY['bytea', 'bigint[]'], 'medchain_peer', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'block_receipts', ARRAY['bytea', 'bigint[]'], 'medchain_peer', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'held_heads', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'block_receipts', ARRAY['bytea', 'bigint[]'], 'public', ARRAY[]::text[]);
SELECT ok(bool_and(prosecdef AND proconfig OPERATOR(pg_catalog.@>) ARRAY['search_path=pg_catalog, pg_temp']),
	'the functions a peer calls run as the owner under a pinned search_path')
  FROM pg_proc WHERE oid IN ('medchain.held_head(bytea)'::regprocedure, 'medchain.held_heads()'::regprocedure,
	'medchain.held_hashes(bytea, bigint[])'::regprocedure, 'medchain.block_receipts(bytea, bigint[])'::regprocedure);
SELECT ok(NOT has_function_privilege('medchain_peer', 'medchain.replicate_now()', 'EXECUTE')
		  AND NOT has_function_privilege('medchain_peer', 'medchain.consensus_check()', 'EXECUTE')
		  AND NOT has_function_privilege('medchain_peer', 'medchain.block_payloads(bigint, integer)', 'EXECUTE'),
	'medchain_peer calls nothing else');

-- Replication from this node, and consensus.
SELECT function_privs_are('medchain', 'replicate_now', ARRAY[]::text[], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'replicate_now', ARRAY[]::text[], 'medchain_auditor', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'consensus_check', ARRAY[]::text[], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'consensus_check', ARRAY[]::text[], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'verify_digest', ARRAY['jsonb', 'integer'], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'verify_digest', ARRAY['jsonb', 'integer'], 'public', ARRAY[]::text[]);
SELECT col_is_pk('medchain', 'cosignatures', ARRAY['height', 'cosigner_id'], 'a peer cosigns a height once');
SELECT table_privs_are('medchain', 'cosignatures', 'medchain_auditor', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'cosignatures', 'medchain_admin', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'peer_state', 'public', ARRAY[]::text[]);
SELECT has_view('medchain', 'peer_status', 'peer_status view');
SELECT columns_are('medchain', 'peer_status', ARRAY['peer', 'reachable', 'last_contact', 'their_height',
	'blocks_behind', 'last_status', 'last_error', 'last_attempt']);
SELECT table_privs_are('medchain', 'peer_status', 'medchain_auditor', ARRAY['SELECT']);
SELECT has_view('medchain', 'consensus_status', 'consensus_status view');
SELECT columns_are('medchain', 'consensus_status', ARRAY['origin', 'height', 'local_hash', 'agreeing',
	'disagreeing', 'unreachable', 'verdict', 'first_divergent_height', 'detail', 'checked_at', 'chain_id']);
SELECT table_privs_are('medchain', 'consensus_status', 'medchain_auditor', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'consensus_results', 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'verify_proof_on_copy', ARRAY['jsonb'], 'public', ARRAY['EXECUTE']);
SELECT col_is_pk('medchain', 'sealing_halt', 'only_row', 'one halt at most');
SELECT function_privs_are('medchain', 'held_payloads', ARRAY['bytea', 'bigint', 'integer'], 'medchain_peer', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'held_payloads', ARRAY['bytea', 'bigint', 'integer'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'recover_chain', ARRAY['text'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'recover_chain', ARRAY['text'], 'medchain_auditor', ARRAY[]::text[]);
SELECT col_is_pk('medchain', 'recovered_blocks', 'height', 'a height is recovered once');
SELECT table_privs_are('medchain', 'recovered_blocks', 'medchain_auditor', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'sealing_halt', 'medchain_admin', ARRAY['SELECT']);
SELECT is_definer('medchain', 'verify_proof_on_copy', ARRAY['jsonb'],
	'verify_proof_on_copy reads the copies of chains as the extension''s owner');

-- Provenance for analysts (1.5): anyone may ask, for the rows they can read.
SELECT function_returns('medchain', 'provenance', ARRAY['record'], 'record');
SELECT function_privs_are('medchain', 'provenance', ARRAY['record'], 'public', ARRAY['EXECUTE']);
SELECT volatility_is('medchain', 'provenance', ARRAY['record'], 'stable');
SELECT function_returns('medchain', 'provenance_at', ARRAY['regclass', 'tid'], 'record');
SELECT function_privs_are('medchain', 'provenance_at', ARRAY['regclass', 'tid'], 'public', ARRAY['EXECUTE']);
SELECT volatility_is('medchain', 'provenance_at', ARRAY['regclass', 'tid'], 'stable');
SELECT is((SELECT prosupport FROM pg_proc WHERE oid = 'medchain.provenance(record)'::regprocedure),
	'medchain.provenance_support'::regproc, 'the planner makes provenance(t) of a table t a call of provenance_at()');
SELECT has_column('medchain', 'journal', 'key_hash', 'the journal finds a row''s entries by key_hash');
SELECT has_index('medchain', 'journal', 'journal_key_hash_idx', 'key_hash', 'key_hash is indexed');
SELECT index_is_type('medchain', 'journal', 'journal_key_hash_idx', 'hash',
	'key_hash has a hash index, which the lookups by key_hash scan');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'medchain.entries'::regclass
					  AND attname = 'key_hash'), 'entries does not show the lookup hash');

-- Amendments (1.5): versioned tables, their entries' two columns, history().
SELECT has_column('medchain', 'entries', 'supersedes', 'entries show what an amendment supersedes');
SELECT has_column('medchain', 'entries', 'note', 'entries show an amendment''s reason');
SELECT function_returns('medchain', 'history', ARRAY['regclass', 'jsonb'], 'setof record');
SELECT function_privs_are('medchain', 'history', ARRAY['regclass', 'jsonb'], 'public', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'require_reason', ARRAY['regclass', 'boolean'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'require_reason', ARRAY['regclass', 'boolean'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT col_default_is('medchain', 'ledger_registry', 'mode', 'append-only', 'tables are append-only unless enabled versioned');
-- The compliance report (1.5): for auditors and admins, as verify() and
-- digest() are; it runs as its caller, under a pinned search_path, and
-- prints its times in UTC.
SELECT function_returns('medchain', 'compliance_report', ARRAY['interval'], 'jsonb');
SELECT function_returns('medchain', 'compliance_report_text', ARRAY['interval'], 'text');
SELECT function_lang_is('medchain', 'compliance_report', ARRAY['interval'], 'sql');
SELECT function_lang_is('medchain', 'compliance_report_text', ARRAY['interval'], 'sql');
SELECT volatility_is('medchain', 'compliance_report', ARRAY['interval'], 'stable');
SELECT function_privs_are('medchain', 'compliance_report', ARRAY['interval'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'compliance_report', ARRAY['interval'], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'compliance_report', ARRAY['interval'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'compliance_report', ARRAY['interval'], 'medchain_peer', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'compliance_report_text', ARRAY['interval'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('medchain', 'compliance_report_text', ARRAY['interval'], 'medchain_auditor', ARRAY['EXECUTE']);
SELECT function_privs_are('medchain', 'compliance_report_text', ARRAY['interval'], 'medchain_admin', ARRAY['EXECUTE']);
SELECT ok(bool_and(NOT prosecdef AND proconfig OPERATOR(pg_catalog.@>) ARRAY['search_path=pg_catalog, pg_temp']),
	'the report runs as its caller under a pinned search_path')
  FROM pg_proc WHERE oid IN ('medchain.compliance_report(interval)'::regprocedure,
	'medchain.compliance_report_text(interval)'::regprocedure);
SELECT ok((SELECT proconfig OPERATOR(pg_catalog.@>) ARRAY['TimeZone=UTC'] FROM pg_proc
			WHERE oid = 'medchain.compliance_report(interval)'::regprocedure),
	'the report''s times are in UTC');
-- Partitioned tables (1.5): new partitions are adopted after the command,
-- and DROP TABLE and DROP OWNED are guarded for the partitions of ledgers.
SELECT function_returns('medchain', 'adopt_partition', ARRAY[]::name[], 'event_trigger');
SELECT is((SELECT evtenabled::text FROM pg_event_trigger WHERE evtname = 'medchain_adopt_partition'), 'A',
	'adopt_partition is ENABLE ALWAYS');
SELECT is((SELECT evtevent::text FROM pg_event_trigger WHERE evtname = 'medchain_adopt_partition'), 'ddl_command_end',
	'adopt_partition runs after the command, when the partition exists');
SELECT ok((SELECT ARRAY['DROP TABLE', 'DROP OWNED'] <@ evttags FROM pg_event_trigger WHERE evtname = 'medchain_guard_ddl'),
	'guard_ddl sees DROP TABLE and DROP OWNED');
SELECT is((SELECT evtenabled::text FROM pg_event_trigger WHERE evtname = 'medchain_guard_ddl'), 'A',
	'guard_ddl is still ENABLE ALWAYS');

-- Proof of existence (1.5): notaries write notarizations, anyone attests.
SELECT has_role('medchain_notary');
SELECT has_view('medchain', 'notarizations', 'notarizations view: the relation notarize entries name');
SELECT table_privs_are('medchain', 'notarizations', 'public', ARRAY[]::text[]);
SELECT table_privs_are('medchain', 'notarizations', 'medchain_notary', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'notarizations', 'medchain_auditor', ARRAY['SELECT']);
SELECT table_privs_are('medchain', 'notarizations', 'medchain_admin', ARRAY['SELECT']);
SELECT columns_are('medchain', 'notarizations',
	ARRAY['entry_id', 'document_sha256', 'label', 'recorded_by', 'recorded_at', 'block_height']);
SELECT function_returns('medchain', 'notarize', ARRAY['bytea', 'text'], 'bigint');
SELECT function_returns('medchain', 'notarize_hash', ARRAY['bytea', 'text'], 'bigint');
SELECT function_returns('medchain', 'notarize_large_object', ARRAY['oid', 'text'], 'bigint');
SELECT volatility_is('medchain', 'notarize', ARRAY['bytea', 'text'], 'volatile');
SELECT function_privs_are('medchain', f, a, 'public', ARRAY[]::text[])
  FROM (VALUES ('notarize', ARRAY['bytea', 'text']), ('notarize_hash', ARRAY['bytea', 'text']),
			   ('notarize_large_object', ARRAY['oid', 'text'])) n(f, a);
SELECT function_privs_are('medchain', f, a, r, ARRAY['EXECUTE'])
  FROM (VALUES ('notarize', ARRAY['bytea', 'text']), ('notarize_hash', ARRAY['bytea', 'text']),
			   ('notarize_large_object', ARRAY['oid', 'text'])) n(f, a),
	   (VALUES ('medchain_notary'), ('medchain_admin')) g(r);
SELECT function_privs_are('medchain', 'notarize', ARRAY['bytea', 'text'], 'medchain_auditor', ARRAY[]::text[]);
SELECT function_returns('medchain', 'attest', ARRAY['bytea', 'bigint'], 'setof record');
SELECT volatility_is('medchain', 'attest', ARRAY['bytea', 'bigint'], 'stable');
SELECT function_privs_are('medchain', f, a, 'public', ARRAY['EXECUTE'])
  FROM (VALUES ('attest', ARRAY['bytea', 'bigint']), ('attest_hash', ARRAY['bytea', 'bigint']),
			   ('attest_large_object', ARRAY['oid', 'bigint'])) n(f, a);
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = 'medchain.journal'::regclass
					  AND (indpred IS NOT NULL OR indexprs IS NOT NULL)),
	'the journal has plain column indexes only: medchain writes it directly');

SELECT * FROM finish();
ROLLBACK;
