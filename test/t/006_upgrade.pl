# The upgrade from 1.0: a database made by medchain 1.0 (the dump in
# test/fixtures/v1_0_database.sql: entries, blocks, entries still pending,
# a released table, a table enabled twice, a digest and proofs kept
# outside the journal) is restored with the extension at version 1.0 and
# updated to the current version, through every step.  Before the update
# the new library refuses to write into the old journal; after it, verify() is clean, the old digest and proofs still
# verify, and new entries and blocks are format version 2, chained onto
# the version 1 blocks.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{TESTDIR}/test/lib";
use MedchainTest;

my $root = $ENV{TESTDIR};
my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmedchain.difficulty = 8");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE ehr10');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('ehr10'),
		'-f', "$root/test/fixtures/v1_0_database.sql" ],
	'the 1.0 database restores with the extension at version 1.0');

sub query { return $node->safe_psql('ehr10', shift); }

is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), '1.0',
	'the extension is at version 1.0');

# The library is 1.1: it will not write an entry the 1.0 journal cannot hold.
my ($ret, $stdout, $stderr) = $node->psql('ehr10',
	q{INSERT INTO public.released_notes VALUES (3, 'not a ledger any more');
	  INSERT INTO public.reenabled VALUES (4, '{"before": "update"}')});
isnt($ret, 0, 'an insert into a ledger table fails before the update');
like($stderr, qr/medchain's objects in this database are older than its library/,
	'and says why');
like($stderr, qr/Run ALTER EXTENSION medchain UPDATE/, 'and what to do');
is(query(q{SELECT count(*) FROM public.reenabled WHERE id = 4}), '0', 'the row was not added');

my %evidence = map { split /\|/, $_, 2 } split /\n/,
	query(q{SELECT name || '|' || doc::text FROM public.kept_evidence});
is(scalar(keys %evidence), 4, 'the kept digest and proofs are there');

$node->safe_psql('ehr10', 'ALTER EXTENSION medchain UPDATE');
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), current_version(),
	'ALTER EXTENSION UPDATE reaches the current version, through 1.1 and 1.2');

is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after the update');
is(query(q{SELECT string_agg(DISTINCT format_version::text, ',') FROM medchain.entries}), '1',
	'the entries of 1.0 stay format version 1');
is(query(q{SELECT string_agg(relation || '=' || rows_recorded, ', ' ORDER BY relation)
			 FROM medchain.ledger_tables}),
	'cdm.measurement=32, cdm.person=5, public.reenabled=3, public.typed=6',
	'rows recorded per current enablement, the one enabled twice included');
is(query(q{SELECT count(*) FROM medchain.ledger_registry r
			 JOIN medchain.entries e ON e.entry_id = r.enablement_id
			WHERE e.kind = 'event' AND e.detail->>'action' = 'enable'}),
	'6', 'each registration names its enable event');

foreach my $name (sort keys %evidence)
{
	my $doc = $evidence{$name};
	$doc =~ s/'/''/g;
	my $function = $name eq 'digest' ? 'verify_digest' : 'verify_proof';
	is(query("SELECT medchain.$function('$doc')"), 't', "the kept $name still verifies");
}

# New rows are recorded in format version 2 and sealed, with the entries
# still pending from 1.0, into a signed block of format 3 on top of the 1.0
# chain, which also announces the node's key and names the chain by its 1.0
# genesis block.
query(q{
	INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
		measurement_date, measurement_type_concept_id, value_as_number, unit_source_value)
	VALUES (900003, 3, 3004410, '2026-12-02', 32817, 5.9, '%');
	INSERT INTO public.reenabled VALUES (4, '{"after": "update", "ß": 1}');
});
is(query(q{SELECT count(*) FILTER (WHERE format_version = 2 AND enablement_id IS NOT NULL)
			 FROM medchain.entries WHERE block_height IS NULL AND format_version = 2}),
	'2', 'new entries are version 2 and name their enablement');
my $height = query('SELECT medchain.seal()');
is($height, '2', 'the next block is height 2');
is(query(qq{SELECT format_version || ',' || min_difficulty || ',' || entry_count
			  FROM medchain.blocks WHERE height = $height}),
	'3,8,5', 'a version 3 block with the chain\'s floor, holding the two 1.0 entries, the two new ones and the key\'s announcement');
is(query(qq{SELECT b.chain_id = g.block_hash AND length(b.signature) = 64
			  FROM medchain.blocks b, medchain.blocks g WHERE b.height = $height AND g.height = 0}),
	't', 'signed, on the chain of the 1.0 genesis block');
is(query(q{SELECT b.prev_hash = p.block_hash FROM medchain.blocks b, medchain.blocks p
			WHERE b.height = 2 AND p.height = 1}), 't', 'linked to the last 1.0 block');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean with both versions');

# Proofs: a 1.0 entry sealed in a 2 block, a new entry, both anchored.
my $digest = query('SELECT medchain.digest()');
like($digest, qr/"format_version": 3/, 'the new digest is version 3');
my $old_digest = $evidence{digest};
$old_digest =~ s/'/''/g;
is(query(qq{SELECT medchain.verify_digest('$old_digest')}), 't', 'the 1.0 digest still holds');
is(query(qq{SELECT medchain.verify_proof(medchain.proof('cdm.measurement', '{"measurement_id": 900002}'), '$digest')}),
	't', 'a version 1 entry sealed after the update has an anchored proof');
is(query(qq{SELECT medchain.verify_proof(medchain.proof('public.reenabled', '{"id": 4}'), '$digest')}),
	't', 'a version 2 entry has an anchored proof');
is(query(qq{SELECT medchain.verify_proof(medchain.proof('cdm.person', '{"person_id": 3}', 1), '$old_digest')}),
	't', 'a 1.0 row, anchored in the 1.0 digest');
is(query(q{SELECT encode(medchain.row_encoding('cdm.person', '{"person_id": 3}'), 'hex') LIKE '5201%'}),
	't', 'a 1.0 row is encoded in its entry\'s version');

# A table enabled at 1.0, released and enabled again at 1.1: the new
# enablement follows the old one.
query(q{SELECT medchain.disable('public.reenabled', 'after the upgrade');
		SELECT medchain.enable('public.reenabled')});
is(query(q{SELECT (detail->>'previous_enablement')::bigint = (SELECT min(enablement_id)
			 FROM medchain.entries WHERE relation = 'public.reenabled' AND format_version = 2)
			  FROM medchain.entries WHERE relation = 'public.reenabled' AND kind = 'event'
			   AND format_version = 2 AND detail->>'action' = 'enable'}),
	't', 'the new enablement names the one before it');
is(query(q{SELECT rows_recorded FROM medchain.ledger_tables WHERE relation = 'public.reenabled'}),
	'4', 'and records the table\'s four rows as its baseline');
query('SELECT medchain.seal()');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after all of it');

$node->stop;
done_testing();
