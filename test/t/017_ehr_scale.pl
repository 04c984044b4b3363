# A realistic EHR at scale: the sample EHR of scripts/sample_ehr.sql with
# 10,000 patients and 35 measurements per visit (1,050,000 measurement
# rows), the same data bench/provenance_bench.sh measures provenance() on.
# Every clinical table of the sample becomes a ledger table; seal() makes
# blocks of at most medchain.block_max_entries and verify() is clean.  Then
# a superuser goes around the guards and tampers with exactly one row of
# each table (values altered, a row deleted, a row slipped in), and
# verify() names exactly those rows and nothing else.  One query returns
# provenance for one patient's whole record, every table of it, and shows
# which of that patient's rows no longer hash to their entries.
#
# MEDCHAIN_EHR_PATIENTS sets the number of patients (default 10000, at
# least 2), for a quicker run by hand; scripts/test.sh runs the default in
# both of its passes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $patients = $ENV{MEDCHAIN_EHR_PATIENTS} // 10000;
die "MEDCHAIN_EHR_PATIENTS must be a number of at least 2, not $patients"
  unless $patients =~ /^\d+$/ && $patients >= 2;
my $visits_per_patient = 3;			# the generator's default
my $measurements_per_visit = 35;

my $node = PostgreSQL::Test::Cluster->new('ehr_scale');
$node->init;
$node->start;

sub query { return $node->safe_psql('ehr', $_[0]); }

# Runs $code and diags how long it took.
sub timed
{
	my ($what, $code) = @_;
	my $t0 = time;
	my $result = $code->();
	diag(sprintf('%-46s %7.1f s', $what, time - $t0));
	return $result;
}

my $t_start = time;
$node->safe_psql('postgres', 'CREATE DATABASE ehr');
query('CREATE EXTENSION medchain');
timed("loading $patients patients", sub {
	$node->run_log([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-v', "patients=$patients", '-v', "measurements_per_visit=$measurements_per_visit",
		'-d', $node->connstr('ehr'), '-f', "$ENV{TESTDIR}/scripts/sample_ehr.sql" ])
	  or die 'the sample EHR did not load';
});
timed('VACUUM ANALYZE', sub { query('VACUUM ANALYZE') });

# The clinical tables are the sample's whole cdm schema; each has a
# primary key, which enable() records rows by.
my @tables = qw(cdm.condition_occurrence cdm.drug_exposure cdm.measurement cdm.person
  cdm.visit_occurrence);
is(query(q{
	SELECT string_agg(c.oid::regclass::text, ' ' ORDER BY c.oid::regclass::text)
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'cdm' AND c.relkind = 'r'}),
	"@tables", 'the sample EHR has these clinical tables');
is(query(q{
	SELECT count(*) FROM pg_catalog.pg_constraint
	 WHERE contype = 'p' AND connamespace = 'cdm'::regnamespace}),
	scalar(@tables), 'each of them has a primary key');

my %rows = map { $_ => query("SELECT count(*) FROM $_") } @tables;
diag(sprintf('%-26s %9d rows', $_, $rows{$_})) foreach @tables;
my $visits = $patients * $visits_per_patient;
is($rows{'cdm.measurement'}, $visits * $measurements_per_visit,
	"$rows{'cdm.measurement'} measurement rows, $measurements_per_visit per visit");
my $total_rows = 0;
$total_rows += $_ foreach values %rows;

my $array = "'{" . join(',', @tables) . "}'::regclass[]";
is(timed('enabling every clinical table', sub {
	query("SELECT sum(medchain.enable(t)) FROM unnest($array) t") }),
	$total_rows, 'enable() records a baseline entry for every row of every table');
timed('sealing', sub { query('SELECT medchain.seal()') });
is(query('SELECT pending_entries FROM medchain.chain_status'), '0', 'seal() sealed every entry');
my $max_entries = query(q{LOAD 'medchain'; SHOW medchain.block_max_entries});
my ($entries, $blocks, $full) = split /\|/, query(qq{
	SELECT sum(entry_count), count(*), count(*) FILTER (WHERE entry_count = $max_entries)
	  FROM medchain.blocks});
diag("$entries entries in $blocks blocks");
is($full, $blocks - 1, "in blocks of $max_entries entries but the last");
is(timed('verify(), clean', sub { query('SELECT count(*) FROM medchain.verify()') }),
	'0', 'verify() finds nothing');

# The patient whose record is read, and another one.  Their rows are found
# by the generator's numbering: visits, conditions and drug exposures of
# patient p are numbered (p - 1) * 3 + 1 up, measurements (visit - 1) * 35
# + 1 up.
my $patient = int($patients / 2);
my $other = $patient + 1;
my $first_visit = ($patient - 1) * $visits_per_patient + 1;
my $slipped_visit = $visits + 1;
my $deleted_drug = $first_visit + 1;
my $altered_condition = ($other - 1) * $visits_per_patient + 1;
my $altered_hba1c = ($first_visit - 1) * $measurements_per_visit + 1;

# One row of each table, as a superuser with medchain's guards disabled,
# committed; the guards are back on afterwards.
my $guards_query = q{
	SELECT string_agg(tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text, ', '
					  ORDER BY tgrelid::regclass::text, tgname)
		   || ', ' || (SELECT evtenabled::text FROM pg_catalog.pg_event_trigger WHERE evtname = 'medchain_guard_ddl')
	  FROM pg_catalog.pg_trigger WHERE tgname LIKE 'medchain%'};
my $guards = query($guards_query);
timed('tampering', sub { query(qq{
	BEGIN;
	ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;

	ALTER TABLE cdm.person DISABLE TRIGGER medchain_append_only;
	UPDATE cdm.person SET year_of_birth = year_of_birth + 10 WHERE person_id = $patient;
	ALTER TABLE cdm.person ENABLE ALWAYS TRIGGER medchain_append_only;

	ALTER TABLE cdm.visit_occurrence DISABLE TRIGGER medchain_record;
	INSERT INTO cdm.visit_occurrence (visit_occurrence_id, person_id, visit_concept_id,
		visit_start_date, visit_end_date, visit_type_concept_id)
	VALUES ($slipped_visit, $patient, 9203, '2025-12-24', '2025-12-24', 32817);
	ALTER TABLE cdm.visit_occurrence ENABLE ALWAYS TRIGGER medchain_record;

	ALTER TABLE cdm.condition_occurrence DISABLE TRIGGER medchain_append_only;
	UPDATE cdm.condition_occurrence SET condition_source_value = 'Z00.00'
	 WHERE condition_occurrence_id = $altered_condition;
	ALTER TABLE cdm.condition_occurrence ENABLE ALWAYS TRIGGER medchain_append_only;

	ALTER TABLE cdm.drug_exposure DISABLE TRIGGER medchain_append_only;
	DELETE FROM cdm.drug_exposure WHERE drug_exposure_id = $deleted_drug;
	ALTER TABLE cdm.drug_exposure ENABLE ALWAYS TRIGGER medchain_append_only;

	ALTER TABLE cdm.measurement DISABLE TRIGGER medchain_append_only;
	UPDATE cdm.measurement SET value_as_number = value_as_number - 2
	 WHERE measurement_id = $altered_hba1c AND measurement_concept_id = 3004410;
	ALTER TABLE cdm.measurement ENABLE ALWAYS TRIGGER medchain_append_only;

	ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
	COMMIT;
}) });
is(query($guards_query), $guards, 'the guards are enabled again, as enable() left them');

my $findings = timed('verify(), after the tampering', sub { query(q{
	SELECT string_agg(concat_ws(' ', finding, relation, row_key), E'\n'
					  ORDER BY relation, finding, row_key::text)
	  FROM medchain.verify()}) });
is($findings, join("\n",
	qq(row_modified cdm.condition_occurrence {"condition_occurrence_id": $altered_condition}),
	qq(row_missing cdm.drug_exposure {"drug_exposure_id": $deleted_drug}),
	qq(row_modified cdm.measurement {"measurement_id": $altered_hba1c}),
	qq(row_modified cdm.person {"person_id": $patient}),
	qq(row_unrecorded cdm.visit_occurrence {"visit_occurrence_id": $slipped_visit})),
	'verify() names exactly the five tampered rows, one per table');

# The patient's whole record with its provenance, in one query.
my $where = "WHERE t.person_id = $patient";
my $record = timed("provenance of patient $patient\'s whole record", sub { query(qq{
	SELECT 'person', t.person_id, p.kind, p.block_height IS NOT NULL, p.intact
	  FROM cdm.person t, medchain.provenance(t) p $where
	UNION ALL
	SELECT 'visit', t.visit_occurrence_id, p.kind, p.block_height IS NOT NULL, p.intact
	  FROM cdm.visit_occurrence t, medchain.provenance(t) p $where
	UNION ALL
	SELECT 'condition', t.condition_occurrence_id, p.kind, p.block_height IS NOT NULL, p.intact
	  FROM cdm.condition_occurrence t, medchain.provenance(t) p $where
	UNION ALL
	SELECT 'drug', t.drug_exposure_id, p.kind, p.block_height IS NOT NULL, p.intact
	  FROM cdm.drug_exposure t, medchain.provenance(t) p $where
	UNION ALL
	SELECT 'measurement', t.measurement_id, p.kind, p.block_height IS NOT NULL, p.intact
	  FROM cdm.measurement t, medchain.provenance(t) p $where}) });

# By table: rows, rows recorded as baseline, sealed, intact; and the rows
# that are not intact.
my (%summary, @not_intact);
foreach my $line (split /\n/, $record)
{
	my ($table, $id, $kind, $sealed, $intact) = split /\|/, $line;
	my $s = $summary{$table} //= [ 0, 0, 0, 0 ];
	$s->[0]++;
	$s->[1]++ if $kind eq 'baseline';
	$s->[2]++ if $sealed eq 't';
	$s->[3]++ if $intact eq 't';
	push @not_intact, "$table $id" . ($kind eq '' ? ' (no entry)' : '') if $intact ne 't';
}
my $measurements = $measurements_per_visit * $visits_per_patient;
is(join("\n", map { "$_ @{ $summary{$_} }" } sort keys %summary), join("\n",
	'condition 3 3 3 3',
	'drug 2 2 2 2',
	"measurement $measurements $measurements $measurements " . ($measurements - 1),
	'person 1 1 1 0',
	'visit 4 3 3 3'),
	"patient $patient\'s record: rows, recorded, sealed and intact by table");
is(join("\n", sort @not_intact), join("\n",
	"measurement $altered_hba1c", "person $patient", "visit $slipped_visit (no entry)"),
	'the rows that no longer hash to their entries are the patient\'s tampered ones');

diag(sprintf('%-46s %7.1f s', 'total', time - $t_start));
$node->stop;
done_testing();
