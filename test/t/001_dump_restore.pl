# pg_dump of a database with ledger tables, restored into a fresh cluster
# with other session defaults, gives back the ledger tables, their entries
# byte for byte, rows that still hash to their entries, and working guards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$ENV{TESTDIR}";

my $source = PostgreSQL::Test::Cluster->new('source');
$source->init;
$source->append_conf('postgresql.conf', "timezone = 'UTC'\ndatestyle = 'ISO, MDY'");
$source->start;
$source->safe_psql('postgres', 'CREATE DATABASE ehr');
$source->safe_psql('ehr', 'CREATE EXTENSION medchain');
$source->run_log([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'patients=30',
	'-d', $source->connstr('ehr'), '-f', "$root/scripts/sample_ehr.sql" ]);
$source->run_log([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
	'-d', $source->connstr('ehr'), '-f', "$root/test/fixtures/all_types.sql" ]);
$source->safe_psql('ehr', q{
	SELECT medchain.enable(t::regclass)
	  FROM unnest(ARRAY['cdm.person', 'cdm.visit_occurrence', 'cdm.condition_occurrence',
						'cdm.drug_exposure', 'cdm.measurement']) AS t;
	INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
		measurement_date, measurement_type_concept_id, value_as_number)
	VALUES (100001, 3, 3004410, '2026-05-01', 32817, 6.4);
	CREATE TABLE public.released (id int PRIMARY KEY, note text);
	SELECT medchain.enable('public.released');
	INSERT INTO public.released VALUES (1, 'before release');
	SELECT medchain.disable('public.released', 'test of a released table');
	CREATE TABLE public.vitals (vital_id int, taken date, pulse int, PRIMARY KEY (vital_id, taken))
		PARTITION BY RANGE (taken);
	CREATE TABLE public.vitals_2025 (pulse int, taken date NOT NULL, vital_id int NOT NULL);
	ALTER TABLE public.vitals ATTACH PARTITION public.vitals_2025
		FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
	CREATE TABLE public.vitals_2026 PARTITION OF public.vitals
		FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
	INSERT INTO public.vitals VALUES (1, '2025-03-01', 70), (2, '2026-03-01', 72);
	SELECT medchain.enable('public.vitals');
	INSERT INTO public.vitals VALUES (3, '2026-04-01', 74);
});

# Everything an outside verifier would compare, as one text.
my $journal_query = q{
	SELECT string_agg(concat_ws('|', entry_id, relation, row_key, encode(row_hash, 'hex'),
								encode(entry_hash, 'hex'), kind, recorded_by,
								extract(epoch FROM recorded_at), xact, detail, block_height),
					  E'\n' ORDER BY entry_id)
	  FROM medchain.entries};
my $registry_query = q{
	SELECT string_agg(concat_ws('|', relation, key_columns, extract(epoch FROM enabled_at), enabled_by,
								extract(epoch FROM released_at), released_by, release_reason), E'\n'
					  ORDER BY registration_id)
	  FROM medchain.ledger_registry};
my $rehash_query = q{
	SELECT count(*) FILTER (WHERE sha256(medchain.row_encoding(e.relation::regclass, e.row_key)) = e.row_hash),
		   count(*)
	  FROM medchain.entries e JOIN medchain.ledger_tables l ON l.relation = e.relation
	 WHERE e.kind IN ('baseline', 'insert')};

my $journal = $source->safe_psql('ehr', $journal_query);
my $registry = $source->safe_psql('ehr', $registry_query);
my ($matching, $total) = split /\|/, $source->safe_psql('ehr', $rehash_query);
cmp_ok($total, '>', 400, 'source has recorded rows');
is($matching, $total, 'source rows hash to their entries');

my $dump = $source->basedir . '/ehr.dump';
$source->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $source->connstr('ehr') ],
	'pg_dump of the database');

# The target cluster has other defaults for every setting that formats values.
my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->append_conf('postgresql.conf', q{
timezone = 'Pacific/Chatham'
datestyle = 'SQL, DMY'
intervalstyle = 'iso_8601'
extra_float_digits = -10
bytea_output = 'escape'
});
$target->start;
$target->safe_psql('postgres', 'CREATE DATABASE ehr');
$target->command_ok([ 'pg_restore', '--exit-on-error', '-d', $target->connstr('ehr'), $dump ],
	'pg_restore into a fresh cluster');

is($target->safe_psql('ehr', $journal_query), $journal, 'entries restored byte for byte');
is($target->safe_psql('ehr', $registry_query), $registry, 'registry restored');
is($target->safe_psql('ehr', $rehash_query), "$total|$total",
	'every restored row still hashes to its entry under other session settings');
is($target->safe_psql('ehr', q{SELECT string_agg(relation || '=' || rows_recorded, ',' ORDER BY relation) FROM medchain.ledger_tables}),
	$source->safe_psql('ehr', q{SELECT string_agg(relation || '=' || rows_recorded, ',' ORDER BY relation) FROM medchain.ledger_tables}),
	'ledger_tables restored');
is($target->safe_psql('ehr', q{
	SELECT string_agg(concat_ws(':', tgrelid::regclass, tgname, tgenabled), ',' ORDER BY 1)
	  FROM pg_trigger WHERE tgname LIKE 'medchain%' AND tgrelid = 'cdm.person'::regclass}),
	'cdm.person:medchain_append_only:A,cdm.person:medchain_no_truncate:A,cdm.person:medchain_record:A',
	'triggers restored, ENABLE ALWAYS');

# The restored ledger goes on working.
my $max_entry = $target->safe_psql('ehr', 'SELECT max(entry_id) FROM medchain.entries');
$target->safe_psql('ehr', q{
	INSERT INTO cdm.measurement (measurement_id, person_id, measurement_concept_id,
		measurement_date, measurement_type_concept_id, value_as_number)
	VALUES (100002, 3, 3004410, '2026-06-01', 32817, 6.1)});
is($target->safe_psql('ehr', q{SELECT entry_id > } . $max_entry . q{ AND sha256(medchain.row_encoding('cdm.measurement', row_key)) = row_hash
	FROM medchain.entries WHERE row_key = '{"measurement_id": 100002}'}),
	't', 'new insert recorded after the restored entries');
my ($ret, $stdout, $stderr) = $target->psql('ehr',
	q{UPDATE cdm.person SET year_of_birth = 1900 WHERE person_id = 1});
like($stderr, qr/cannot update rows of ledger table/, 'restored table is append-only');
($ret, $stdout, $stderr) = $target->psql('ehr', q{ALTER TABLE cdm.person DROP COLUMN gender_source_value});
like($stderr, qr/cannot drop column/, 'restored DDL guard refuses a column drop');
is($target->safe_psql('ehr', q{SELECT count(*) FROM medchain.ledger_tables WHERE relation = 'public.released'}),
	'0', 'released table stays released');

# A partitioned ledger table: its partitions' triggers, cloned from it and
# their own, come back; it verifies, records and refuses as before.
is($target->safe_psql('ehr', q{
	SELECT string_agg(concat_ws(':', tgrelid::regclass, tgname, tgenabled), ',' ORDER BY tgname)
	  FROM pg_trigger WHERE tgname LIKE 'medchain%' AND tgrelid = 'public.vitals_2025'::regclass}),
	'vitals_2025:medchain_append_only:A,vitals_2025:medchain_no_truncate:A,vitals_2025:medchain_record:A',
	'a partition\'s triggers restored, ENABLE ALWAYS');
is($target->safe_psql('ehr', q{SELECT count(*) FROM medchain.verify('public.vitals')}), '0',
	'restored partitioned ledger table verifies');
$target->safe_psql('ehr', q{INSERT INTO public.vitals_2025 VALUES (76, '2025-09-01', 4)});
is($target->safe_psql('ehr', q{SELECT count(*) FROM medchain.entries
	WHERE relation = 'public.vitals' AND row_key = '{"vital_id": 4, "taken": "2025-09-01"}'}),
	'1', 'insert into a restored partition recorded under its partitioned table');
($ret, $stdout, $stderr) = $target->psql('ehr', q{TRUNCATE public.vitals_2026});
like($stderr, qr/cannot truncate partition "vitals_2026" of ledger table public.vitals/,
	'restored partition refuses TRUNCATE');

$source->stop;
$target->stop;
done_testing();
