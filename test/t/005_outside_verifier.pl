# The standalone verifier (verifier/medchain_verify.py, Python standard
# library only, no database connection) accepts the proofs, chain exports
# and digests the extension makes, and rejects tampered ones.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $verifier = "$ENV{TESTDIR}/verifier/medchain_verify.py";
my $node = PostgreSQL::Test::Cluster->new('source');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.meds (id int PRIMARY KEY, drug text, dose numeric, given timestamptz, note text);
	INSERT INTO public.meds SELECT i, 'metformin', 500, '2026-01-01 08:00+00'::timestamptz + i * interval '8 hours',
		CASE WHEN i % 3 = 0 THEN 'Zoë, ward 7 – taken with food' END FROM generate_series(1, 40) i;
	SELECT medchain.enable('public.meds');
	SET medchain.difficulty = 10;
	SELECT medchain.seal(17);
	INSERT INTO public.meds SELECT i, 'lisinopril', 10, now(), NULL FROM generate_series(41, 50) i;
	SELECT medchain.seal(20);
	SELECT medchain.seal();
});

my $dir = $node->basedir;
sub write_file_from_query
{
	my ($path, $query) = @_;
	my $out = $node->safe_psql('postgres', $query);
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	print $fh $out, "\n";
	close($fh);
}

sub verifier_says
{
	my @args = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'python3', $verifier, @args ], '>', \$stdout, '2>', \$stderr);
	return ($? >> 8, $stdout . $stderr);
}

# Proofs of rows in different blocks and leaf positions.
foreach my $id (1, 17, 18, 40, 50)
{
	write_file_from_query("$dir/proof_$id.json",
		"SELECT medchain.proof('public.meds', '{\"id\": $id}')");
	my ($rc, $out) = verifier_says('proof', "$dir/proof_$id.json");
	is($rc, 0, "proof of row $id accepted") or diag($out);
}

# A tampered proof: the row's note changed.
write_file_from_query("$dir/proof_3.json", q{SELECT medchain.proof('public.meds', '{"id": 3}')});
my $proof = slurp_file("$dir/proof_3.json");
my $tampered = $proof;
$tampered =~ s/("row": "[0-9a-f]*?)([0-9a-f])"/$1 . ($2 eq '0' ? '1' : '0') . '"'/e;
isnt($tampered, $proof, 'proof altered');
open(my $fh, '>', "$dir/proof_bad.json") or die;
print $fh $tampered;
close($fh);
my ($rc, $out) = verifier_says('proof', "$dir/proof_bad.json");
is($rc, 1, 'tampered proof rejected');
like($out, qr/row does not hash to the entry's row_hash/, 'and the reason named');

# The chain export and a digest.
write_file_from_query("$dir/chain.jsonl", 'SELECT x FROM medchain.export_chain() x');
write_file_from_query("$dir/digest.json", 'SELECT medchain.digest()');
($rc, $out) = verifier_says('chain', "$dir/chain.jsonl", '--digest', "$dir/digest.json");
is($rc, 0, 'chain export and digest accepted') or diag($out);
like($out, qr/valid chain of 3 blocks/, 'three blocks checked');

# A tampered export: one entry hash of the middle block changed.
my @lines = split /\n/, slurp_file("$dir/chain.jsonl");
$lines[1] =~ s/("entry_hashes": \[")([0-9a-f])/$1 . ($2 eq 'a' ? 'b' : 'a')/e;
open($fh, '>', "$dir/chain_bad.jsonl") or die;
print $fh join("\n", @lines), "\n";
close($fh);
($rc, $out) = verifier_says('chain', "$dir/chain_bad.jsonl");
is($rc, 1, 'tampered export rejected');
like($out, qr/block 1: entry hashes do not give its merkle_root/, 'the altered block named');

# An export forged in the database, checked against an older digest.
$node->safe_psql('postgres', q{UPDATE medchain.blocks SET nonce = nonce + 1 WHERE height = 1});
write_file_from_query("$dir/chain_forged.jsonl", 'SELECT x FROM medchain.export_chain() x');
($rc, $out) = verifier_says('chain', "$dir/chain_forged.jsonl", '--digest', "$dir/digest.json");
is($rc, 1, 'export of an altered chain rejected');
like($out, qr/block 1: header hashes to/, 'the altered header named');

# Unreadable input.
($rc, $out) = verifier_says('proof', "$dir/no_such_file.json");
is($rc, 2, 'missing file is an input error');

$node->stop;
done_testing();
