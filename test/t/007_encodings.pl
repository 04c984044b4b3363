# The same rows hash the same in a UTF-8 and a LATIN1 database: text,
# enum labels, jsonb keys (whose jsonb order differs between the two
# encodings), row keys and event details are hashed in UTF-8 and in
# canonical JSON.  A dump of the UTF-8 database restored into a LATIN1 one
# verifies clean.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('encodings');
$node->init;
$node->start;
foreach my $db ([ 'u8', 'UTF8' ], [ 'l1', 'LATIN1' ], [ 'l1_restored', 'LATIN1' ])
{
	$node->safe_psql('postgres',
		"CREATE DATABASE $db->[0] ENCODING '$db->[1]' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
}

sub query
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, "SET client_encoding = 'UTF8';\n$sql");
}

my $schema = q{
	CREATE EXTENSION medchain;
	SET medchain.difficulty = 4;
	CREATE TYPE public.stimmung AS ENUM ('ruhig', 'aufgeregt ä');
	CREATE TABLE public.befunde (schlüssel text PRIMARY KEY, doc jsonb, notiz text, s public.stimmung);
	INSERT INTO public.befunde VALUES ('Müller', '{"ß": "ü", "é": 2, "ab": 1}', 'Grüße', 'aufgeregt ä');
	SELECT medchain.enable('public.befunde');
	INSERT INTO public.befunde VALUES ('Ærø', '{"zä": {"ö": [1.50, "£"]}, "a": null}', 'Ünfall', 'ruhig');
	SELECT medchain.seal();
	CREATE TABLE public.entlassen (id int PRIMARY KEY);
	SELECT medchain.enable('public.entlassen');
	SELECT medchain.disable('public.entlassen', 'verlegt nach Köln');
};
query($_, $schema) foreach ('u8', 'l1');

my $hashes = q{
	SELECT string_agg(kind || ' ' || row_key::text || ' ' || encode(row_hash, 'hex'), E'\n' ORDER BY row_key::text)
	  FROM medchain.entries WHERE relation = 'public.befunde' AND kind <> 'event'};
is(query('l1', $hashes), query('u8', $hashes), 'row hashes and row keys agree in UTF-8 and LATIN1');
my $events = q{
	SELECT string_agg(detail->>'action' || ' ' || encode(row_hash, 'hex'), E'\n' ORDER BY entry_id)
	  FROM medchain.entries WHERE kind = 'event'};
is(query('l1', $events), query('u8', $events), 'event details hash alike, a non-ASCII reason included');
my $encoding = q{SELECT encode(medchain.row_encoding('public.befunde', '{"schlüssel": "Müller"}'), 'hex')};
is(query('l1', $encoding), query('u8', $encoding), 'the row encodings are the same bytes');
like(query('l1', $encoding), qr/7b226162223a20312c2022c39f223a2022c3bc222c2022c3a9223a20327d/,
	'the jsonb is canonical JSON in UTF-8: {"ab": 1, "ß": "ü", "é": 2}');
is(query('l1', 'SELECT count(*) FROM medchain.verify()'), '0', 'the LATIN1 database verifies clean');
is(query('l1', q{SELECT medchain.verify_proof(medchain.proof('public.befunde', '{"schlüssel": "Ærø"}'), medchain.digest())}),
	't', 'and a proof of a row with a non-ASCII key holds, anchored');

# A dump of the UTF-8 database restored into a LATIN1 one.
my $dump = $node->basedir . '/u8.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('u8') ], 'dump the UTF-8 database');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('l1_restored'), $dump ], 'restore it into a LATIN1 one');
is(query('l1_restored', 'SELECT count(*) FROM medchain.verify()'), '0',
	'the restored LATIN1 database verifies clean');
is(query('l1_restored', $hashes), query('u8', $hashes), 'with the same row hashes');
is(query('l1_restored', q{SELECT medchain.verify_digest(%s)} =~ s/%s/'@{[query('u8', 'SELECT medchain.digest()')]}'/r),
	't', 'and the UTF-8 database\'s digest holds in it');

$node->stop;
done_testing();
