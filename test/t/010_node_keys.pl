# Node keys: the key file is made, mode 0600, when first needed and kept
# across restarts; a key file others may read, one nobody may read and one
# that is not an Ed25519 key are refused with a clear error;
# medchain.node_key_file moves it; two databases of one cluster have one
# node key but two chain ids; a dump holds no key material and its
# restore still verifies; a compromised key is replaced as README says,
# then retired, after which a block it signs is signature_invalid and the
# server refuses to seal with it.  medchain's functions are called under a
# hostile search_path whose operators would raise if medchain resolved any
# by name.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{TESTDIR};
my $node = PostgreSQL::Test::Cluster->new('node_keys');
$node->init;
$node->append_conf('postgresql.conf', "medchain.difficulty = 6");
$node->start;
my $key_file = $node->data_dir . '/medchain_node.key';

# A schema whose = on text and bigint raise: a query medchain ran by name
# under the caller's search_path would run it.
$node->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE SCHEMA hostile;
	CREATE FUNCTION hostile.eq(text, text) RETURNS boolean LANGUAGE plpgsql
		AS $$BEGIN RAISE EXCEPTION 'hostile code ran'; END$$;
	CREATE FUNCTION hostile.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql
		AS $$BEGIN RAISE EXCEPTION 'hostile code ran'; END$$;
	CREATE OPERATOR hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.eq);
	CREATE OPERATOR hostile.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.eq);
	CREATE TABLE public.notes (id int PRIMARY KEY, note text);
	SELECT medchain.enable('public.notes');
});

sub hostile { return "SET search_path = hostile, pg_catalog, public; " . shift; }
# The test's own queries, under the default search_path.
sub query { my ($sql, $db) = @_; return $node->safe_psql($db // 'postgres', $sql); }
# Calls of medchain's functions, under the hostile one.
sub call { my ($sql, $db) = @_; return $node->safe_psql($db // 'postgres', hostile($sql)); }
sub query_fails
{
	my ($sql, $db) = @_;
	my ($stdout, $stderr);
	my $rc = $node->psql($db // 'postgres', hostile($sql), stdout => \$stdout, stderr => \$stderr,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $stderr);
}
sub mode_of { return sprintf('%04o', (stat(shift))[2] & 07777); }

# The raw public key of a key file, as openssl reads it: the last 32 bytes
# of its DER public key.
sub openssl_public_key
{
	my $file = shift;
	my ($der, $err);
	IPC::Run::run([ 'openssl', 'pkey', '-in', $file, '-pubout', '-outform', 'DER' ], '>', \$der, '2>', \$err)
	  or die "openssl pkey: $err";
	return unpack('H*', substr($der, -32));
}

my $seal_count = 0;
sub seal
{
	my ($db) = @_;
	$seal_count++;
	query("INSERT INTO public.notes VALUES ($seal_count, 'note $seal_count')", $db) if !$db;
	return call('SELECT medchain.seal()', $db);
}

# ---------- made when first needed, kept across restarts ----------

ok(!-e $key_file, 'no key file before anything needs one');
my $identity = call('SELECT medchain.node_identity()');
ok(-f $key_file, 'node_identity() made the key file');
is(mode_of($key_file), '0600', 'the key file has mode 0600');
like(slurp_file($key_file), qr/\A-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+\/=\n]+-----END PRIVATE KEY-----\n\z/,
	'the key file is PEM PKCS#8');
my $public_key = call(q{SELECT medchain.node_identity()->>'public_key'});
is($public_key, openssl_public_key($key_file), 'openssl reads the same Ed25519 public key from it');
my $fingerprint = call(q{SELECT medchain.node_identity()->>'fingerprint'});
is($fingerprint, sha256_hex(pack('H*', $public_key)), 'the fingerprint is the SHA-256 of the raw public key');
is(call(q{SELECT medchain.node_identity()->'chain_id'}), 'null', 'no chain id before the first block');
my @leftovers = glob($node->data_dir . '/medchain_node.key.*');
is(scalar(@leftovers), 0, 'no temporary file is left behind');

is(seal(), '0', 'the genesis block is sealed');
is(query(q{SELECT encode(node_id, 'hex') || ' ' || encode(signer_key, 'hex') FROM medchain.blocks WHERE height = 0}),
	"$fingerprint $public_key", 'signed with the node key, which node_id names');
my $chain_id = query(q{SELECT encode(block_hash, 'hex') FROM medchain.blocks WHERE height = 0});
is(call(q{SELECT medchain.node_identity()->>'chain_id'}), $chain_id, 'the chain id is the genesis block\'s hash');

$node->restart;
is(call(q{SELECT medchain.node_identity()->>'fingerprint'}), $fingerprint, 'after a restart the same key');
is(seal(), '1', 'the next block is sealed');
is(query(q{SELECT count(*) FROM medchain.entries WHERE relation = 'medchain.blocks'}), '1',
	'the key is announced once');

# ---------- refused key files ----------

chmod(0640, $key_file);
my ($rc, $err) = query_fails('SELECT medchain.seal()');
isnt($rc, 0, 'a group-readable key file is refused');
like($err, qr/ERROR:  F0000: node key file ".*medchain_node\.key" has group or world access/,
	'the error names the file and the problem');
like($err, qr/DETAIL:  The file has permissions 0640; a private key must be readable by its owner only\./,
	'the detail gives the permissions');
like($err, qr/HINT:  Run chmod 0600 on the file/, 'the hint says what to do');
chmod(0000, $key_file);
($rc, $err) = query_fails('SELECT medchain.node_identity()');
like($err, qr/ERROR:  42501: could not open node key file ".*medchain_node\.key": Permission denied/,
	'an unreadable key file is refused');
chmod(0600, $key_file);
is(call(q{SELECT medchain.node_identity()->>'fingerprint'}), $fingerprint, 'mode 0600 again: the same key');

my $other = $node->basedir . '/not_ed25519.key';
$node->command_ok([ 'openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
	'-out', $other ], 'an EC key for the test');
chmod(0600, $other);
$node->append_conf('postgresql.conf', "medchain.node_key_file = '$other'");
$node->reload;
($rc, $err) = query_fails('SELECT medchain.seal()');
like($err, qr/ERROR:  F0000: node key file ".*not_ed25519\.key" does not hold an Ed25519 private key/,
	'a key of another type is refused');
like($err, qr/DETAIL:  It holds a private key of another type\./, 'and the detail says so');
open(my $fh, '>', $other) or die;
print $fh "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
close($fh);
($rc, $err) = query_fails('SELECT medchain.seal()');
like($err, qr/ERROR:  F0000: node key file ".*not_ed25519\.key" does not hold an Ed25519 private key/,
	'a file that is no key at all is refused');

# ---------- medchain.node_key_file moves the key ----------

my $moved = $node->basedir . '/keys/elsewhere.key';
mkdir($node->basedir . '/keys');
$node->append_conf('postgresql.conf', "medchain.node_key_file = '$moved'");
$node->reload;
my $moved_fingerprint = call(q{SELECT medchain.node_identity()->>'fingerprint'});
ok(-f $moved && mode_of($moved) eq '0600', 'the key named by medchain.node_key_file is made there, mode 0600');
isnt($moved_fingerprint, $fingerprint, 'it is another key');
is(seal(), '2', 'a block is sealed with it');
is(query(q{SELECT string_agg(detail->>'fingerprint', ' ' ORDER BY entry_id) FROM medchain.entries
			WHERE relation = 'medchain.blocks'}),
	"$fingerprint $moved_fingerprint", 'the chain announced the new key in that block');
is(query(q{SELECT encode(node_id, 'hex') FROM medchain.blocks WHERE height = 2}), $moved_fingerprint,
	'which names it');
is(call('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean');

# Back to the default path.
$node->append_conf('postgresql.conf', "medchain.node_key_file = 'medchain_node.key'");
$node->reload;
is(call(q{SELECT medchain.node_identity()->>'fingerprint'}), $fingerprint, 'back to the first key');

# ---------- two databases of one cluster ----------

$node->safe_psql('postgres', 'CREATE DATABASE second');
$node->safe_psql('second', q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.notes (id int PRIMARY KEY, note text);
	INSERT INTO public.notes VALUES (1, 'in the second database');
	SELECT medchain.enable('public.notes');
});
is(seal('second'), '0', 'the second database seals its own genesis block');
my $second = call(q{SELECT medchain.node_identity()}, 'second');
like($second, qr/"fingerprint": "$fingerprint"/, 'with the same node key');
my ($second_chain) = $second =~ /"chain_id": "([0-9a-f]{64})"/;
isnt($second_chain, $chain_id, 'but another chain id');

# ---------- dump and restore ----------

my $dump = $node->basedir . '/postgres.sql';
$node->command_ok([ 'pg_dump', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump of the database');
my $dumped = slurp_file($dump);
my ($der, $der_err);
IPC::Run::run([ 'openssl', 'pkey', '-in', $key_file, '-outform', 'DER' ], '>', \$der, '2>', \$der_err);
my $private = unpack('H*', substr($der, -32));
my ($pem_body) = slurp_file($key_file) =~ /-----\n(.+)\n-----END/s;
unlike($dumped, qr/PRIVATE KEY/, 'the dump has no PEM private key');
ok(index($dumped, $pem_body) < 0, 'nor the key file\'s contents');
ok(index($dumped, $private) < 0, 'nor the raw private key');
like($dumped, qr/$public_key/, 'the public key is there, in the blocks it signed');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'the dump restores');
is(call('SELECT count(*) FROM medchain.verify()', 'restored'), '0', 'and verifies, signatures included');
is(call(q{SELECT medchain.node_identity()->>'chain_id'}, 'restored'), $chain_id,
	'the restored chain keeps its id');

# ---------- replacing a compromised key ----------

# README, "Replacing a node key": stop the server, move the key file away,
# start it, seal; the new key is announced in that block; then retire the
# old one.
$node->stop;
rename($key_file, "$key_file.compromised") or die "cannot move the key file: $!";
$node->start;
is(seal(), '3', 'after the key was moved away a block is sealed');
my $new_fingerprint = call(q{SELECT medchain.node_identity()->>'fingerprint'});
ok($new_fingerprint ne $fingerprint && $new_fingerprint ne $moved_fingerprint, 'with a new key');
is(query(q{SELECT detail->>'fingerprint' FROM medchain.entries WHERE relation = 'medchain.blocks'
			ORDER BY entry_id DESC LIMIT 1}), $new_fingerprint, 'which the chain announced');
my $retirement = call(qq{SELECT medchain.retire_node_key('$fingerprint', 'key file copied off the server')});
like($retirement, qr/^\d+$/, 'retire_node_key() records the retirement');
($rc, $err) = query_fails(qq{SELECT medchain.retire_node_key('$fingerprint', 'again')});
like($err, qr/ERROR:  55000: node key $fingerprint is already retired/, 'a key is retired once');
($rc, $err) = query_fails(qq{SELECT medchain.retire_node_key('$new_fingerprint', 'in use')});
like($err, qr/ERROR:  55000: cannot retire node key $new_fingerprint: this node signs with it/,
	'the key the node signs with cannot be retired');
is(seal(), '4', 'the retirement is sealed');
is(query(qq{SELECT block_height FROM medchain.entries WHERE entry_id = $retirement}), '4', 'in block 4');
is(call('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean: blocks 0 and 1 were signed before');
my $digest = call('SELECT medchain.digest()');
my $kept = $digest =~ s/'/''/gr;
is(seal(), '5', 'block 5 is sealed by the new key');

# Whoever holds the old key signs a forged block above the retirement.
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
	'-f', "$root/test/fixtures/forge.sql" ], 'the forging functions are loaded');
is(query(qq{BEGIN;
	DO \$\$BEGIN PERFORM forge.reseal(5, 6, key_file => '$key_file.compromised'); END\$\$;
	SET LOCAL search_path = hostile, pg_catalog;
	SELECT finding || ': ' || detail FROM medchain.verify();
	ROLLBACK}),
	"signature_invalid: block 5: its signer key $fingerprint was retired by entry $retirement, sealed in block 4: key file copied off the server",
	'a block the retired key signs above its retirement is signature_invalid, and says why');
is(query(qq{BEGIN;
	DO \$\$BEGIN PERFORM forge.reseal(5, 6, key_file => '$key_file.compromised'); END\$\$;
	SET LOCAL search_path = hostile, pg_catalog;
	SELECT medchain.verify_digest('$kept');
	ROLLBACK}), 'f', 'and the digest of the block below no longer holds');

# Put back, the retired key signs nothing.
$node->stop;
rename($key_file, "$key_file.new") or die;
rename("$key_file.compromised", $key_file) or die;
$node->start;
query(q{INSERT INTO public.notes VALUES (100, 'after the old key came back')});
($rc, $err) = query_fails('SELECT medchain.seal()');
like($err, qr/ERROR:  55000: node key $fingerprint is retired/, 'the server refuses to seal with a retired key');
like($err, qr/DETAIL:  Entry $retirement of this chain retired the key in medchain.node_key_file: key file copied off the server/,
	'naming the retirement');
$node->stop;
rename("$key_file.new", $key_file) or die;
$node->start;
is(seal(), '6', 'with the new key back, sealing goes on');
is(call('SELECT count(*) FROM medchain.verify()'), '0', 'and verify() is clean');

$node->stop;
done_testing();
