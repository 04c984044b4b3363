# The upgrade from 1.3: a database made by medchain 1.3 (the dump in
# test/fixtures/v1_3_database.sql, made on top of the 1.2 one as
# v1_3_database.make.sql describes: unsigned blocks of formats 1 and 2
# below signed blocks of format 3, entries pending, a 1.3 digest and
# proofs kept in public.kept_evidence_1_3) is restored with the extension
# at version 1.3 and updated.  Before the update the newer library records
# rows and verifies as 1.3 did.  After it the extension is the one a new
# installation makes, object for object; the blocks are unchanged; the
# kept digest and proofs still verify; the next block is sealed on top.
# Then the whole chain, the unsigned blocks of the years before signing
# included, goes to a second node as replication payloads: alone, the
# unsigned blocks are not kept (nothing vouches for them); with the
# signed blocks above them, every block is kept, hash for hash.  The
# block signed by this cluster's own key, not the fixture's, is refused:
# a chain is held from the key that signs it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{TESTDIR}/test/lib";
use MedchainTest;

my $root = $ENV{TESTDIR};
my $node = PostgreSQL::Test::Cluster->new('upgrade_1_3');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmedchain.difficulty = 8");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE ehr13');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('ehr13'),
		'-f', "$root/test/fixtures/v1_3_database.sql" ],
	'the 1.3 database restores with the extension at version 1.3');

sub query { my ($sql, $db) = @_; return $node->safe_psql($db // 'ehr13', $sql); }

is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), '1.3',
	'the extension is at version 1.3');
my $blocks_query = q{SELECT string_agg(b::text, E'\n' ORDER BY height) FROM medchain.blocks b};
my $blocks_before = query($blocks_query);
my $head = query('SELECT max(height) FROM medchain.blocks');
my $first_signed = query('SELECT min(height) FROM medchain.blocks WHERE format_version = 3');
is(query(qq{SELECT string_agg(DISTINCT format_version::text, ',') FROM medchain.blocks WHERE height < $first_signed}),
	'1,2', "blocks of formats 1 and 2 below the first signed block, $first_signed");
cmp_ok($head, '>', $first_signed, 'and signed blocks above it');
is(query('SELECT pending_entries FROM medchain.chain_status'), '2', 'two entries pending from 1.3');

# The library is newer, the objects 1.3: rows are recorded and the chain
# verifies as before.
query(q{INSERT INTO public.lab_results VALUES (700, 2, '2345-7', 93, '2026-12-06 08:00+00')});
is(query('SELECT pending_entries FROM medchain.chain_status'), '3', 'before the update, a row is recorded');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'and the 1.3 database verifies clean');

# ---------- the update ----------

$node->safe_psql('ehr13', 'ALTER EXTENSION medchain UPDATE');
my $current = current_version();
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), $current,
	"ALTER EXTENSION UPDATE reaches $current");
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION medchain');
same_catalog('new_installation', catalog_of($node, 'fresh'), 'upgraded', catalog_of($node, 'ehr13'),
	'the upgraded extension is the one a new installation makes, in every section');

is(query($blocks_query), $blocks_before, 'the blocks are unchanged');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after the update');
my $digest = q{(SELECT doc FROM public.kept_evidence_1_3 WHERE name = 'digest')};
is(query("SELECT medchain.verify_digest($digest)"), 't', 'the kept 1.3 digest holds');
is(query(q{SELECT string_agg(name || ':' || medchain.verify_proof(doc), ',' ORDER BY name)
			 FROM public.kept_evidence_1_3 WHERE name LIKE 'proof%'}),
	'proof lab_results 600:true,proof vital_signs 2010 anchored:true', 'and so do the kept proofs');
# The fixture's signed blocks carry the key of the cluster that made it;
# this cluster has a key of its own, which the next block announces.
my $fixture_key = query(qq{SELECT string_agg(DISTINCT encode(signer_key, 'hex'), ',')
							 FROM medchain.blocks WHERE height >= $first_signed});
my $public_key = query(q{SELECT medchain.node_identity()->>'public_key'});
like($fixture_key, qr/^[0-9a-f]{64}$/, 'one key signed the blocks of 1.3');
isnt($fixture_key, $public_key, 'not the key of this cluster');
is(query('SELECT medchain.seal()'), $head + 1, 'the next block is sealed on top');
is(query(qq{SELECT format_version || ':' || entry_count || ':' || encode(signer_key, 'hex')
			  FROM medchain.blocks WHERE height = $head + 1}), "3:4:$public_key",
	'a block signed by this cluster\'s key, holding the three pending entries and its announcement');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'and the chain verifies clean');

# ---------- the whole chain to a peer ----------

my $peer = PostgreSQL::Test::Cluster->new('peer_of_1_3');
$peer->init;
$peer->start;
$peer->safe_psql('postgres', 'CREATE EXTENSION medchain; CREATE ROLE upgraded_login LOGIN IN ROLE medchain_peer');
my $chain_id = query(q{SELECT medchain.node_identity()->>'chain_id'});
my $conninfo = $node->connstr('ehr13');
$conninfo =~ s/'//g;
# The node as it was, and as it is now: a key each.
$peer->safe_psql('postgres', "SELECT medchain.add_peer('upgraded, key of 1.3', '$conninfo', '$fixture_key')");
$peer->safe_psql('postgres', "SELECT medchain.add_peer('upgraded', '$conninfo', '$public_key')");

my @payloads = split /\n/, query(q{SELECT encode(p, 'hex') FROM medchain.block_payloads(0, 1000) p});
is(scalar(@payloads), $head + 2, 'a payload for each block');
sub deliver
{
	my $array = 'ARRAY[' . join(', ', map { "'\\x$_'::bytea" } @_) . ']';
	return $peer->safe_psql('postgres',
		"SELECT string_agg(status, ',' ORDER BY height) FROM medchain.receive_blocks('\\x$chain_id', $array)",
		extra_params => [ '-U', 'upgraded_login' ]);
}
is(deliver(@payloads[0 .. $first_signed - 1]), join(',', ('unvouched') x $first_signed),
	'the unsigned blocks alone are not kept: no signed block vouches for them');
is($peer->safe_psql('postgres', 'SELECT count(*) FROM medchain.peer_blocks'), '0', 'nothing is kept');
is(deliver(@payloads[0 .. $head]), join(',', ('stored') x ($head + 1)),
	'with the signed blocks of 1.3 above them, every block is kept');
is($peer->safe_psql('postgres', q{SELECT string_agg(encode(block_hash, 'hex'), ',' ORDER BY height)
		FROM medchain.peer_blocks}),
	query(qq{SELECT string_agg(encode(block_hash, 'hex'), ',' ORDER BY height) FROM medchain.blocks
			  WHERE height <= $head}),
	'the peer holds the chain hash for hash');
# A chain is its signer's: the block signed by this cluster's new key is
# refused, although the key is registered, until peers are told of the
# replacement (the procedure comes with the network's next part).
is(deliver($payloads[$head + 1]), 'rejected', 'a block of the chain signed by another key is refused');
like($peer->safe_psql('postgres', qq{SELECT reason FROM medchain.rejected_blocks WHERE height = $head + 1}),
	qr/^its signer key $public_key is not the key $fixture_key that signs the blocks of this chain held so far$/,
	'saying which key signs the chain');
is($peer->safe_psql('postgres', qq{SELECT count(*) FROM medchain.peer_blocks
		WHERE signer_key IS NULL AND vouched_by = sha256('\\x$fixture_key')}), $first_signed,
	'each unsigned block is vouched for by the key of the highest signed block of the delivery');

# The copy of the upgraded chain, unsigned blocks included, is what the
# peer's heads and receipts speak of.
is($peer->safe_psql('postgres', q{SELECT height FROM medchain.held_heads()}), $head,
	"the peer's held_heads() gives the copy's head");
is($peer->safe_psql('postgres', qq{SELECT count(*) || ',' || count(DISTINCT cosigner_key)
		FROM medchain.block_receipts('\\x$chain_id', ARRAY(SELECT generate_series(0, $head + 1)))}),
	($head + 1) . ',1', 'and it signs a receipt, with its own key, for each block it holds, and none for one it does not');

$node->stop;
$peer->stop;
done_testing();
