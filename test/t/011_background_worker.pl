# The background worker: with shared_preload_libraries = 'medchain' a
# launcher starts, in each database that has the extension, a worker that
# seals and a scrubber that verifies.  Inserts are sealed within
# medchain.seal_interval, which a reload changes; a backlog becomes blocks
# of at most medchain.block_max_entries; manual seal() beside the worker
# never forks the chain; an error cycle is logged and recovered from; a
# SIGKILL or an immediate shutdown in the middle of a seal loses and
# doubles nothing; DROP DATABASE, DROP EXTENSION, RENAME and CREATE
# DATABASE ... TEMPLATE do not wait for the processes; the scrubber finds a
# superuser's tamper and a forged signature within a pass, logs keys and
# not values, honours medchain.scrub_rate, keeps its place across a
# restart and gives no false findings under load; a hot standby runs none
# of it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{TESTDIR}/test/lib";
use MedchainTest;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'medchain'
medchain.difficulty = 8
medchain.seal_interval = '300ms'
medchain.scrub_rate = 1000000000
max_worker_processes = 24
max_connections = 40
restart_after_crash = on
log_min_messages = info
});
$node->start;

sub query { my ($sql, $db) = @_; return $node->safe_psql($db // 'postgres', $sql); }
sub reload_with
{
	my ($settings) = @_;
	query("ALTER SYSTEM SET $_") for @$settings;
	query('SELECT pg_reload_conf()');
}
sub poll
{
	my ($sql, $expected, $what, $db) = @_;
	ok($node->poll_query_until($db // 'postgres', $sql, $expected), $what);
}
# ---------- the launcher and the node key ----------

poll(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'medchain launcher'}, '1',
	'the launcher runs, with its own backend_type');
my $key_file = $node->data_dir . '/medchain_node.key';
ok(-f $key_file, 'the launcher made the node key file at the first start');
is(sprintf('%04o', (stat $key_file)[2] & 07777), '0600', 'the key file has mode 0600');

# ---------- found without configuration, sealing within the interval ----------

query(q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.obs (id int PRIMARY KEY, value numeric, note text);
	CREATE SEQUENCE public.obs_ids START 500000;
	INSERT INTO public.obs SELECT i, i, 'baseline' FROM generate_series(1, 100) i;
	SELECT medchain.enable('public.obs');
});
poll(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres'
		 AND backend_type IN ('medchain worker', 'medchain scrubber', 'medchain replicator')}, '3',
	'CREATE EXTENSION brings a worker, a scrubber and a replicator to the database within seconds');
query(q{INSERT INTO public.obs SELECT i, i, 'new' FROM generate_series(101, 150) i});
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0',
	'the worker sealed the entries without a call to seal()');
is(query(q{SELECT count(*) FROM medchain.blocks WHERE signature IS NULL OR format_version <> 3}), '0',
	'every block the worker sealed is signed, format 3');
is(query(q{SELECT count(*) FROM medchain.verify()}), '0', 'verify() is clean');
is(query(q{SELECT pid IS NOT NULL AND started_at IS NOT NULL AND last_seal_at IS NOT NULL AND blocks_sealed > 0
			 AND last_error IS NULL FROM medchain.worker_status WHERE database = 'postgres' AND process = 'worker'}),
	't', 'worker_status shows the worker: its pid, its start, its last seal, no error');
is(query(q{SELECT count(*) FROM medchain.worker_status WHERE process = 'launcher' AND pid IS NOT NULL}), '1',
	'worker_status shows the launcher');
my $fingerprint = query(q{SELECT medchain.node_identity()->>'fingerprint'});

# ---------- a reload changes the interval ----------

reload_with(["medchain.seal_interval = '1h'"]);
sleep 1;    # the worker takes the reload at once: its latch is set
query(q{INSERT INTO public.obs VALUES (151, 1, 'waits')});
sleep 3;
is(query(q{SELECT pending_entries FROM medchain.chain_status}), '1',
	'with seal_interval reloaded as 1h the entry waits');
reload_with(["medchain.seal_interval = '300ms'"]);
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0',
	'reloaded as 300ms, it is sealed at once');

# A reload that comes while a cycle waits for a lock is taken once the
# cycle ends: the lock wait resets the latch that the SIGHUP set.
reload_with(["medchain.seal_interval = '1h'"]);
sleep 1;
query(q{INSERT INTO public.obs VALUES (152, 1, 'waits for a lock')});
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE medchain.blocks IN ACCESS EXCLUSIVE MODE');
reload_with(['medchain.block_max_entries = 99999']);    # wakes the worker into a cycle
poll(q{SELECT wait_event_type FROM pg_stat_activity WHERE backend_type = 'medchain worker'}, 'Lock',
	'the worker waits for the lock in a cycle');
reload_with(["medchain.seal_interval = '300ms'"]);
sleep 1;
$locker->query_safe('COMMIT');
$locker->quit;
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0',
	'the reload it received while waiting is taken: the entry is sealed');
reload_with(['medchain.block_max_entries = 100000']);

# ---------- a backlog becomes several blocks ----------

reload_with(["medchain.seal_interval = '1h'", 'medchain.block_max_entries = 1000']);
my $before = query(q{SELECT max(height) FROM medchain.blocks});
query(q{INSERT INTO public.obs SELECT i, i, 'backlog' FROM generate_series(1001, 4500) i});
reload_with(["medchain.seal_interval = '300ms'"]);
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0', 'the backlog of 3,500 entries is sealed');
is(query(qq{SELECT count(*) >= 4 AND max(entry_count) <= 1000 AND sum(entry_count) = 3500
			  FROM medchain.blocks WHERE height > $before}),
	't', 'as blocks of at most medchain.block_max_entries');
reload_with(['medchain.block_max_entries = 100000']);

# ---------- manual seal() beside the worker ----------

$node->pgbench(
	'--no-vacuum --client=4 --jobs=2 --transactions=150',
	0,
	[qr{processed: 600/600}],
	[qr{^$}],
	'inserts and manual seals while the worker seals',
	{
		'011_insert' => q{
INSERT INTO public.obs VALUES (nextval('public.obs_ids'), 0, 'concurrent');
},
		'011_seal' => q{
SELECT medchain.seal();
},
	});
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0', 'everything is sealed');
is(query(q{SELECT max(height) + 1 = count(*) FROM medchain.blocks}), 't', 'the chain never forked');
is(query(q{SELECT count(*) FROM medchain.entries GROUP BY entry_id HAVING count(*) > 1}), '',
	'no entry was sealed twice');
is(query(q{SELECT count(*) FROM medchain.verify()}), '0', 'verify() is clean');

# ---------- an error in a cycle ----------

my $worker_pid = query(q{SELECT pid FROM medchain.worker_status WHERE database = 'postgres' AND process = 'worker'});
reload_with(['medchain.difficulty = 4']);
query(q{INSERT INTO public.obs VALUES (200000, 1, 'blocked')});
poll(q{SELECT last_error LIKE 'medchain.difficulty 4 is below the chain''s difficulty 8%' FROM medchain.worker_status
		WHERE database = 'postgres' AND process = 'worker'}, 't',
	'a cycle that fails is kept in worker_status.last_error');
ok($node->wait_for_log(qr/ERROR:  medchain\.difficulty 4 is below the chain's difficulty 8/),
	'and logged');
reload_with(['medchain.difficulty = 8']);
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0', 'after the fix the worker seals again');
is(query(q{SELECT pid FROM medchain.worker_status WHERE database = 'postgres' AND process = 'worker'}),
	$worker_pid, 'the same worker process went on');

# ---------- objects older than the library ----------

query('CREATE DATABASE older');
query(q{CREATE EXTENSION medchain VERSION '1.2'; CREATE TABLE t (id int PRIMARY KEY);
	SELECT medchain.enable('t'); INSERT INTO t VALUES (1)}, 'older');
my $current = current_version();
poll(qq{SELECT last_error = 'medchain''s objects in database "older" are at version 1.2, its library at $current'
		 FROM medchain.worker_status WHERE database = 'older' AND process = 'worker'}, 't',
	'a worker facing objects older than its library asks for the update in last_error');
ok($node->wait_for_log(qr/ERROR:  medchain's objects in database "older" are at version 1\.2, its library at \Q$current\E\n.*DETAIL:  The background worker works only with objects of its own version\.\n.*HINT:  Run ALTER EXTENSION medchain UPDATE in that database\./),
	'and in the log, with the hint');
is(query(q{SELECT count(*) FROM medchain.blocks}, 'older'), '0', 'it seals nothing meanwhile');
query('ALTER EXTENSION medchain UPDATE', 'older');
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0', 'after the update it seals', 'older');
query('DROP DATABASE older');

# ---------- the scrubber finds a superuser's tamper, logs keys and not values ----------

my $log_offset = -s $node->logfile;
# A superuser goes around the guards and changes a sealed row's note.
sub superuser_sets_note
{
	my ($note) = @_;
	query(qq{
		BEGIN;
		ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
		ALTER TABLE public.obs DISABLE TRIGGER medchain_append_only;
		UPDATE public.obs SET note = '$note' WHERE id = 42;
		ALTER TABLE public.obs ENABLE ALWAYS TRIGGER medchain_append_only;
		ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
		COMMIT;
	});
}
superuser_sets_note('secret-value-xyzzy');
poll(q{SELECT count(*) FROM medchain.findings WHERE finding = 'row_modified' AND relation = 'public.obs'
		AND row_key = '{"id": 42}' AND resolved_at IS NULL}, '1',
	'the scrubber found the altered row and keeps it in medchain.findings');
ok($node->wait_for_log(qr/WARNING:  medchain scrubber found row_modified\n.*DETAIL:  Relation public\.obs, row key \{"id": 42\}, entry \d+, block \d+\./, $log_offset),
	'a WARNING names the finding, the table and the row key');
my $scrubber = query(q{SELECT pid FROM medchain.worker_status WHERE database = 'postgres' AND process = 'scrubber'});
my @scrubber_lines = grep { /\[$scrubber\]/ } split /\n/, slurp_file($node->logfile, $log_offset);
ok(scalar(grep { /medchain scrubber found/ } @scrubber_lines), 'the scrubber\'s own log lines hold the WARNING');
ok(!scalar(grep { /xyzzy/ } @scrubber_lines), 'and never the altered value');
is(query(q{SELECT open_findings FROM medchain.scrub_status}), '1', 'scrub_status counts one open finding');
# The compliance report takes the scrubber's findings while it runs, with
# when each was seen, and runs verify() itself when its last pass is older
# than the report may accept.
poll(q{SELECT concat_ws(' ', r #>> '{findings_source,source}', r->>'verdict', f->>'finding', f->>'relation',
						f->>'row_key', f ? 'first_seen')
		 FROM medchain.compliance_report() r, jsonb_array_elements(r->'findings') f},
	'scrubber findings row_modified public.obs {"id": 42} t',
	'compliance_report() gives the scrubber\'s finding, with when it was first seen');
like(query(q{SELECT medchain.compliance_report_text()}),
	qr/\nSource {15}the scrubber's last full pass, from \S+ to \S+ \(max_scrub_age 1 day\)\nOpen findings {8}1\n  1\. row_modified, public\.obs, row \{"id": 42\}, entry \d+, block \d+\n.*\n     first seen /,
	'and its text says so');
is(query(q{SELECT concat_ws(' ', r #>> '{findings_source,source}', r->>'verdict', f->>'finding', f->>'row_key',
							f ? 'first_seen')
			 FROM medchain.compliance_report('0') r, jsonb_array_elements(r->'findings') f}),
	'verify findings row_modified {"id": 42} f',
	'compliance_report(\'0\') finds the same by verify() now');
superuser_sets_note('baseline');
poll(q{SELECT resolved_at IS NOT NULL FROM medchain.findings WHERE finding = 'row_modified'}, 't',
	'put back, the finding is resolved after a pass that no longer sees it');
is(query(q{SELECT open_findings FROM medchain.scrub_status}), '0', 'no finding is open');

# ---------- a forged signature ----------

my $head = query(q{SELECT max(height) FROM medchain.blocks});
my $signature = query(qq{SELECT encode(signature, 'hex') FROM medchain.blocks WHERE height = $head});
query(qq{UPDATE medchain.blocks SET signature = set_byte(signature, 7, get_byte(signature, 7) # 1) WHERE height = $head});
poll(qq{SELECT count(*) FROM medchain.findings WHERE finding = 'signature_invalid' AND block_height = $head
		 AND resolved_at IS NULL}, '1', 'the scrubber finds a forged signature');
query(qq{UPDATE medchain.blocks SET signature = decode('$signature', 'hex') WHERE height = $head});
poll(q{SELECT open_findings FROM medchain.scrub_status}, '0', 'and resolves it once the signature is back');

# ---------- medchain.scrub_rate ----------

query(q{
	CREATE TABLE public.paced (id int PRIMARY KEY, note text);
	CREATE SEQUENCE public.paced_ids START 100000;
	INSERT INTO public.paced SELECT i, 'paced row' FROM generate_series(1, 3000) i;
	SELECT medchain.enable('public.paced');
});
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0', 'the paced table is sealed');
my $items = query(q{SELECT (SELECT count(*) FROM medchain.journal) + (SELECT count(*) FROM public.obs)
						 + (SELECT count(*) FROM public.paced)});
my $pass = query(q{SELECT pass FROM medchain.scrub_status});
reload_with(['medchain.scrub_rate = 5000']);
poll(qq{SELECT pass >= $pass + 2 AND pass_started_at IS NULL OR pass >= $pass + 3 FROM medchain.scrub_status}, 't',
	'passes go on at scrub_rate 5000');
my ($secs, $rows) = split /\|/, query(q{SELECT extract(epoch FROM last_pass_finished_at - last_pass_started_at),
											   last_pass_rows FROM medchain.scrub_status});
# Each of the two tables' steps checks every entry and that table's rows.
cmp_ok($rows, '>=', $items, "a pass checks every entry and row ($rows rows and entries)");
cmp_ok($rows / $secs, '<=', 5000 * 1.1, sprintf('and keeps to the rate (%.0f per second)', $rows / $secs));
reload_with(['medchain.scrub_rate = 0']);
sleep 1;
my $stopped_at = query(q{SELECT pass || ':' || rows_checked FROM medchain.scrub_state});
sleep 3;
is(query(q{SELECT pass || ':' || rows_checked FROM medchain.scrub_state}), $stopped_at,
	'scrub_rate 0 turns scrubbing off');
like(query(q{SELECT medchain.compliance_report_text()}),
	qr/\nSource {15}verify\(\), run for this report: the scrubber is not running in this database\n/,
	'with scrubbing off the compliance report runs verify()');

# ---------- the scrubber's place survives a restart ----------

reload_with(['medchain.scrub_rate = 3000']);
poll(q{SELECT tables_checked = 1 AND pass_started_at IS NOT NULL FROM medchain.scrub_status}, 't',
	'a pass is under way, one table checked');
my $pass_before = query(q{SELECT pass || ':' || last_checked FROM medchain.scrub_state});
$node->restart;
is(query(q{SELECT pass || ':' || last_checked FROM medchain.scrub_state}), $pass_before,
	'after a restart the pass and its place are as they were');
poll(q{SELECT tables_checked >= 2 OR pass_started_at IS NULL FROM medchain.scrub_status}, 't',
	'the pass goes on from the next table');
is(query(q{SELECT pass FROM medchain.scrub_state}), (split /:/, $pass_before)[0],
	'in the same pass, not a new one');
reload_with(['medchain.scrub_rate = 1000000000']);
is(query(q{SELECT medchain.node_identity()->>'fingerprint'}), $fingerprint,
	'the node key is the same after the restart');

# ---------- SIGKILL of the worker in the middle of a seal ----------

# A high difficulty keeps the worker in its seal for a minute; the
# processes started after the crash, or after the restart, seal at 8 again.
sub seal_interrupted
{
	my ($how, $first_id) = @_;
	reload_with(["medchain.seal_interval = '1h'", 'medchain.difficulty = 28']);
	query(qq{INSERT INTO public.obs SELECT i, i, 'interrupted' FROM generate_series($first_id, $first_id + 1999) i});
	reload_with(["medchain.seal_interval = '300ms'"]);
	poll(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'medchain worker'
			 AND query = 'sealing pending entries' AND state = 'active'}, '1', "$how: the worker is sealing");
	query(q{ALTER SYSTEM SET medchain.difficulty = 8});
	if ($how eq 'SIGKILL')
	{
		my $pid = query(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'medchain worker'});
		kill 'KILL', $pid;
		# the postmaster keeps its settings through a crash restart
		$node->reload;
		poll(qq{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'medchain worker' AND pid <> $pid}, '1',
			'SIGKILL: after the crash restart the launcher starts a new worker');
	}
	else
	{
		$node->stop('immediate');
		$node->start;
	}
	poll(q{SELECT pending_entries FROM medchain.chain_status}, '0', "$how: the entries are sealed after all");
	is(query(qq{SELECT count(*) FILTER (WHERE n = 1) || '/' || count(*) FROM
				  (SELECT e.entry_id, count(*) AS n FROM medchain.entries e
					WHERE e.relation = 'public.obs' AND (e.row_key->>'id')::int BETWEEN $first_id AND $first_id + 1999
					GROUP BY e.entry_id) s}), '2000/2000', "$how: each of the 2,000 rows has one entry, nothing lost or doubled");
	is(query(qq{SELECT count(DISTINCT row_key) FROM medchain.entries
				 WHERE relation = 'public.obs' AND (row_key->>'id')::int BETWEEN $first_id AND $first_id + 1999
				   AND block_height IS NOT NULL}), '2000', "$how: each sealed in a block");
	is(query(q{SELECT max(height) + 1 = count(*) AND max(difficulty) = 8 FROM medchain.blocks}), 't',
		"$how: the chain is whole, and no block of the interrupted seal was kept");
	is(query(q{SELECT count(*) FROM medchain.verify()}), '0', "$how: verify() is clean");
}
seal_interrupted('SIGKILL', 300000);
seal_interrupted('immediate shutdown', 310000);

# ---------- no false findings from concurrent inserts and seals ----------

reload_with(["medchain.seal_interval = '100ms'", 'medchain.scrub_rate = 1000000000']);
my $open_before = query(q{SELECT count(*) FROM medchain.findings});
my $pass_busy = query(q{SELECT pass FROM medchain.scrub_state});
$node->pgbench(
	'--no-vacuum --client=4 --jobs=2 --time=8',
	0,
	[qr{processed: \d+}],
	[qr{^$}],
	'inserts while the worker seals and the scrubber scrubs at full rate',
	{
		'011_busy' => q{
INSERT INTO public.paced VALUES (nextval('public.paced_ids'), 'busy');
},
	});
cmp_ok(query(q{SELECT pass FROM medchain.scrub_state}), '>', $pass_busy + 2, 'several passes ran meanwhile');
is(query(q{SELECT count(*) FROM medchain.findings}), $open_before, 'and none found anything');

# ---------- statements that need the database alone ----------

query('CREATE DATABASE ehr2');
query(q{CREATE EXTENSION medchain; CREATE TABLE t (id int PRIMARY KEY); SELECT medchain.enable('t')}, 'ehr2');
poll(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr2' AND backend_type LIKE 'medchain%'}, '3',
	'the new database gets its processes');
my $t0 = time;
query('ALTER DATABASE ehr2 RENAME TO ehr3');
cmp_ok(time - $t0, '<', 4, 'ALTER DATABASE RENAME does not wait for them');
poll(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr3' AND backend_type LIKE 'medchain%'}, '3',
	'they come back in the renamed database');
$t0 = time;
query('CREATE DATABASE ehr4 TEMPLATE ehr3');
cmp_ok(time - $t0, '<', 4, 'CREATE DATABASE ... TEMPLATE does not wait for them');
poll(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr4' AND backend_type LIKE 'medchain%'}, '3',
	'the copy, which has the extension, gets processes of its own');

query(q{SELECT medchain.disable('t', 'the copy no longer needs its ledger')}, 'ehr4');
$t0 = time;
query('DROP EXTENSION medchain', 'ehr4');
cmp_ok(time - $t0, '<', 4, 'DROP EXTENSION does not wait for them');
sleep 8;
is(query(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr4' AND backend_type LIKE 'medchain%'}), '0',
	'after DROP EXTENSION the processes are gone and not restarted');
is(query(q{SELECT count(*) FROM medchain.worker_status WHERE database = 'ehr4'}), '0',
	'and worker_status no longer lists the database');
query('CREATE EXTENSION medchain', 'ehr4');
poll(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr4' AND backend_type LIKE 'medchain%'}, '3',
	'CREATE EXTENSION brings them back');

my $drop_offset = -s $node->logfile;
$t0 = time;
query('DROP DATABASE ehr4');
cmp_ok(time - $t0, '<', 4, 'DROP DATABASE does not wait for them (PostgreSQL would give up after 5 s)');
sleep 6;    # past the launcher's wake-up and its next rescan
unlike(slurp_file($node->logfile, $drop_offset), qr/FATAL:  database \d+ does not exist/,
	'and nothing is started in the dropped database');

# ---------- medchain.worker_databases ----------

reload_with(["medchain.worker_databases = 'postgres'"]);
poll(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr3' AND backend_type LIKE 'medchain%'}, '0',
	'medchain.worker_databases restricts the databases: ehr3\'s processes stop');
sleep 7;    # past a rescan and a restart pause
is(query(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr3' AND backend_type LIKE 'medchain%'}), '0',
	'and they stay stopped');
is(query(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres' AND backend_type LIKE 'medchain%'}), '3',
	'the listed database keeps its processes');
reload_with(["medchain.worker_databases = ''"]);
poll(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'ehr3' AND backend_type LIKE 'medchain%'}, '3',
	'emptied again, every database with the extension has them');

# ---------- a hot standby does nothing ----------

$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('worker_standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
query(q{INSERT INTO public.obs VALUES (400000, 1, 'replicated')});
poll(q{SELECT pending_entries FROM medchain.chain_status}, '0', 'the primary seals');
$node->wait_for_catchup($standby, 'replay', $node->lsn('insert'));
is($standby->safe_psql('postgres', q{SELECT block_height IS NOT NULL FROM medchain.entries WHERE relation = 'public.obs' AND row_key = '{"id": 400000}'}),
	't', 'the standby has the block the primary\'s worker sealed');
sleep 2;
is($standby->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'medchain%'}), '0',
	'the standby runs no medchain process');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM medchain.worker_status}), '0',
	'and worker_status shows none');
unlike(slurp_file($standby->logfile), qr/ERROR|FATAL.*medchain/, 'its log has no error');
$standby->promote;
$standby->poll_query_until('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'medchain launcher'}, '1');
ok(1, 'promoted, it starts the launcher');
$standby->stop;

# ---------- without the preload ----------

my $plain = PostgreSQL::Test::Cluster->new('no_preload');
$plain->init;
$plain->append_conf('postgresql.conf', 'medchain.difficulty = 4');
$plain->start;
$plain->safe_psql('postgres', q{CREATE EXTENSION medchain; CREATE TABLE t (id int PRIMARY KEY);
	SELECT medchain.enable('t'); INSERT INTO t VALUES (1)});
is($plain->safe_psql('postgres', q{SELECT medchain.seal() IS NOT NULL, (SELECT count(*) FROM medchain.verify()),
									 (SELECT count(*) FROM medchain.worker_status)}),
	't|0|0', 'without the preload seal() and verify() work by hand and no process runs');
$plain->stop;

$node->stop;
done_testing();
