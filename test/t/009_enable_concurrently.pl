# medchain.enable(tbl, concurrently => true) makes a live table a ledger
# table while inserts go on, recording every row exactly once:
#
# A. It refuses to run inside a transaction block (25001), in a statement
#    that writes to the table (at once, rather than waiting for itself), on
#    a table that is a ledger table already, and on one without a primary
#    key.
# B. While pgbench inserts single rows and multi-row INSERT ... SELECTs
#    (some rolled back) into a 200,000-row table whose early and middle
#    blocks have free space, every committed row ends with exactly one
#    entry of the enablement, baseline or insert, and no entry lacks its
#    row; the baseline count is the one the function returns and the
#    baseline_complete event gives; seal() and verify() are clean.
# C. The dividing line: a row inserted before the triggers by a
#    transaction the worker waited for is a baseline entry; a row inserted
#    afterwards by a transaction that was already running at the dividing
#    line is an insert entry only, although it lies in a block the
#    baseline scans.  A cancel before the first range commits leaves the
#    table enabling (inserts recorded, UPDATE and DELETE refused, one
#    enable_incomplete finding), and enable() again resumes it.
# D. An enable stopped midway (its worker terminated) is abandoned with
#    disable(): no registration, progress or triggers remain, verify() is
#    clean, and the table can be enabled again.
# E. A table rewritten (VACUUM FULL) between a failure and the resume: the
#    resume refuses while entries recorded meanwhile wait in batches, and
#    after seal() starts over, looking every row up in the journal.
#
# To stop the worker at a chosen range without depending on timing, the
# test adds a BEFORE UPDATE trigger to medchain.enable_progress that takes
# a shared advisory lock: while a session holds that lock, the worker's
# range transaction waits at the UPDATE of its progress row, before it
# commits.  Key (42, 1) holds the range that starts at block 0, key (42, 2)
# every later one.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('node');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmedchain.difficulty = 8");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE FUNCTION public.hold_progress() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_catalog.pg_advisory_xact_lock_shared(42,
			CASE WHEN OLD.blocks_done = 0 THEN 1 ELSE 2 END);
		RETURN NEW;
	END $$;
	CREATE TRIGGER test_hold_progress BEFORE UPDATE ON medchain.enable_progress
		FOR EACH ROW EXECUTE FUNCTION public.hold_progress();
});

my $worker_count = q{(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'medchain enable')};

# Runs sql with psql, expecting it to fail; returns its stderr.
sub psql_fails
{
	my ($sql, $name) = @_;
	my ($timed_out, $ret, $stdout, $stderr);
	($ret, $stdout, $stderr) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		timeout => 120, timed_out => \$timed_out);
	ok(!$timed_out && $ret != 0, "$name: fails") or diag("ret $ret, stdout: $stdout");
	return $stderr // '';
}

# The SQL output of a background psql session up to its line "$marker".
sub wait_output
{
	my ($session, $marker) = @_;
	my $out = $session->query_until(qr/^\Q$marker\E\n/m, '');
	$out =~ s/^\Q$marker\E\n//m;
	return $out;
}

############################################################################
# A. Errors
############################################################################

$node->safe_psql('postgres', q{
	CREATE TABLE public.a_plain (id int PRIMARY KEY, v text);
	INSERT INTO public.a_plain SELECT g, 'v' || g FROM generate_series(1, 100) g;
	CREATE TABLE public.a_ledger (id int PRIMARY KEY, v text);
	INSERT INTO public.a_ledger SELECT g, 'v' || g FROM generate_series(1, 100) g;
	SELECT medchain.enable('public.a_ledger');
	CREATE TABLE public.a_nokey (id int, v text);
	INSERT INTO public.a_nokey SELECT g, 'v' || g FROM generate_series(1, 100) g;
});

my $err = psql_fails(q{
BEGIN;
SELECT medchain.enable('public.a_plain', concurrently => true);
}, 'inside a transaction block');
like($err,
	qr/ERROR:  25001: medchain\.enable\(\) with concurrently => true cannot run inside a transaction block/,
	'inside a transaction block: SQLSTATE 25001 and a clear message');

$err = psql_fails(q{
SET statement_timeout = '100s';
WITH w AS (INSERT INTO public.a_plain VALUES (1000, 'cte') RETURNING 1)
SELECT medchain.enable('public.a_plain', concurrently => true) FROM w;
}, 'in a statement that writes to the table');
like($err,
	qr/ERROR:  55000: cannot enable table public\.a_plain concurrently in a statement that writes to it/,
	'in a statement that writes to the table: refused at once, not waiting for itself');

$err = psql_fails(q{SELECT medchain.enable('public.a_ledger', concurrently => true);},
	'on a ledger table');
like($err, qr/ERROR:  42710: table public\.a_ledger is already a ledger table/,
	'on a ledger table: already a ledger table');

$err = psql_fails(q{SELECT medchain.enable('public.a_nokey', concurrently => true);},
	'on a table without a primary key');
like($err, qr/ERROR:  [0-9A-Z]{5}: table "a_nokey" has no primary key/,
	'on a table without a primary key: no primary key');

is($node->safe_psql('postgres', q{
	SELECT string_agg(relation || ':' || state, ',' ORDER BY relation) FROM medchain.ledger_tables}),
	'public.a_ledger:enabled', 'the refused tables are not registered');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_trigger
	 WHERE tgrelid IN ('public.a_plain'::regclass, 'public.a_nokey'::regclass) AND NOT tgisinternal}),
	'0', 'nor have they any trigger');
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.a_plain WHERE id = 1000'),
	'0', 'the insert of the refused statement was rolled back');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.enable_progress'),
	'0', 'no enable_progress row');
$node->poll_query_until('postgres', "SELECT $worker_count = 0")
  or die 'a medchain enable worker is left';

############################################################################
# B. Exactly once under concurrent inserts
############################################################################

$node->safe_psql('postgres', q{
	CREATE TABLE public.b_obs (
		obs_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		person_id int NOT NULL, value int, note text);
	INSERT INTO public.b_obs (person_id, value, note)
		SELECT g % 1000, g, 'initial' FROM generate_series(1, 200000) g;
	-- free space in the first blocks and in the middle of the table, so
	-- that new rows land in blocks the baseline scans
	DELETE FROM public.b_obs WHERE obs_id <= 3000 OR obs_id BETWEEN 100001 AND 103000;
	VACUUM public.b_obs;
});
my $blocks_before = $node->safe_psql('postgres',
	q{SELECT pg_relation_size('public.b_obs') / current_setting('block_size')::int});
cmp_ok($blocks_before, '>', 1024, 'b_obs spans several baseline ranges');

# Each client waits at its 50th transaction until the triggers are in (the
# test holds advisory lock 9 till then), so that inserts surely go on
# after the dividing line; one transaction in eight is rolled back.
my $script = "$PostgreSQL::Test::Utils::tmp_check/009_inserts.sql";
PostgreSQL::Test::Utils::append_to_file($script, q{
\set n :n + 1
\if :n = 50
SELECT pg_catalog.pg_advisory_xact_lock_shared(9);
\endif
\set r random(1, 8)
BEGIN;
INSERT INTO public.b_obs (person_id, value, note) VALUES (:client_id, :r, 'pgbench single');
INSERT INTO public.b_obs (person_id, value, note)
	SELECT :client_id, g, 'pgbench multi' FROM generate_series(1, :r) g;
\if :r = 1
ROLLBACK;
\else
COMMIT;
\endif
});

my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(9)');

my ($pgbench_out, $pgbench_err) = ('', '');
my $pgbench = IPC::Run::start(
	[
		$node->installed_command('pgbench'), '--no-vacuum',
		'--client=4', '--jobs=2', '--transactions=400', '--define=n=0',
		"--file=$script", '--host=' . $node->host, '--port=' . $node->port,
		'postgres'
	],
	'>', \$pgbench_out, '2>', \$pgbench_err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM public.b_obs WHERE note LIKE 'pgbench%'})
  or die 'pgbench did not start inserting';

my $caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/^started\n/m, q{\echo started
SELECT medchain.enable('public.b_obs', concurrently => true);
\echo finished
});
$node->poll_query_until('postgres',
	q{SELECT EXISTS (SELECT 1 FROM medchain.ledger_tables WHERE relation = 'public.b_obs')})
  or die 'the triggers were not installed';
$holder->query_safe('SELECT pg_advisory_unlock(9)');

$caller->{stderr} = '';
my $b_count = wait_output($caller, 'finished');
chomp $b_count;
is($caller->{stderr}, '', 'the concurrent enable ran without error');
like($b_count, qr/^\d+$/, 'enable returned a count');
$pgbench->finish;
like($pgbench_out, qr{processed: 1600/1600}, 'pgbench ran all its transactions')
  or diag($pgbench_err);

is($node->safe_psql('postgres', q{
	SELECT state || ',' || (baseline_blocks IS NULL) FROM medchain.ledger_tables WHERE relation = 'public.b_obs'}),
	'enabled,true', 'b_obs is enabled');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.enable_progress'),
	'0', 'no enable_progress row is left');
is($node->safe_psql('postgres', "SELECT $worker_count"), '0', 'the worker is gone');

# The checks read the sealed journal.
$node->safe_psql('postgres', 'SELECT medchain.seal()');
my $b_enablement = $node->safe_psql('postgres', q{
	SELECT enablement_id FROM medchain.ledger_registry
	 WHERE relation = 'public.b_obs' AND released_at IS NULL});
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM public.b_obs o
	 WHERE (SELECT count(*) FROM medchain.entries e
			 WHERE e.relation = 'public.b_obs'
			   AND e.row_key = jsonb_build_object('obs_id', o.obs_id)
			   AND e.kind IN ('baseline', 'insert')
			   AND e.enablement_id = $b_enablement) <> 1}),
	'0', 'every row has exactly one baseline or insert entry of the enablement');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.entries e
	 WHERE e.relation = 'public.b_obs' AND e.kind IN ('baseline', 'insert')
	   AND NOT EXISTS (SELECT 1 FROM public.b_obs o WHERE o.obs_id = (e.row_key->>'obs_id')::bigint)}),
	'0', 'no entry without its row (none for rolled-back inserts)');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM medchain.entries
	 WHERE relation = 'public.b_obs' AND enablement_id IS DISTINCT FROM $b_enablement}),
	'0', 'every entry of b_obs belongs to the enablement');

my ($b_baseline, $b_inserts, $b_rows) = split /\|/, $node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE kind = 'baseline'), count(*) FILTER (WHERE kind = 'insert'),
		   (SELECT count(*) FROM public.b_obs)
	  FROM medchain.entries WHERE relation = 'public.b_obs'});
cmp_ok($b_inserts, '>', 0, 'some inserts came after the dividing line: insert entries');
is($b_baseline + $b_inserts, $b_rows, 'baseline + insert entries = rows');
is($b_baseline, $b_count, 'baseline entries = the count enable() returned');
cmp_ok($b_baseline, '>=', 194000, 'the rows from before are all in the baseline');
is($node->safe_psql('postgres', q{
	SELECT string_agg(format('%s:%s', detail->>'action', coalesce(detail->>'baseline_rows', 'null')), ',' ORDER BY entry_id)
	  FROM medchain.entries WHERE relation = 'public.b_obs' AND kind = 'event'}),
	"enable:null,baseline_complete:$b_count",
	'enable event without a count, then baseline_complete with the count');
cmp_ok($node->safe_psql('postgres', qq{
	SELECT count(*) FROM medchain.entries e JOIN public.b_obs o ON o.obs_id = (e.row_key->>'obs_id')::bigint
	 WHERE e.relation = 'public.b_obs' AND e.kind = 'insert' AND (o.ctid::text::point)[0] < $blocks_before}),
	'>', 0, 'rows recorded by the triggers lie in blocks the baseline scanned');
note 'insert entries in blocks 256 and up that the baseline scanned: ' . $node->safe_psql('postgres', qq{
	SELECT count(*) FROM medchain.entries e JOIN public.b_obs o ON o.obs_id = (e.row_key->>'obs_id')::bigint
	 WHERE e.relation = 'public.b_obs' AND e.kind = 'insert' AND (o.ctid::text::point)[0] BETWEEN 256 AND $blocks_before - 1});
# row_encoding() costs too much per call to go through 200,000 rows here:
# every insert entry and one baseline entry in 25, spread over every range,
# are checked with it; verify() checks every row in one pass.
my ($hash_checked, $hash_wrong) = split /\|/, $node->safe_psql('postgres', q{
	SELECT count(*), count(*) FILTER (
			WHERE sha256(medchain.row_encoding('public.b_obs', e.row_key)) IS DISTINCT FROM e.row_hash)
	  FROM medchain.entries e
	 WHERE e.relation = 'public.b_obs'
	   AND (e.kind = 'insert' OR (e.kind = 'baseline' AND (e.row_key->>'obs_id')::bigint % 25 = 0))});
cmp_ok($hash_checked, '>', 7000, 'insert entries and a sample of baseline entries checked');
is($hash_wrong, '0', 'each of them hashes its row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'),
	'0', 'verify() is clean after seal()');

############################################################################
# C. The dividing line, and a cancel before the first range commits
############################################################################

$node->safe_psql('postgres', q{
	CREATE TABLE public.c_obs (
		obs_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
	INSERT INTO public.c_obs (note) SELECT 'initial ' || g FROM generate_series(1, 10000) g;
	DELETE FROM public.c_obs WHERE obs_id <= 500;
	VACUUM public.c_obs;
	CREATE TABLE public.c_other (id int);
});

# The worker's first range will wait before it commits.
$holder->query_safe('SELECT pg_advisory_lock(42, 1)');

my $sa = $node->background_psql('postgres');
my $sb = $node->background_psql('postgres');
$sa->query_safe('BEGIN');
my $a_id = $sa->query_safe(q{INSERT INTO public.c_obs (note) VALUES ('A: before the triggers') RETURNING obs_id});
my $a_xid = $sa->query_safe('SELECT pg_current_xact_id()');
$sb->query_safe('BEGIN');
$sb->query_safe('INSERT INTO public.c_other VALUES (1)');
my $b_xid = $sb->query_safe('SELECT pg_current_xact_id()');
# A later transaction ends, so that B is inside the worker's snapshot, one
# of the transactions it lists as running.
$node->safe_psql('postgres', 'SELECT pg_current_xact_id()');

my $caller_pid = $caller->query_safe('SELECT pg_backend_pid()');
$caller->query_until(qr/^started\n/m, q{\echo started
SELECT medchain.enable('public.c_obs', concurrently => true);
\echo finished
});
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'medchain enable' AND wait_event_type = 'Lock' AND wait_event = 'relation'})
  or die 'the worker does not wait for the inserting transaction';
is($node->safe_psql('postgres', q{SELECT count(*) FROM medchain.ledger_tables WHERE relation = 'public.c_obs'}),
	'0', 'the worker waits for the uncommitted insert before it registers the table');
$sa->query_safe('COMMIT');

$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'medchain enable' AND wait_event_type = 'Lock' AND wait_event = 'advisory'})
  or die 'the worker did not reach its first range';
is($node->safe_psql('postgres', qq{
	SELECT format('%s,%s,%s,%s', p.horizon > '$a_xid'::xid8, '$a_xid'::xid8 = ANY (p.running_xids),
				  '$b_xid'::xid8 = ANY (p.running_xids), p.horizon > '$b_xid'::xid8)
	  FROM medchain.enable_progress p WHERE p.relid = 'public.c_obs'::regclass}),
	't,f,t,t', 'dividing line: A ended before it, B was running at it');

$caller->{stderr} = '';
is($node->safe_psql('postgres', "SELECT pg_cancel_backend($caller_pid)"), 't', 'cancel the caller');
wait_output($caller, 'finished');
like($caller->{stderr}, qr/canceling statement due to user request/, 'the caller was cancelled');
$node->poll_query_until('postgres', "SELECT $worker_count = 0")
  or die 'the worker was not stopped';
$holder->query_safe('SELECT pg_advisory_unlock(42, 1)');

# B was running at the dividing line: its row is recorded by the triggers.
my $b_id = $sb->query_safe(q{INSERT INTO public.c_obs (note) VALUES ('B: running at the dividing line') RETURNING obs_id});
$sb->query_safe('COMMIT');
my $fresh_id = $node->safe_psql('postgres',
	q{INSERT INTO public.c_obs (note) VALUES ('after the triggers') RETURNING obs_id});

my ($c_blocks_done, $c_blocks) = split /\|/, $node->safe_psql('postgres', q{
	SELECT baseline_blocks_done, baseline_blocks FROM medchain.ledger_tables
	 WHERE relation = 'public.c_obs' AND state = 'enabling'});
is($c_blocks_done, '0', 'the table stays enabling with no block recorded');
cmp_ok($c_blocks // 0, '>', 0, 'ledger_tables shows the blocks to record');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(format('%s:%s', obs_id, (ctid::text::point)[0] < $c_blocks), ',' ORDER BY obs_id)
	  FROM public.c_obs WHERE obs_id IN ($a_id, $b_id)}),
	"$a_id:t,$b_id:t", "A's and B's rows lie in blocks the baseline scans");

my $incomplete = qr/^enable_incomplete\|public\.c_obs\|\|\|\|the table is being enabled concurrently since enable event \d+ and its baseline is not complete/;
my $findings = $node->safe_psql('postgres', 'SELECT * FROM medchain.verify()');
like($findings, $incomplete, 'verify() reports enable_incomplete for the table');
is(scalar(() = $findings =~ /^.+$/mg), 1, 'and nothing else');
$node->safe_psql('postgres', 'SELECT medchain.seal()');
is($node->safe_psql('postgres', q{
	SELECT string_agg(format('%s:%s', kind, n), ',' ORDER BY kind) FROM (
		SELECT kind, count(*) AS n FROM medchain.entries e JOIN medchain.ledger_registry r
			ON r.relation = e.relation AND r.enablement_id = e.enablement_id AND r.released_at IS NULL
		 WHERE e.relation = 'public.c_obs' GROUP BY kind) k}),
	'event:1,insert:2', 'the cancelled range left no baseline entry; the two inserts are recorded');
$findings = $node->safe_psql('postgres', 'SELECT * FROM medchain.verify()');
like($findings, $incomplete, 'after seal(), too');
is(scalar(() = $findings =~ /^.+$/mg), 1, 'and nothing else after seal()');

$err = psql_fails(qq{UPDATE public.c_obs SET note = 'changed' WHERE obs_id = $a_id;}, 'UPDATE while enabling');
like($err, qr/cannot update rows of ledger table "c_obs"/, 'UPDATE is refused while enabling');
$err = psql_fails(qq{DELETE FROM public.c_obs WHERE obs_id = $a_id;}, 'DELETE while enabling');
like($err, qr/cannot delete rows from ledger table "c_obs"/, 'DELETE is refused while enabling');

my ($ret, $c_count, $c_err) = $node->psql('postgres',
	q{SELECT medchain.enable('public.c_obs', concurrently => true)});
is($ret, 0, 'enable() again succeeds') or diag($c_err);
like($c_err, qr/NOTICE:  resuming the enable of table public\.c_obs\nDETAIL:  0 of its $c_blocks blocks were recorded before\./,
	'it resumes the enable');
is($c_count, $node->safe_psql('postgres', 'SELECT count(*) - 2 FROM public.c_obs'),
	'it returns the baseline count: every row but the two inserted after the dividing line');
is($node->safe_psql('postgres', q{
	SELECT state FROM medchain.ledger_tables WHERE relation = 'public.c_obs'}),
	'enabled', 'c_obs is enabled');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.enable_progress'),
	'0', 'no enable_progress row is left');
$node->safe_psql('postgres', 'SELECT medchain.seal()');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM public.c_obs o
	 WHERE (SELECT count(*) FROM medchain.entries e JOIN medchain.ledger_registry r
			   ON r.relation = e.relation AND r.enablement_id = e.enablement_id AND r.released_at IS NULL
			 WHERE e.relation = 'public.c_obs' AND e.kind IN ('baseline', 'insert')
			   AND e.row_key = jsonb_build_object('obs_id', o.obs_id)) <> 1}),
	'0', 'every row has exactly one entry of the enablement');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.entries e
	 WHERE e.relation = 'public.c_obs' AND e.kind IN ('baseline', 'insert')
	   AND NOT EXISTS (SELECT 1 FROM public.c_obs o WHERE o.obs_id = (e.row_key->>'obs_id')::bigint)}),
	'0', 'no entry without its row');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(format('%s:%s', (row_key->>'obs_id'), kind), ',' ORDER BY entry_id)
	  FROM medchain.entries WHERE relation = 'public.c_obs'
	   AND (row_key->>'obs_id')::bigint IN ($a_id, $b_id, $fresh_id)}),
	"$b_id:insert,$fresh_id:insert,$a_id:baseline",
	"A's row is a baseline entry, B's and the later one insert entries, once each");
is($node->safe_psql('postgres', q{
	SELECT string_agg(format('%s:%s', detail->>'action', coalesce(detail->>'baseline_rows', 'null')), ',' ORDER BY entry_id)
	  FROM medchain.entries WHERE relation = 'public.c_obs' AND kind = 'event'}),
	"enable:null,baseline_complete:$c_count", 'one enable event and one baseline_complete event');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.entries e
	 WHERE e.relation = 'public.c_obs' AND e.kind IN ('baseline', 'insert')
	   AND sha256(medchain.row_encoding('public.c_obs', e.row_key)) IS DISTINCT FROM e.row_hash}),
	'0', 'every entry hashes its row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'),
	'0', 'verify() is clean after seal()');
$sa->quit;
$sb->quit;

############################################################################
# D. Abandon an enable stopped midway
############################################################################

$node->safe_psql('postgres', q{
	CREATE TABLE public.d_obs (
		obs_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
	INSERT INTO public.d_obs (note) SELECT 'initial ' || g FROM generate_series(1, 60000) g;
});
cmp_ok($node->safe_psql('postgres',
	q{SELECT pg_relation_size('public.d_obs') / current_setting('block_size')::int}),
	'>', 256, 'd_obs spans more than one baseline range');

# The first range commits; the second waits before it does.
$holder->query_safe('SELECT pg_advisory_lock(42, 2)');
$caller->query_until(qr/^started\n/m, q{\echo started
SELECT medchain.enable('public.d_obs', concurrently => true);
\echo finished
});
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'medchain enable' AND wait_event_type = 'Lock' AND wait_event = 'advisory'})
  or die 'the worker did not reach its second range';
my ($d_done, $d_rows, $d_state) = split /\|/, $node->safe_psql('postgres', q{
	SELECT baseline_blocks_done, baseline_rows_recorded, state FROM medchain.ledger_tables
	 WHERE relation = 'public.d_obs'});
is("$d_state,$d_done", 'enabling,256', 'midway: the first range is recorded');
cmp_ok($d_rows, '>', 0, 'midway: with its baseline rows');

$caller->{stderr} = '';
is($node->safe_psql('postgres', q{
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'medchain enable'}),
	't', 'terminate the worker');
wait_output($caller, 'finished');
like($caller->{stderr}, qr/ERROR:  enabling table public\.d_obs did not complete/,
	'the caller reports the enable incomplete');
$node->poll_query_until('postgres', "SELECT $worker_count = 0")
  or die 'the worker did not exit';
$holder->query_safe('SELECT pg_advisory_unlock(42, 2)');
$node->safe_psql('postgres', q{INSERT INTO public.d_obs (note) VALUES ('while enabling')});

$node->safe_psql('postgres', q{SELECT medchain.disable('public.d_obs', 'abandoned')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM medchain.ledger_tables WHERE relation = 'public.d_obs'}),
	'0', 'abandoned: no longer in ledger_tables');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.enable_progress'),
	'0', 'abandoned: no enable_progress row');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.d_obs'::regclass AND NOT tgisinternal}),
	'0', 'abandoned: its triggers are gone');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'),
	'0', 'abandoned: verify() is clean');

my $d_count = $node->safe_psql('postgres', q{SELECT medchain.enable('public.d_obs')});
is($d_count, '60001', 'enabled again, plainly: every row in the baseline');
$node->safe_psql('postgres', 'SELECT medchain.seal()');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM public.d_obs o
	 WHERE (SELECT count(*) FROM medchain.entries e JOIN medchain.ledger_registry r
			   ON r.relation = e.relation AND r.enablement_id = e.enablement_id AND r.released_at IS NULL
			 WHERE e.relation = 'public.d_obs' AND e.kind = 'baseline'
			   AND e.row_key = jsonb_build_object('obs_id', o.obs_id)) <> 1}),
	'0', 'every row has exactly one entry of the new enablement');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'),
	'0', 'verify() is clean after seal()');

############################################################################
# E. The table rewritten between a failure and the resume
############################################################################

# VACUUM FULL moves rows between the ranges: the resume starts over and
# looks every row up in the journal, which it does only once the entries
# recorded meanwhile are sealed.
$node->safe_psql('postgres', q{
	CREATE TABLE public.e_obs (
		obs_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
	INSERT INTO public.e_obs (note) SELECT 'initial ' || g FROM generate_series(1, 60000) g;
	DELETE FROM public.e_obs WHERE obs_id % 7 = 0;
});
$holder->query_safe('SELECT pg_advisory_lock(42, 2)');
$caller->query_until(qr/^started\n/m, q{\echo started
SELECT medchain.enable('public.e_obs', concurrently => true);
\echo finished
});
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'medchain enable' AND wait_event_type = 'Lock' AND wait_event = 'advisory'})
  or die 'the worker did not reach its second range';
$caller->{stderr} = '';
$node->safe_psql('postgres', q{
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'medchain enable'});
wait_output($caller, 'finished');
$node->poll_query_until('postgres', "SELECT $worker_count = 0")
  or die 'the worker did not exit';
$holder->query_safe('SELECT pg_advisory_unlock(42, 2)');
$node->safe_psql('postgres', q{INSERT INTO public.e_obs (note) VALUES ('while enabling')});
my $e_relfilenode = $node->safe_psql('postgres',
	q{SELECT relfilenode FROM medchain.enable_progress WHERE relid = 'public.e_obs'::regclass});
$node->safe_psql('postgres', 'VACUUM FULL public.e_obs');
isnt($node->safe_psql('postgres', q{SELECT relfilenode FROM pg_class WHERE oid = 'public.e_obs'::regclass}),
	$e_relfilenode, 'rewritten: the table has a new relfilenode');

$caller->{stderr} = '';
$caller->query_until(qr/^started\n/m, q{\echo started
SELECT medchain.enable('public.e_obs', concurrently => true);
\echo finished
});
wait_output($caller, 'finished');
like($caller->{stderr}, qr/was rewritten while it was being enabled, and entries of it wait in batches/,
	'the resume asks for the batched entries to be sealed first');
like($caller->{stderr}, qr/HINT:  The table stays in state enabling/, 'and the table stays enabling');
is($node->safe_psql('postgres', q{SELECT blocks_done FROM medchain.enable_progress
	WHERE relid = 'public.e_obs'::regclass}), '256', 'the refused resume changed no progress');

$node->safe_psql('postgres', 'SELECT medchain.seal()');
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM public.e_obs');
my $e_count = $node->safe_psql('postgres',
	q{SELECT medchain.enable('public.e_obs', concurrently => true)});
is($e_count, $rows - 1, 'after seal() the resume completes: every row but the one inserted meanwhile in the baseline');
is($node->safe_psql('postgres', q{SELECT probe_all FROM medchain.enable_progress}), '',
	'no progress row is left');
$node->safe_psql('postgres', 'SELECT medchain.seal()');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM public.e_obs o
	 WHERE (SELECT count(*) FROM medchain.journal e JOIN medchain.ledger_registry r
			   ON r.relation = e.relation AND r.enablement_id = e.enablement_id AND r.released_at IS NULL
			 WHERE e.relation = 'public.e_obs' AND e.kind IN ('baseline', 'insert')
			   AND e.row_key = jsonb_build_object('obs_id', o.obs_id)) <> 1}),
	'0', 'rewritten and resumed: every row has exactly one entry');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'),
	'0', 'rewritten and resumed: verify() is clean after seal()');

$caller->quit;
$holder->quit;
$node->stop;
done_testing();
