# The upgrade from 1.1: a database made by medchain 1.1 (the dump in
# test/fixtures/v1_1_database.sql, made on top of the 1.0 one as
# v1_1_database.make.sql describes: format 1 and 2 entries and blocks,
# entries still pending, a table enabled under 1.1, one released and
# enabled again under it, a released table, the 1.0 digest and proofs in
# public.kept_evidence and the 1.1 ones in public.kept_evidence_1_1) is
# restored with the extension at version 1.1 and updated.  Before the
# update the new library records rows through 1.1's row trigger; the
# update gives every ledger table that is not a partition the statement
# trigger of 1.2 and leaves its other triggers alone.  After it verify()
# is clean, the kept digests and proofs still verify, bulk statements are
# recorded one entry per row, and the next block seals the entries pending
# from 1.1 with the new ones on top of the chain.  The DDL guard still
# refuses to drop the new trigger.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{TESTDIR}/test/lib";
use MedchainTest;

my $root = $ENV{TESTDIR};
my $node = PostgreSQL::Test::Cluster->new('upgrade_1_1');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmedchain.difficulty = 8");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE ehr11');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('ehr11'),
		'-f', "$root/test/fixtures/v1_1_database.sql" ],
	'the 1.1 database restores with the extension at version 1.1');

sub query { return $node->safe_psql('ehr11', shift); }

is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), '1.1',
	'the extension is at version 1.1');

# The active ledger tables that are not partitions: all of the fixture's.
my $active = q{
	SELECT r.relation, r.relid, r.enablement_id
	  FROM medchain.ledger_registry r
	  JOIN pg_class c ON c.oid = r.relid
	 WHERE r.released_at IS NULL AND NOT c.relispartition};
my $all_active = 'cdm.measurement, cdm.person, public.lab_results, public.reenabled, public.typed';
is(query("SELECT string_agg(relation, ', ' ORDER BY relation) FROM ($active) a"), $all_active,
	'five active ledger tables, none a partition');

# 1.1 records rows by row: medchain_record calls record_row() FOR EACH ROW.
is(query(qq{SELECT count(*) FROM ($active) a JOIN pg_trigger t ON t.tgrelid = a.relid
			 WHERE t.tgname = 'medchain_record' AND t.tgtype & 1 = 1
			   AND t.tgfoid = 'medchain.record_row'::regproc AND t.tgnewtable IS NULL}),
	'5', 'before the update each ledger table has 1.1\'s row trigger');

# The append-only and truncate triggers, which the update must not touch.
my $other_triggers = q{
	SELECT string_agg(concat_ws(':', t.oid, t.tgrelid::regclass, t.tgname, t.tgtype,
								t.tgfoid::regproc, t.tgenabled), ',' ORDER BY t.tgrelid::regclass::text, t.tgname)
	  FROM pg_trigger t
	 WHERE t.tgname IN ('medchain_append_only', 'medchain_no_truncate')};
my $other_before = query($other_triggers);
is(scalar(() = $other_before =~ /,/g) + 1, 10, 'two other triggers on each of them');

my %evidence_1_0 = map { split /\|/, $_, 2 } split /\n/,
	query(q{SELECT name || '|' || doc::text FROM public.kept_evidence});
is(scalar(keys %evidence_1_0), 4, 'the kept 1.0 digest and proofs are there');
my %evidence_1_1 = map { split /\|/, $_, 2 } split /\n/,
	query(q{SELECT name || '|' || doc::text FROM public.kept_evidence_1_1});
is(scalar(keys %evidence_1_1), 5, 'the kept 1.1 digest and proofs are there');

my $head = query('SELECT max(height) FROM medchain.blocks');
is($head, '3', 'the 1.1 chain is four blocks high');
is(query('SELECT string_agg(entry_id::text, \',\' ORDER BY entry_id) FROM medchain.pending'),
	'130,131', 'two entries are pending from 1.1');

# The library is newer, the objects 1.1: rows are still recorded, by the row
# trigger 1.1 installed.
query(q{INSERT INTO public.lab_results VALUES (23, 2, '2345-7', 99, '2026-12-03 08:00+00')});
is(query(q{SELECT count(*) || ',' || string_agg(concat_ws(':', kind, format_version,
				enablement_id = (SELECT enablement_id FROM medchain.ledger_registry
								  WHERE relation = 'public.lab_results' AND released_at IS NULL),
				block_height IS NULL,
				sha256(medchain.row_encoding('public.lab_results', row_key)) = row_hash), ',')
			 FROM medchain.entries
			WHERE relation = 'public.lab_results' AND row_key = '{"result_id": 23}'}),
	'1,insert:2:t:t:t',
	'before the update an insert is recorded: one pending format 2 entry of the table\'s enablement');

$node->safe_psql('ehr11', 'ALTER EXTENSION medchain UPDATE');
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), current_version(),
	'ALTER EXTENSION UPDATE reaches the current version, through 1.2');

# Each ledger table that is not a partition has exactly one medchain_record:
# AFTER INSERT FOR EACH STATEMENT with a NEW TABLE transition table, calling
# record_rows(), ENABLE ALWAYS.
is(query(qq{SELECT string_agg(a.relation || '=' || (
				SELECT count(*) FROM pg_trigger t
				 WHERE t.tgrelid = a.relid AND t.tgname = 'medchain_record'
				   AND t.tgtype & 1 = 0 AND t.tgfoid = 'medchain.record_rows'::regproc
				   AND t.tgenabled = 'A' AND t.tgnewtable IS NOT NULL), ', ' ORDER BY a.relation)
			  FROM ($active) a}),
	'cdm.measurement=1, cdm.person=1, public.lab_results=1, public.reenabled=1, public.typed=1',
	'each ledger table has one statement trigger medchain_record calling record_rows(), ENABLE ALWAYS, with a NEW TABLE');
is(query(q{SELECT count(*) FROM pg_trigger WHERE tgname = 'medchain_record'}), '5',
	'and no other medchain_record trigger is left');
is(query(q{SELECT count(*) FROM pg_trigger WHERE tgfoid = 'medchain.record_row'::regproc}), '0',
	'no table that is not a partition is recorded by row any more');
is(query(qq{SELECT count(*) FROM ($active) a JOIN pg_trigger t ON t.tgrelid = a.relid
			 WHERE t.tgname = 'medchain_record'
			   AND pg_get_triggerdef(t.oid) = format('CREATE TRIGGER medchain_record AFTER INSERT ON %s'
				   ' REFERENCING NEW TABLE AS medchain_new_rows FOR EACH STATEMENT'
				   ' EXECUTE FUNCTION medchain.record_rows()', a.relation)}),
	'5', 'the trigger is the one enable() installs in 1.2');
is(query($other_triggers), $other_before, 'the append-only and truncate triggers are unchanged');
is(query(q{SELECT string_agg(relation, ', ' ORDER BY relation) FROM (
			 SELECT relation FROM medchain.ledger_registry GROUP BY relation
			 HAVING bool_and(released_at IS NOT NULL)) released}),
	'public.released_notes', 'one table is released');
is(query(q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.released_notes'::regclass
			AND tgname LIKE 'medchain%'}),
	'0', 'the released table has no medchain trigger');
is(query(q{SELECT count(*) FROM pg_trigger t
			WHERE t.tgname LIKE 'medchain\_%'
			  AND NOT EXISTS (SELECT FROM medchain.ledger_registry r
							   WHERE r.relid = t.tgrelid AND r.released_at IS NULL)}),
	'0', 'every medchain trigger is on an active ledger table');

is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after the update');

foreach my $set ([ '1.0', \%evidence_1_0 ], [ '1.1', \%evidence_1_1 ])
{
	my ($version, $evidence) = @$set;
	foreach my $name (sort keys %$evidence)
	{
		my $doc = $evidence->{$name};
		$doc =~ s/'/''/g;
		my $function = $name eq 'digest' ? 'verify_digest' : 'verify_proof';
		is(query("SELECT medchain.$function('$doc')"), 't', "the kept $version $name still verifies");
	}
}

# Bulk statements, recorded by the statement trigger: an INSERT ... SELECT
# of more rows than the journal writes at once, a multi-row VALUES and a
# COPY.
query(q{
	INSERT INTO public.lab_results
	SELECT 1000 + g, g % 5 + 1, '2345-7', 70 + g % 200,
		   '2026-12-03 09:00+00'::timestamptz + g * interval '1 second'
	  FROM generate_series(1, 2500) g;
	INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
		measurement_date, measurement_type_concept_id, value_as_number, unit_source_value)
	VALUES (910001, 1, 3004410, '2026-12-03', 32817, 6.2, '%'),
		   (910002, 2, 3004410, '2026-12-03', 32817, 5.7, '%'),
		   (910003, 4, 3004410, '2026-12-03', 32817, NULL, NULL),
		   (910004, 5, 3004410, '2026-12-03', 32817, 7.1, '%');
});
query(qq{COPY public.reenabled (id, body) FROM stdin;
20\t{"copied": "after the update"}
21\t{"copied": ["ß", 2]}
22\t{}
\\.
});

# For each statement: its rows, then the entries for them, those of kind
# insert, format 2, of the table's enablement, pending and hashing their
# row, and their distinct keys.
sub bulk_entries
{
	my ($relation, $key, $where) = @_;
	return query(qq{
		WITH new_rows AS (
			SELECT jsonb_build_object('$key', $key) AS row_key FROM $relation WHERE $where),
		e AS (
			SELECT e.* FROM medchain.entries e JOIN new_rows n USING (row_key)
			 WHERE e.relation = '$relation')
		SELECT concat_ws(',', (SELECT count(*) FROM new_rows), count(*),
			count(*) FILTER (WHERE kind = 'insert' AND format_version = 2
				AND enablement_id = (SELECT enablement_id FROM medchain.ledger_registry
									  WHERE relation = '$relation' AND released_at IS NULL)
				AND block_height IS NULL
				AND sha256(medchain.row_encoding('$relation', row_key)) = row_hash),
			count(DISTINCT row_key))
		  FROM e});
}
is(bulk_entries('public.lab_results', 'result_id', 'result_id BETWEEN 1001 AND 3500'),
	'2500,2500,2500,2500',
	'INSERT ... SELECT of 2,500 rows: one insert entry per row, format 2, of the enablement, hashing its row');
is(bulk_entries('cdm.measurement', 'measurement_id', 'measurement_id BETWEEN 910001 AND 910004'),
	'4,4,4,4', 'multi-row VALUES: one insert entry per row, format 2, of the enablement, hashing its row');
is(bulk_entries('public.reenabled', 'id', 'id BETWEEN 20 AND 22'),
	'3,3,3,3', 'COPY: one insert entry per row, format 2, of the enablement, hashing its row');
foreach my $line (split /\n/, query(q{SELECT relation || '|' || rows_recorded FROM medchain.ledger_tables ORDER BY 1}))
{
	my ($relation, $recorded) = split /\|/, $line;
	is($recorded, query("SELECT count(*) FROM $relation"), "$relation has every row recorded");
}

# The next block seals the entries pending from 1.1, the one recorded
# before the update and the new ones, on top of the 1.1 chain.
# 1.1's and the one inserted before the update wait in the queue, the new
# ones in batches.
is(query('SELECT count(*) FROM medchain.pending'), 3, 'the entries of 1.1 wait in the queue');
my $pending = query('SELECT count(*) FROM medchain.entries WHERE block_height IS NULL');
is($pending, 2 + 1 + 2500 + 4 + 3, 'all of them are pending');
is(query('SELECT pending_entries FROM medchain.chain_status'), $pending,
	'chain_status counts them all');
my $height = query('SELECT medchain.seal()');
is($height, $head + 1, 'seal() makes the next block');
is(query(qq{SELECT format_version || ',' || min_difficulty || ',' || entry_count
			  FROM medchain.blocks WHERE height = $height}),
	'3,8,' . ($pending + 1),
	'a signed version 3 block with the chain\'s floor, holding every pending entry and the key\'s announcement');
is(query(qq{SELECT b.prev_hash = p.block_hash FROM medchain.blocks b, medchain.blocks p
			WHERE b.height = $height AND p.height = $head}), 't', 'linked to the last 1.1 block');
is(query(qq{SELECT string_agg(block_height::text, ',' ORDER BY entry_id) FROM medchain.entries
			 WHERE entry_id IN (130, 131)}), "$height,$height", 'the entries pending from 1.1 are in it');
is(query(q{SELECT count(*) FROM medchain.pending}) . ','
	. query(q{SELECT count(*) FROM medchain.entries WHERE block_height IS NULL}),
	'0,0', 'no entry is left pending');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after the seal');

# Proofs of a new bulk row, of the row inserted before the update and of a
# row pending from 1.1, anchored in a fresh digest; the kept 1.1 digest
# and anchored proof still hold on the longer chain.
my $digest = query('SELECT medchain.digest()');
like($digest, qr/"height": $height\b/, 'the new digest names the new block');
is(query(qq{SELECT medchain.verify_proof(medchain.proof('public.lab_results', '{"result_id": 2345}'), '$digest')}),
	't', 'a bulk row has a proof anchored in the new digest');
is(query(qq{SELECT medchain.verify_proof(medchain.proof('cdm.measurement', '{"measurement_id": 910003}'), '$digest')}),
	't', 'a row of the multi-row VALUES too');
is(query(qq{SELECT medchain.verify_proof(medchain.proof('public.lab_results', '{"result_id": 23}'), '$digest')}),
	't', 'and the row inserted before the update');
is(query(qq{SELECT medchain.verify_proof(medchain.proof('cdm.measurement', '{"measurement_id": 900013}'), '$digest')}),
	't', 'and a row pending from 1.1');
my $old_digest = $evidence_1_1{digest};
$old_digest =~ s/'/''/g;
is(query(qq{SELECT medchain.verify_digest('$old_digest')}), 't', 'the 1.1 digest still holds');
my $old_proof = $evidence_1_1{'proof lab_results 5 anchored'};
$old_proof =~ s/'/''/g;
is(query(qq{SELECT medchain.verify_proof('$old_proof', '$old_digest')}), 't',
	'and the 1.1 proof anchored in it');

# Only the update script may replace a ledger table's triggers.
my ($ret, $stdout, $stderr) = $node->psql('ehr11',
	q{DROP TRIGGER medchain_record ON public.lab_results});
isnt($ret, 0, 'dropping the new trigger is refused after the update');
like($stderr, qr/cannot drop trigger "medchain_record" of ledger table public\.lab_results/,
	'by the DDL guard');
is(query(q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.lab_results'::regclass
			AND tgname = 'medchain_record' AND tgfoid = 'medchain.record_rows'::regproc}),
	'1', 'the trigger is still there');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after all of it');

$node->stop;
done_testing();
