# The upgrade from 1.4: a database made by medchain 1.4 (the dump in
# test/fixtures/v1_4_database.sql, made on top of the 1.3 one as
# v1_4_database.make.sql describes: a registered peer, blocks sealed by
# 1.4, entries pending, a 1.4 digest and proof kept in
# public.kept_evidence_1_4) is restored with the extension at version 1.4
# and updated.  Before the update the newer library records rows and
# verifies as 1.4 did.  After it the extension is the one a new
# installation makes, object for object; every row entry of the journal
# has its key_hash; the blocks are unchanged; the kept digest and proof
# still verify; provenance() answers for the rows of every version, the
# pending ones included; the next block is sealed on top.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{TESTDIR}/test/lib";
use MedchainTest;

my $root = $ENV{TESTDIR};
my $node = PostgreSQL::Test::Cluster->new('upgrade_1_4');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmedchain.difficulty = 8");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE ehr14');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('ehr14'),
		'-f', "$root/test/fixtures/v1_4_database.sql" ],
	'the 1.4 database restores with the extension at version 1.4');

sub query { my ($sql, $db) = @_; return $node->safe_psql($db // 'ehr14', $sql); }

is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), '1.4',
	'the extension is at version 1.4');
my $blocks_query = q{SELECT string_agg(b::text, E'\n' ORDER BY height) FROM medchain.blocks b};
my $blocks_before = query($blocks_query);
my $head = query('SELECT max(height) FROM medchain.blocks');
is(query('SELECT pending_entries FROM medchain.chain_status'), '1', 'one entry pending from 1.4');
is(query('SELECT count(*) FROM medchain.peers'), '1', 'and a registered peer');

# The library is newer, the objects 1.4: rows are recorded and the chain
# verifies as before.
query(q{INSERT INTO public.lab_results VALUES (900, 2, '2345-7', 93, '2026-12-07 08:00+00')});
is(query('SELECT pending_entries FROM medchain.chain_status'), '2', 'before the update, a row is recorded');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'and the 1.4 database verifies clean');
is(query('SELECT medchain.seal()'), $head + 1, 'a block is sealed before the update');

# ---------- the update ----------

$node->safe_psql('ehr14', 'ALTER EXTENSION medchain UPDATE');
my $current = current_version();
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), $current,
	"ALTER EXTENSION UPDATE reaches $current");
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION medchain');
same_catalog('new_installation', catalog_of($node, 'fresh'), 'upgraded', catalog_of($node, 'ehr14'),
	'the upgraded extension is the one a new installation makes, in every section');

like(query($blocks_query), qr/^\Q$blocks_before\E\n/, 'the blocks of 1.4 are unchanged');
is(query(q{SELECT count(*) FILTER (WHERE key_hash IS DISTINCT FROM medchain.key_hash(relation, row_key))
				  || '/' || count(*)
			 FROM medchain.journal WHERE row_key IS NOT NULL}),
	'0/' . query('SELECT count(*) FROM medchain.journal WHERE row_key IS NOT NULL'),
	'every row entry of the journal, from 1.0 on, has its key_hash');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after the update');
my $digest = q{(SELECT doc FROM public.kept_evidence_1_4 WHERE name = 'digest')};
is(query("SELECT medchain.verify_digest($digest)"), 't', 'the kept 1.4 digest holds');
is(query(q{SELECT medchain.verify_proof(doc) FROM public.kept_evidence_1_4 WHERE name = 'proof lab_results 800'}),
	't', 'and so does the kept proof');

# provenance() over rows recorded by 1.0 to 1.4, sealed and pending
query(q{INSERT INTO public.vital_signs VALUES (6001, 3, 'pulse', 66, '2026-12-07 09:00+00')});
is(query(q{SELECT count(*) || ':' || count(*) FILTER (WHERE p.intact AND p.entry_id IS NOT NULL)
				  || ':' || count(*) FILTER (WHERE p.block_height IS NULL)
			 FROM public.vital_signs v, medchain.provenance(v) p}),
	query('SELECT count(*) FROM public.vital_signs') . ':'
	  . query('SELECT count(*) FROM public.vital_signs') . ':1',
	'provenance() answers for every row of every version, intact, the one recorded since the update pending');
is(query(q{SELECT p.kind || ':' || (p.block_height IS NOT NULL)
			 FROM public.lab_results l, medchain.provenance(l) p WHERE l.result_id = 800}),
	'insert:true', 'a row recorded and sealed by 1.4');

# A table enabled by 1.4 stays append-only; a table enabled now may be
# versioned, and its amendments are version 3 entries beside 1.4's.
is(query(q{SELECT mode FROM medchain.ledger_tables WHERE relation = 'public.lab_results'}),
	'append-only', 'a table enabled by 1.4 is append-only');
my ($rc, $out, $err) = $node->psql('ehr14',
	q{UPDATE public.lab_results SET result_id = result_id WHERE result_id = 800});
like($err, qr/cannot update rows of ledger table/, 'and still refuses updates');
query(q{CREATE TABLE public.clinical_notes (note_id int PRIMARY KEY, body text);
		INSERT INTO public.clinical_notes VALUES (1, 'recorded after the update');
		SELECT medchain.enable('public.clinical_notes', mode => 'versioned');
		BEGIN; SET LOCAL medchain.reason = 'amended after the update';
		UPDATE public.clinical_notes SET body = 'amended' WHERE note_id = 1; COMMIT;});
is(query(q{SELECT string_agg(kind || ':' || intact || ':' || coalesce(reason, '-'), ',')
			 FROM medchain.history('public.clinical_notes', '{"note_id": 1}')}),
	'baseline:true:-,update:true:amended after the update',
	'an amendment in the updated database, with its history');

is(query('SELECT medchain.seal()'), $head + 2, 'the next block is sealed on top');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'and the chain verifies clean');

done_testing();
