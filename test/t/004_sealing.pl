# Sealing under concurrency: pgbench clients insert into ledger tables while
# others call seal() at the same time.  The chain never forks, no entry is
# sealed twice or skipped, and verify() finds nothing.  Then one call seals
# 100,001 pending entries, as two blocks.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('sealer');
$node->init;
$node->append_conf('postgresql.conf', "medchain.difficulty = 4\nmax_connections = 20");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.obs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
							 person_id int, value numeric, note text);
	CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
	SELECT medchain.enable('public.obs'), medchain.enable('public.notes');
});

$node->pgbench(
	'--no-vacuum --client=6 --jobs=3 --transactions=300',
	0,
	[qr{processed: 1800/1800}],
	[qr{^$}],
	'inserts and seals at the same time',
	{
		'004_insert' => q{
\set r random(1, 10)
INSERT INTO public.obs (person_id, value, note) VALUES (:client_id, :r, 'concurrent');
INSERT INTO public.notes (body) VALUES ('note ' || :r);
},
		'004_rolled_back' => q{
BEGIN;
INSERT INTO public.obs (person_id, value, note) VALUES (:client_id, 0, 'rolled back');
ROLLBACK;
},
		'004_seal' => q{
SELECT medchain.seal();
},
	});

$node->safe_psql('postgres', 'SELECT medchain.seal()');
my $blocks = $node->safe_psql('postgres', 'SELECT count(*) FROM medchain.blocks');
cmp_ok($blocks, '>', 10, "concurrent seals made $blocks blocks");
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.blocks b
	 WHERE b.height > 0
	   AND b.prev_hash IS DISTINCT FROM (SELECT p.block_hash FROM medchain.blocks p WHERE p.height = b.height - 1)}),
	'0', 'every block links to the block below: no fork');
is($node->safe_psql('postgres', 'SELECT max(height) + 1 = count(*) FROM medchain.blocks'),
	't', 'heights run without a gap');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.blocks b
	 WHERE b.entry_count <> (SELECT count(*) FROM medchain.entries e WHERE e.block_height = b.height)}),
	'0', 'each block holds exactly its entries: none sealed twice');
is($node->safe_psql('postgres', q{SELECT count(*) FROM medchain.entries WHERE block_height IS NULL}),
	'0', 'no entry skipped');
is($node->safe_psql('postgres', q{SELECT pending_entries FROM medchain.chain_status}), '0',
	'pending queue empty');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.obs WHERE note = 'rolled back'}), '0',
	'rolled-back inserts left no rows');
is($node->safe_psql('postgres', q{SELECT count(*) FROM medchain.entries WHERE relation = 'public.obs' AND kind = 'insert'}),
	$node->safe_psql('postgres', q{SELECT count(*) FROM public.obs}), 'one entry per row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean');

# 100,000 pending entries in one call.
$node->safe_psql('postgres', q{
	CREATE TABLE public.bulk (id int PRIMARY KEY, note text);
	INSERT INTO public.bulk SELECT i, 'bulk row ' || i || repeat(' padding', 12) FROM generate_series(1, 100000) i;
	SELECT medchain.enable('public.bulk');
});
is($node->safe_psql('postgres', 'SELECT pending_entries FROM medchain.chain_status'), '100001',
	'100,000 baseline entries and an event pending');
my $height = $node->safe_psql('postgres', 'SELECT medchain.seal()');
is($node->safe_psql('postgres', "SELECT string_agg(entry_count::text, ',' ORDER BY height) FROM medchain.blocks WHERE height >= $height - 1"),
	'100000,1', 'one seal() call sealed them all, in blocks of at most medchain.block_max_entries');
is($node->safe_psql('postgres', 'SELECT pending_entries FROM medchain.chain_status'), '0',
	'nothing is left pending');
is($node->safe_psql('postgres', q{SELECT count(*) FROM medchain.verify('public.bulk')}), '0',
	'verify() of the bulk table is clean');

# A table this large is hashed by a parallel worker, which sees exactly what
# the backend sees, uncommitted tampering of its own transaction included;
# the result is the same without workers.
cmp_ok($node->safe_psql('postgres', q{SELECT pg_relation_size('public.bulk') / 8192}), '>=', 1024,
	'the bulk table is large enough for a parallel worker');
my $tamper = q{
	BEGIN;
	ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
	ALTER TABLE public.bulk DISABLE TRIGGER ALL;
	UPDATE public.bulk SET note = 'altered' WHERE id = 77777;
	DELETE FROM public.bulk WHERE id = 5;
	INSERT INTO public.bulk VALUES (200000, 'slipped in');
	SELECT finding || ' ' || row_key::text FROM medchain.verify('public.bulk') ORDER BY 1;
	ROLLBACK;
};
my $expected = join("\n", 'row_missing {"id": 5}', 'row_modified {"id": 77777}',
	'row_unrecorded {"id": 200000}');
is($node->safe_psql('postgres', $tamper), $expected, 'parallel verify() names the tampered rows');
is($node->safe_psql('postgres', "SET max_parallel_workers_per_gather = 0; $tamper"), $expected,
	'and so does verify() without workers');
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SET statement_timeout = '5ms'; SELECT count(*) FROM medchain.verify()});
like($stderr, qr/canceling statement due to statement timeout/, 'verify() honours statement_timeout');
is($node->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'), '0',
	'and the next verify() runs normally');

# The first block of a chain announces the node key with an entry id from
# the sealing backend's cache of ids, which may lie below ids another
# backend has used since: the announcement takes its place in id order.
$node->safe_psql('postgres', 'CREATE DATABASE fresh_chain');
$node->safe_psql('fresh_chain', q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.t (id int PRIMARY KEY);
	SELECT medchain.enable('public.t');
});
my $sealer = $node->background_psql('fresh_chain');
$sealer->query_safe('INSERT INTO public.t VALUES (0)');
$node->safe_psql('fresh_chain', 'INSERT INTO public.t SELECT generate_series(1, 100)');
$sealer->query_safe('SELECT medchain.seal()');
$sealer->quit;
is($node->safe_psql('fresh_chain', q{
	SELECT (SELECT entry_id FROM medchain.entries WHERE relation = 'medchain.blocks')
		   < (SELECT max(entry_id) FROM medchain.entries WHERE relation = 'public.t')}),
	't', 'the announcement\'s id lies below the ids of rows recorded after the sealer\'s own');
is($node->safe_psql('fresh_chain', q{
	SELECT b.first_entry_id = min(e.entry_id) AND b.last_entry_id = max(e.entry_id)
		   AND bool_and(e.leaf_index = e.rank - 1)
	  FROM medchain.blocks b
	  JOIN (SELECT entry_id, leaf_index, block_height,
				   rank() OVER (PARTITION BY block_height ORDER BY entry_id) AS rank
			  FROM medchain.entries) e ON e.block_height = b.height
	 GROUP BY b.height, b.first_entry_id, b.last_entry_id}),
	't', 'the block\'s leaves run in entry_id order, and its first and last ids are right');
is($node->safe_psql('fresh_chain', 'SELECT count(*) FROM medchain.verify()'), '0',
	'verify() of that chain is clean');

$node->stop;
done_testing();
