# The journal is part of the database's WAL-logged history: a streaming hot
# standby reads the same entries, row hashes and ledger catalog, and can
# recompute row hashes and attest notarized documents, without writing
# anything.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.vitals (id int PRIMARY KEY, person_id int, pulse int, taken timestamptz);
	INSERT INTO public.vitals SELECT i, i % 7, 60 + i % 40, '2026-01-01 00:00+00'::timestamptz + i * interval '1 minute'
	  FROM generate_series(1, 500) i;
	SELECT medchain.enable('public.vitals');
});
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', q{
	INSERT INTO public.vitals SELECT i, i % 7, 70, '2026-02-01 00:00+00' FROM generate_series(501, 800) i});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');
my $entries_query = q{SELECT count(*), md5(string_agg(entry_id || encode(entry_hash, 'hex'), ',' ORDER BY entry_id)) FROM medchain.entries};
is($standby->safe_psql('postgres', $entries_query),
	$primary->safe_psql('postgres', $entries_query), 'standby holds the same entries');
is($standby->safe_psql('postgres', q{SELECT relation || '=' || rows_recorded FROM medchain.ledger_tables}),
	'public.vitals=800', 'ledger_tables readable on the standby');
is($standby->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.entries e
	 WHERE e.kind IN ('baseline', 'insert')
	   AND sha256(medchain.row_encoding('public.vitals', e.row_key)) = e.row_hash}),
	'800', 'row hashes recomputed on the standby match');

my ($ret, $stdout, $stderr) = $standby->psql('postgres', q{INSERT INTO public.vitals VALUES (9999, 1, 80, now())});
like($stderr, qr/read-only transaction/, 'standby refuses writes as any hot standby does');

# Blocks sealed on the primary are checked on the standby.
$primary->safe_psql('postgres', q{SET medchain.difficulty = 8; SELECT medchain.seal(300); SELECT medchain.seal();});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', 'SELECT count(*) FROM medchain.blocks'), '2', 'blocks replicated');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM medchain.verify()'), '0',
	'verify() runs on the standby and finds nothing');
is($standby->safe_psql('postgres', 'SELECT medchain.verify_digest(medchain.digest())'), 't',
	'digest taken and checked on the standby');
is($standby->safe_psql('postgres', q{SELECT medchain.verify_proof(medchain.proof('public.vitals', '{"id": 42}'))}),
	't', 'proof built and checked on the standby');
($ret, $stdout, $stderr) = $standby->psql('postgres', 'SELECT medchain.seal()');
like($stderr, qr/cannot seal blocks during recovery/, 'seal() refused on the standby');

# A document notarized and sealed on the primary is attested on the
# standby, with a proof that holds; notarizing is for the primary.
$primary->safe_psql('postgres', q{
	SELECT medchain.notarize('trial protocol v1'::bytea, 'protocol');
	SET medchain.difficulty = 8;
	SELECT medchain.seal();});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', q{
	SELECT label || ' ' || medchain.verify_proof(proof, medchain.digest())
	  FROM medchain.attest('trial protocol v1'::bytea)}),
	'protocol true', 'attest() on the standby, its proof anchored in the standby\'s digest');
($ret, $stdout, $stderr) = $standby->psql('postgres', q{SELECT medchain.notarize('x'::bytea)});
like($stderr, qr/cannot execute medchain\.notarize\(\) in a read-only transaction/,
	'notarize() refused on the standby');

$standby->stop;
$primary->stop;
done_testing();
