# The standalone verifier (verifier/medchain_verify.py, no database
# connection) accepts the proofs, chain exports and digests the extension
# makes, formats version 1, 2 and 3, notarizations with the document
# notarized, and rejects tampered, forged and unanchored ones.  Block signatures are checked both ways it can check
# them: with python3-cryptography and with the openssl command.
use strict;
use warnings;
use Digest::SHA qw(sha256);
use JSON::PP qw(decode_json);
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

sub write_file
{
	my ($path, $content) = @_;
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	print $fh $content;
	close($fh);
}

sub write_file_from_query
{
	my ($db_node, $path, $query, $db) = @_;
	write_file($path, $db_node->safe_psql($db // 'postgres', $query) . "\n");
}

# A copy of $from with one substitution made: $edit changes $_.
sub write_edited
{
	my ($from, $to, $edit) = @_;
	local $_ = slurp_file($from);
	my $before = $_;
	$edit->();
	die "edit of $from changed nothing" if $_ eq $before;
	write_file($to, $_);
}

sub verifier_says
{
	my @args = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'python3', $verifier, @args ], '>', \$stdout, '2>', \$stderr);
	return ($? >> 8, $stdout . $stderr);
}

# Runs the verifier, expects exit status $want_rc and output matching $want.
sub verifier_ok
{
	my ($want_rc, $want, $name, @args) = @_;
	my ($rc, $out) = verifier_says(@args);
	ok($rc == $want_rc && $out =~ $want, $name)
	  or diag("exit $rc, wanted $want_rc and $want:\n$out");
}

# Proofs of rows in different blocks and leaf positions: valid, but without
# a digest nothing ties their blocks to the real chain.
foreach my $id (1, 17, 18, 40, 50)
{
	write_file_from_query($node, "$dir/proof_$id.json",
		"SELECT medchain.proof('public.meds', '{\"id\": $id}')");
	verifier_ok(0, qr/^valid but unanchored: /m, "proof of row $id accepted as unanchored",
		'proof', "$dir/proof_$id.json");
}

# A tampered proof: the row's last byte changed.
write_file_from_query($node, "$dir/proof_3.json", q{SELECT medchain.proof('public.meds', '{"id": 3}')});
write_edited("$dir/proof_3.json", "$dir/proof_bad.json",
	sub { s/("row": "[0-9a-f]*?)([0-9a-f])"/$1 . ($2 eq '0' ? '1' : '0') . '"'/e });
my ($rc, $out) = verifier_says('proof', "$dir/proof_bad.json");
is($rc, 1, 'tampered proof rejected');
like($out, qr/^INVALID: the row does not hash to the entry's row_hash/m, 'and the reason named');

# The chain export and a digest of its head (height 2).
write_file_from_query($node, "$dir/chain.jsonl", 'SELECT x FROM medchain.export_chain() x');
write_file_from_query($node, "$dir/digest.json", 'SELECT medchain.digest()');
like(slurp_file("$dir/digest.json"), qr/"height": 2\b.*"min_difficulty": 10\b/, 'digest of block 2, floor 10');
verifier_ok(0, qr/valid chain of 3 blocks/, 'chain export and digest accepted',
	'chain', "$dir/chain.jsonl", '--digest', "$dir/digest.json");

# Signed blocks: every block of the export is format 3, with a signer key,
# a signature and the chain id (the genesis block's hash) above genesis.
my @blocks = map { decode_json($_) } split /\n/, slurp_file("$dir/chain.jsonl");
is(join(' ', map { $_->{format_version} } @blocks), '3 3 3', 'the export holds three signed blocks');
is(join(' ', map { $_->{height} == 0 ? 'genesis' : $_->{chain_id} eq $blocks[0]{block_hash} ? 'chain' : 'other' } @blocks),
	'genesis chain chain', 'the blocks above genesis carry its hash as their chain id');
is(join(' ', map { unpack('H*', sha256(pack('H*', $_->{signer_key}))) eq $_->{node_id} ? 'key' : 'other' } @blocks),
	'key key key', 'each node_id is the fingerprint of the signer key');
like(slurp_file("$dir/digest.json"), qr/"signature": "[0-9a-f]{128}"/, 'the digest carries the head\'s signature');
{
	local $ENV{MEDCHAIN_VERIFY_ED25519} = 'openssl';
	verifier_ok(0, qr/valid chain of 3 blocks/, 'chain export and digest accepted, signatures checked by openssl',
		'chain', "$dir/chain.jsonl", '--digest', "$dir/digest.json");
}

# A forged signature: one byte of block 1's signature changed.  Caught by
# both implementations; so is a signature moved to the wrong key, and a
# digest whose signature was changed.
my @signed = split /\n/, slurp_file("$dir/chain.jsonl");
$signed[1] =~ s/("signature": ")([0-9a-f]{2})/$1 . sprintf('%02x', hex($2) ^ 1)/e;
write_file("$dir/chain_bad_signature.jsonl", join("\n", @signed) . "\n");
verifier_ok(1, qr/^INVALID: block 1: the signature does not verify under its signer_key$/m,
	'forged signature rejected, the block named', 'chain', "$dir/chain_bad_signature.jsonl");
{
	local $ENV{MEDCHAIN_VERIFY_ED25519} = 'openssl';
	verifier_ok(1, qr/^INVALID: block 1: the signature does not verify under its signer_key$/m,
		'forged signature rejected by openssl too', 'chain', "$dir/chain_bad_signature.jsonl");
}
@signed = split /\n/, slurp_file("$dir/chain.jsonl");
$signed[2] =~ s/("signer_key": ")[0-9a-f]{64}/$1 . ('ab' x 32)/e;
write_file("$dir/chain_other_key.jsonl", join("\n", @signed) . "\n");
verifier_ok(1, qr/^INVALID: block 2: signer_key is not the key its node_id names$/m,
	'a signer key that node_id does not name rejected', 'chain', "$dir/chain_other_key.jsonl");
write_edited("$dir/digest.json", "$dir/digest_bad_signature.json",
	sub { s/("signature": "[0-9a-f]{127})([0-9a-f])"/$1 . ($2 eq '0' ? '1' : '0') . '"'/e });
($rc, $out) = verifier_says('chain', "$dir/chain.jsonl", '--digest', "$dir/digest_bad_signature.json");
is($rc, 1, 'a digest with a forged signature rejected');
like($out, qr/^INVALID: the digest's signature does not verify under its signer_key$/m, 'its signature named');
like($out, qr/^INVALID: not anchored: block 2 has another signature than the digest$/m,
	'and it does not match the block');

# An unsigned block above the signed ones: the head rewritten as format 2.
@signed = split /\n/, slurp_file("$dir/chain.jsonl");
$signed[2] =~ s/"format_version": 3/"format_version": 2/;
write_file("$dir/chain_unsigned.jsonl", join("\n", @signed) . "\n");
verifier_ok(1, qr/^INVALID: block 2: an unsigned format 2 block above the signed block 1$/m,
	'an unsigned block above a signed one rejected', 'chain', "$dir/chain_unsigned.jsonl");

# A tampered export: one entry hash of the middle block changed.
my @lines = split /\n/, slurp_file("$dir/chain.jsonl");
$lines[1] =~ s/("entry_hashes": \[")([0-9a-f])/$1 . ($2 eq 'a' ? 'b' : 'a')/e;
write_file("$dir/chain_bad.jsonl", join("\n", @lines) . "\n");
verifier_ok(1, qr/^INVALID: block 1: entry hashes do not give its merkle_root/m,
	'tampered export rejected, the altered block named', 'chain', "$dir/chain_bad.jsonl");

# The chain grows past the digest: a second table enabled and released
# (two events), more rows, block 3.
$node->safe_psql('postgres', q{
	CREATE TABLE public.orders (id int PRIMARY KEY, item text);
	INSERT INTO public.orders VALUES (1, 'gauze');
	SELECT medchain.enable('public.orders');
	SELECT medchain.disable('public.orders', 'enabled by mistake');
	INSERT INTO public.meds SELECT i, 'aspirin', 100, now(), NULL FROM generate_series(51, 55) i;
	SET medchain.difficulty = 10;
	SELECT medchain.seal();
});
write_file_from_query($node, "$dir/digest_head.json", 'SELECT medchain.digest()');

# A proof anchored at the older digest's height holds it; a proof up to the
# head passes through that block too.
write_file_from_query($node, "$dir/proof_1_at2.json",
	q{SELECT medchain.proof('public.meds', '{"id": 1}', 2)});
verifier_ok(0, qr/^valid proof: entry \d+ in block 0, anchored in the digest's block 2$/m,
	'proof anchored at height 2 accepted with the digest of height 2',
	'proof', "$dir/proof_1_at2.json", '--digest', "$dir/digest.json");
write_file_from_query($node, "$dir/proof_1_head.json",
	q{SELECT medchain.proof('public.meds', '{"id": 1}')});
verifier_ok(0, qr/anchored in the digest's block 2/, 'proof up to the head accepted with the older digest',
	'proof', "$dir/proof_1_head.json", '--digest', "$dir/digest.json");
verifier_ok(1, qr/^INVALID: not anchored: no block at the digest's height 3/m,
	'proof anchored at height 2 rejected with the newer digest',
	'proof', "$dir/proof_1_at2.json", '--digest', "$dir/digest_head.json");

# Digests that do not match the chain: a changed block_hash, a changed
# sealed_at, a floor above the blocks' difficulty.
write_edited("$dir/digest.json", "$dir/digest_bad_hash.json",
	sub { s/("block_hash": "[0-9a-f]{63})([0-9a-f])"/$1 . ($2 eq '0' ? '1' : '0') . '"'/e });
verifier_ok(1, qr/^INVALID: not anchored: block 2 has hash/m, 'proof rejected with a digest whose block_hash changed',
	'proof', "$dir/proof_1_at2.json", '--digest', "$dir/digest_bad_hash.json");
write_edited("$dir/digest.json", "$dir/digest_bad_time.json",
	sub { s/(\d)Z"/($1 eq '0' ? '1' : '0') . 'Z"'/e });
verifier_ok(1, qr/^INVALID: not anchored: block 2 was sealed at/m, 'proof rejected with a digest whose sealed_at changed',
	'proof', "$dir/proof_1_at2.json", '--digest', "$dir/digest_bad_time.json");
write_edited("$dir/digest.json", "$dir/digest_floor_11.json", sub { s/"min_difficulty": 10\b/"min_difficulty": 11/ });
verifier_ok(1, qr/^INVALID: block 0: difficulty 10 is below the chain's floor 11 \(the digest's min_difficulty\)/m,
	"proof rejected when its block's difficulty is below the digest's min_difficulty",
	'proof', "$dir/proof_1_at2.json", '--digest', "$dir/digest_floor_11.json");

# The chain export of 4 blocks holds the older digest's block; not the
# tampered digests'.
write_file_from_query($node, "$dir/chain4.jsonl", 'SELECT x FROM medchain.export_chain() x');
verifier_ok(0, qr/^valid chain of 4 blocks, holding the digest's block 2$/m, 'export accepted with the older digest',
	'chain', "$dir/chain4.jsonl", '--digest', "$dir/digest.json");
verifier_ok(1, qr/^INVALID: not anchored: block 2 has hash/m, 'export rejected with a digest whose block_hash changed',
	'chain', "$dir/chain4.jsonl", '--digest', "$dir/digest_bad_hash.json");
verifier_ok(1, qr/^INVALID: block \d: difficulty 10 is below the chain's floor 11/m,
	'export rejected with a digest whose min_difficulty is above the chain floor',
	'chain', "$dir/chain4.jsonl", '--digest', "$dir/digest_floor_11.json");

# Event proofs: the enable event of meds (written after its baseline, so
# in the block that holds its last baseline entries) and the disable event
# of orders (block 3).
my ($enable_id, $enable_block, $disable_id) = split /\n/, $node->safe_psql('postgres', q{
	SELECT entry_id || E'\n' || block_height FROM medchain.entries
	 WHERE kind = 'event' AND relation = 'public.meds' ORDER BY entry_id LIMIT 1;
	SELECT max(entry_id) FROM medchain.entries WHERE kind = 'event' AND relation = 'public.orders'});
write_file_from_query($node, "$dir/event_enable.json", "SELECT medchain.event_proof($enable_id, 2)");
verifier_ok(0, qr/^valid proof: entry $enable_id in block $enable_block, anchored in the digest's block 2$/m,
	'event proof of the enable event accepted', 'proof', "$dir/event_enable.json", '--digest', "$dir/digest.json");
write_file_from_query($node, "$dir/event_disable.json", "SELECT medchain.event_proof($disable_id)");
like(slurp_file("$dir/event_disable.json"), qr/"detail": "\{\\"action\\": \\"disable\\"/, 'the disable event proof carries its detail');
verifier_ok(0, qr/^valid proof: entry $disable_id in block 3, anchored in the digest's block 3$/m,
	'event proof of the disable event accepted', 'proof', "$dir/event_disable.json", '--digest', "$dir/digest_head.json");
write_edited("$dir/event_disable.json", "$dir/event_bad.json", sub { s/enabled by mistake/enabled on purpose/ });
verifier_ok(1, qr/^INVALID: the event's detail does not hash to the entry's row_hash/m, 'tampered event detail rejected',
	'proof', "$dir/event_bad.json", '--digest', "$dir/digest_head.json");

# A notarization: a trial protocol's SHA-256, notarized and sealed in
# block 4, anchored in the digest of that block.  Given the file, the
# verifier hashes it and checks it is the document notarized.
my $protocol = "Trial NCT-0042, protocol version 1\nPrimary endpoint: HbA1c at 24 weeks.\n";
my $protocol_hex = unpack('H*', $protocol);
write_file("$dir/protocol.txt", $protocol);
write_file("$dir/protocol_changed.txt", $protocol =~ s/24 weeks/26 weeks/r);
$node->safe_psql('postgres', qq{
	SELECT medchain.notarize(decode('$protocol_hex', 'hex'), 'NCT-0042 protocol v1');
	SET medchain.difficulty = 10;
	SELECT medchain.seal();
});
write_file_from_query($node, "$dir/digest_notarized.json", 'SELECT medchain.digest()');
write_file_from_query($node, "$dir/notarization.json",
	"SELECT proof FROM medchain.attest(decode('$protocol_hex', 'hex'))");
like(slurp_file("$dir/notarization.json"), qr/"document_sha256": "@{[ unpack('H*', sha256($protocol)) ]}"/,
	'the notarization proof carries the SHA-256 of the protocol');
my $notarized = qr/^notarized: document [0-9a-f]{64} \(\S*protocol\.txt\), label "NCT-0042 protocol v1", recorded by \S+, in a block sealed at \d{4}-\d\d-\d\dT[\d:.]+Z$/m;
verifier_ok(0, qr/^valid proof: entry \d+ in block 4, anchored in the digest's block 4\n$notarized/m,
	'notarization proof accepted with the protocol and the digest',
	'proof', "$dir/notarization.json", '--document', "$dir/protocol.txt", '--digest', "$dir/digest_notarized.json");
verifier_ok(1, qr/^INVALID: the document does not hash to the proof's document_sha256/m,
	'the same proof rejected for a protocol with one word changed',
	'proof', "$dir/notarization.json", '--document', "$dir/protocol_changed.txt",
	'--digest', "$dir/digest_notarized.json");
write_edited("$dir/notarization.json", "$dir/notarization_relabelled.json",
	sub { s/NCT-0042 protocol v1/NCT-0042 protocol v2/ });
verifier_ok(1, qr/^INVALID: the entry does not hash to entry_hash/m, 'a proof whose label was changed rejected',
	'proof', "$dir/notarization_relabelled.json", '--document', "$dir/protocol.txt");
write_edited("$dir/notarization.json", "$dir/notarization_other.json",
	sub { s/("document_sha256": ")[0-9a-f]{64}/$1 . unpack('H*', sha256('another document'))/e });
verifier_ok(1, qr/^INVALID: the document_sha256 is not the entry's row_hash/m,
	'a proof naming another document\'s hash rejected', 'proof', "$dir/notarization_other.json");
verifier_ok(2, qr/a document is checked against the proof of a notarization only/,
	'a document given with a row proof is an input error',
	'proof', "$dir/proof_1_head.json", '--document', "$dir/protocol.txt");

# A proof made from nothing, from FORMAT.md: a made-up row in a one-leaf
# block at difficulty 0.  Steps 1 to 5 hold, so only a digest exposes it.
sub u32 { pack('N', shift) }
sub u64 { pack('Q>', shift) }
sub str { my $s = shift; u32(length $s) . $s }    # ASCII only
sub hex_of { unpack('H*', shift) }
my $row = 'R' . chr(2) . u32(2)
  . str('drug') . chr(0x05) . u32(7) . 'placebo'
  . str('id') . chr(0x02) . u32(8) . u64(1);
my $row_key = '{"id": 1}';
my $entry = 'E' . chr(2) . str('insert') . u64(1) . str('public') . str('meds') . u64(1)
  . chr(1) . str($row_key) . sha256($row) . str('mallory') . u64(1796000000000000) . u64(1);
my $merkle_root = sha256("\x00" . sha256($entry));    # a one-leaf tree is its leaf
my $header = 'MCB2' . u32(2) . u64(0) . ("\x00" x 32) . $merkle_root . u64(1796000000000001)
  . u32(1) . u32(0) . u32(0) . sha256('forger') . u64(0);
write_file("$dir/proof_forged.json", sprintf(
	'{"format_version": 2, "row": "%s", "entry": {"format_version": 2, "kind": "insert", '
	  . '"entry_id": 1, "schema": "public", "table": "meds", "enablement_id": 1, "row_key": "%s", '
	  . '"row_hash": "%s", "recorded_by": "mallory", "recorded_at": 1796000000000000, "xact": 1}, '
	  . '"entry_hash": "%s", "leaf_index": 0, "audit_path": [], "block": {"height": 0, '
	  . '"format_version": 2, "prev_hash": "%s", "merkle_root": "%s", "sealed_at": 1796000000000001, '
	  . '"entry_count": 1, "difficulty": 0, "min_difficulty": 0, "node_id": "%s", '
	  . '"node_name": "forger", "nonce": 0, "block_hash": "%s"}, "chain": []}' . "\n",
	hex_of($row), '{\"id\": 1}', hex_of(sha256($row)), hex_of(sha256($entry)), '00' x 32,
	hex_of($merkle_root), hex_of(sha256('forger')), hex_of(sha256($header))));
verifier_ok(0, qr/^valid but unanchored: entry 1 in block 0/m, 'forged proof accepted only as unanchored',
	'proof', "$dir/proof_forged.json");
($rc, $out) = verifier_says('proof', "$dir/proof_forged.json", '--digest', "$dir/digest.json");
is($rc, 1, 'forged proof rejected with a real digest');
like($out, qr/^INVALID: block 0: difficulty 0 is below the chain's floor 10/m, 'its difficulty is below the floor');
like($out, qr/^INVALID: not anchored: no block at the digest's height 2/m, 'and it is not anchored');

# An export forged in the database, checked against an older digest.
$node->safe_psql('postgres', q{UPDATE medchain.blocks SET nonce = nonce + 1 WHERE height = 1});
write_file_from_query($node, "$dir/chain_forged.jsonl", 'SELECT x FROM medchain.export_chain() x');
verifier_ok(1, qr/^INVALID: block 1: header hashes to/m, 'export of an altered chain rejected, the altered header named',
	'chain', "$dir/chain_forged.jsonl", '--digest', "$dir/digest.json");

# Unreadable input.
($rc, $out) = verifier_says('proof', "$dir/no_such_file.json");
is($rc, 2, 'missing file is an input error');
write_file("$dir/digest_unknown.json", '{"height": 2, "block_hash": "' . ('00' x 32) . '", "witness": "x"}');
($rc, $out) = verifier_says('proof', "$dir/proof_1_at2.json", '--digest', "$dir/digest_unknown.json");
is($rc, 2, 'a digest member medchain does not write is an input error');
$node->stop;

# A database made by medchain 1.0 (version 1 entries, blocks, digest and
# proofs), upgraded to 1.3 and sealed again: version 1 blocks, then a
# signed version 3 block that also seals the version 1 entries left
# pending.
my $old = PostgreSQL::Test::Cluster->new('upgraded');
$old->init;
$old->start;
$old->safe_psql('postgres', q{CREATE DATABASE ehr ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0});
$old->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'ehr',
	'-f', "$ENV{TESTDIR}/test/fixtures/v1_0_database.sql" ], 'medchain 1.0 database restored');
$dir = $old->basedir;
foreach my $kept ('digest', 'proof person 3', 'proof measurement 900001')
{
	(my $file = $kept) =~ s/ /_/g;
	write_file_from_query($old, "$dir/kept_$file.json",
		"SELECT doc FROM public.kept_evidence WHERE name = '$kept'", 'ehr');
}
like(slurp_file("$dir/kept_digest.json"), qr/"sealed_at": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00"/,
	'the kept digest is in the 1.0 form');
verifier_ok(0, qr/^valid but unanchored: /m, 'kept version 1 proof accepted as unanchored',
	'proof', "$dir/kept_proof_person_3.json");
verifier_ok(0, qr/^valid proof: entry \d+ in block 1, anchored in the digest's block 1$/m,
	'kept version 1 proof anchored in the kept 1.0 digest',
	'proof', "$dir/kept_proof_measurement_900001.json", '--digest', "$dir/kept_digest.json");
verifier_ok(1, qr/^INVALID: not anchored: no block at the digest's height 1/m,
	'a version 1 proof of block 0 cannot reach the kept digest of block 1 (it has no chain)',
	'proof', "$dir/kept_proof_person_3.json", '--digest', "$dir/kept_digest.json");

$old->safe_psql('ehr', q{
	ALTER EXTENSION medchain UPDATE;
	INSERT INTO public.typed (id, c_text) VALUES (51, 'after the upgrade');
	SET medchain.difficulty = 8;
	SELECT medchain.seal();
});
write_file_from_query($old, "$dir/digest.json", 'SELECT medchain.digest()', 'ehr');
write_file_from_query($old, "$dir/chain.jsonl", 'SELECT x FROM medchain.export_chain() x', 'ehr');
my @versions = map { /"format_version": (\d)/ ? $1 : '?' } split /\n/, slurp_file("$dir/chain.jsonl");
is("@versions", '1 1 3', 'the export holds version 1 blocks, then a signed version 3 block');
verifier_ok(0, qr/^valid chain of 3 blocks, holding the digest's block 2$/m, 'mixed export accepted with the new digest',
	'chain', "$dir/chain.jsonl", '--digest', "$dir/digest.json");
verifier_ok(0, qr/^valid chain of 3 blocks, holding the digest's block 1$/m, 'mixed export accepted with the kept 1.0 digest',
	'chain', "$dir/chain.jsonl", '--digest', "$dir/kept_digest.json");
my %proof_of = (
	'v1_entry_v1_block' => q{'cdm.person', '{"person_id": 3}'},
	'v1_entry_v3_block' => q{'cdm.measurement', '{"measurement_id": 900002}'},
	'v2_entry_v3_block' => q{'public.typed', '{"id": 51}'});
foreach my $what (sort keys %proof_of)
{
	write_file_from_query($old, "$dir/proof_$what.json", "SELECT medchain.proof($proof_of{$what})", 'ehr');
	verifier_ok(0, qr/^valid proof: .*anchored in the digest's block 2$/m, "proof of a $what anchored in the new digest",
		'proof', "$dir/proof_$what.json", '--digest', "$dir/digest.json");
}
like(slurp_file("$dir/proof_v1_entry_v3_block.json"), qr/"row": "5201/, 'a version 1 row sealed in a version 3 block');
like(slurp_file("$dir/proof_v2_entry_v3_block.json"), qr/"row": "5202/, 'a version 2 row');
$old->stop;

done_testing();
