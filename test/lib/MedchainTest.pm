# test/lib/MedchainTest.pm: what the upgrade tests share.
#
#   current_version(): the default_version of medchain.control, the version
#     ALTER EXTENSION UPDATE and a new installation reach;
#   catalog_query(): the SQL of test/extension_catalog.sql;
#   catalog_of($node, $db): the extension in database $db as listed by
#     test/extension_catalog.sql, by section: { section => [ lines ] };
#   same_catalog($name_a, $a, $name_b, $b, $test_name): a test that two
#     listings are the same, with a diff -u of each section that is not.
package MedchainTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(current_version catalog_query catalog_of catalog_diff same_catalog @catalog_sections);

our @catalog_sections = qw(members config privileges comments functions views relations columns
	constraints indexes triggers policies rules types);

sub current_version
{
	my ($version) = slurp_file("$ENV{TESTDIR}/medchain.control") =~ /^default_version = '([^']+)'/m;
	die 'no default_version in medchain.control' unless $version;
	return $version;
}

# The query of test/extension_catalog.sql, under search_path pg_catalog.
sub catalog_query
{
	return "SET search_path = pg_catalog;\n" . slurp_file("$ENV{TESTDIR}/test/extension_catalog.sql");
}

# With $sql, the listing that query makes instead (a test that edits a
# catalog in a transaction it rolls back).
sub catalog_of
{
	my ($node, $db, $sql) = @_;
	$sql //= catalog_query();
	my %by_section = map { $_ => [] } @catalog_sections;
	foreach my $line (split /\n/, $node->safe_psql($db, $sql))
	{
		my ($section) = $line =~ /^(\w+) \| /;
		die "unknown section in: $line" unless $section && $by_section{$section};
		push @{ $by_section{$section} }, $line;
	}
	return \%by_section;
}

# The sections in which two listings differ, and a diff -u of each.
sub catalog_diff
{
	my ($name_a, $a, $name_b, $b) = @_;
	my (@differ, $report);
	foreach my $section (@catalog_sections)
	{
		my ($text_a, $text_b) = map { join('', map { "$_\n" } @{ $_->{$section} }) } $a, $b;
		next if $text_a eq $text_b;
		push @differ, $section;
		my $dir = PostgreSQL::Test::Utils::tempdir;
		PostgreSQL::Test::Utils::append_to_file("$dir/$name_a", $text_a);
		PostgreSQL::Test::Utils::append_to_file("$dir/$name_b", $text_b);
		my ($out, $err);
		IPC::Run::run([ 'diff', '-u', "$dir/$name_a", "$dir/$name_b" ], '>', \$out, '2>', \$err);
		$report .= "--- section $section\n$out$err";
	}
	return (\@differ, $report // '');
}

sub same_catalog
{
	my ($name_a, $a, $name_b, $b, $test_name) = @_;
	my ($differ, $report) = catalog_diff($name_a, $a, $name_b, $b);
	ok(!@$differ, $test_name) or diag("sections that differ: @$differ\n$report");
}

1;
