# Concurrent inserters (pgbench, 4 clients) leave exactly one entry per
# committed row and none for rolled-back ones; prepared transactions record
# their rows only if committed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('node');
$node->init;
$node->append_conf('postgresql.conf', 'max_prepared_transactions = 4');
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.observation (
		observation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		person_id int NOT NULL, value_as_number numeric, note text);
	SELECT medchain.enable('public.observation');
});

# One transaction in five is rolled back after its insert.
$node->pgbench(
	'--no-vacuum --client=4 --jobs=2 --transactions=500',
	0,
	[qr{processed: 2000/2000}],
	[qr{^$}],
	'4 concurrent inserters',
	{
		'003_insert' => q{
\set r random(1, 5)
BEGIN;
INSERT INTO public.observation (person_id, value_as_number, note) VALUES (:client_id, :r, 'pgbench');
INSERT INTO public.observation (person_id, value_as_number, note) VALUES (:client_id, :r * 2, 'pgbench');
\if :r = 1
ROLLBACK;
\else
COMMIT;
\endif
}
	});

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM public.observation');
cmp_ok($rows, '>', 2000, 'most transactions committed');
cmp_ok($rows, '<', 4000, 'some transactions rolled back');
is($node->safe_psql('postgres', q{SELECT count(*) FROM medchain.entries WHERE relation = 'public.observation' AND kind = 'insert'}),
	$rows, 'one entry per committed row');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM public.observation o
	 WHERE (SELECT count(*) FROM medchain.entries e
			 WHERE e.relation = 'public.observation'
			   AND e.row_key = jsonb_build_object('observation_id', o.observation_id)) <> 1}),
	'0', 'every row has exactly one entry');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.entries e
	 WHERE e.relation = 'public.observation' AND e.kind = 'insert'
	   AND sha256(medchain.row_encoding('public.observation', e.row_key)) <> e.row_hash}),
	'0', 'every entry hashes its row');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT entry_id) = count(*) FROM medchain.entries}),
	't', 'entry ids are unique');

# Two-phase commit: the entry is written with the row and shares its fate.
$node->safe_psql('postgres', q{
	BEGIN;
	INSERT INTO public.observation (person_id, note) VALUES (1, 'prepared, then committed');
	PREPARE TRANSACTION 'p1';
	BEGIN;
	INSERT INTO public.observation (person_id, note) VALUES (2, 'prepared, then rolled back');
	PREPARE TRANSACTION 'p2';
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM medchain.entries e JOIN public.observation o
	ON e.row_key = jsonb_build_object('observation_id', o.observation_id) WHERE o.note LIKE 'prepared%'}),
	'0', 'prepared rows are not visible yet');
$node->safe_psql('postgres', q{COMMIT PREPARED 'p1'; ROLLBACK PREPARED 'p2'});
is($node->safe_psql('postgres', q{SELECT string_agg(o.note, ',') FROM medchain.entries e JOIN public.observation o
	ON e.row_key = jsonb_build_object('observation_id', o.observation_id) WHERE o.note LIKE 'prepared%'}),
	'prepared, then committed', 'committed prepared row recorded, rolled-back one not');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.observation o
	WHERE NOT EXISTS (SELECT 1 FROM medchain.entries e
		WHERE e.row_key = jsonb_build_object('observation_id', o.observation_id))}),
	'0', 'no row without an entry');

$node->stop;
done_testing();
