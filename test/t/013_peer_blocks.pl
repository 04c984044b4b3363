# Peers and received blocks, between two real clusters: node A seals its
# chain, node B registers A as a peer and receives A's blocks as the
# payloads medchain.block_payloads() makes on A.  B keeps what follows its
# copy by every chain rule, answers duplicates and gaps without keeping
# anything, and keeps as evidence (once per payload) what breaks a rule:
# a bad signature, entry hashes that do not give the Merkle root, too
# little work, a wrong prev_hash, a signer that is not a registered peer,
# a malformed payload; a second validly signed block at a held height is
# kept as equivocation evidence.  No row value, row key, relation name or
# user name of A reaches B.  medchain_peer may call receive_blocks() and
# read nothing; add_peer() refuses what it cannot use.  The functions are
# called under a search_path whose operators raise if medchain resolved
# any by name.
use strict;
use warnings;
use Digest::SHA qw(sha256);
use File::Temp qw(tempfile);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $a = PostgreSQL::Test::Cluster->new('hospital_a');
$a->init;
$a->append_conf('postgresql.conf', "medchain.difficulty = 4\nmedchain.block_max_entries = 3");
$a->start;
my $b = PostgreSQL::Test::Cluster->new('hospital_b');
$b->init;
$b->start;

$a->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE TABLE public.patient_notes (mrn text PRIMARY KEY, note text);
	SELECT medchain.enable('public.patient_notes');
	CREATE ROLE dr_gregory_house LOGIN;
	GRANT INSERT ON public.patient_notes TO dr_gregory_house;
});
# rows recorded by a clinician's own login: entries name the session user
$a->safe_psql('postgres', q{
	INSERT INTO public.patient_notes
	SELECT 'MRN-SECRET-' || i, 'diagnosis kept at home ' || i FROM generate_series(1, 12) i;
}, extra_params => [ '-U', 'dr_gregory_house' ]);
$a->safe_psql('postgres', 'SELECT medchain.seal()');
is($a->safe_psql('postgres', q{SELECT DISTINCT recorded_by FROM medchain.entries WHERE kind = 'insert'}),
	'dr_gregory_house', "A's entries name the clinician who recorded the rows");
$b->safe_psql('postgres', q{
	CREATE EXTENSION medchain;
	CREATE ROLE hospital_a_login LOGIN IN ROLE medchain_peer;
	CREATE ROLE somebody LOGIN;
	CREATE ROLE dba_alice LOGIN IN ROLE medchain_admin;
});
# On both nodes, a schema whose = on bytea, text and bigint raise: a query
# medchain ran by name under the caller's search_path would run it.
foreach my $node ($a, $b)
{
	$node->safe_psql('postgres', q{
		CREATE SCHEMA hostile;
		CREATE FUNCTION hostile.eq(bytea, bytea) RETURNS boolean LANGUAGE plpgsql
			AS $$BEGIN RAISE EXCEPTION 'hostile code ran'; END$$;
		CREATE FUNCTION hostile.eq(text, text) RETURNS boolean LANGUAGE plpgsql
			AS $$BEGIN RAISE EXCEPTION 'hostile code ran'; END$$;
		CREATE FUNCTION hostile.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql
			AS $$BEGIN RAISE EXCEPTION 'hostile code ran'; END$$;
		CREATE OPERATOR hostile.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = hostile.eq);
		CREATE OPERATOR hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.eq);
		CREATE OPERATOR hostile.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.eq);
		GRANT USAGE ON SCHEMA hostile TO PUBLIC;
	});
}
my $hostile = 'SET search_path = hostile, pg_catalog; ';

my $identity = $a->safe_psql('postgres',
	q{SELECT i->>'public_key', i->>'chain_id' FROM medchain.node_identity() i});
my ($a_key, $chain_id) = split /\|/, $identity;
my $a_height = $a->safe_psql('postgres', 'SELECT max(height) FROM medchain.blocks');
ok($a_height >= 4, "A sealed its rows into blocks 0 to $a_height");

# A's payloads from a height, as raw bytes.
sub payloads_of_a
{
	my ($from, $count) = @_;
	my @hex = split /\n/, $a->safe_psql('postgres',
		$hostile . "SELECT encode(p, 'hex') FROM medchain.block_payloads($from, $count) p");
	return map { pack('H*', $_) } @hex;
}

# Deliver payloads to B as a login of medchain_peer, under a hostile
# search_path; returns the rows "height|status|reason".
sub deliver
{
	my @payloads = @_;
	my $array = 'ARRAY[' . join(', ', map { "'\\x" . unpack('H*', $_) . "'::bytea" } @payloads) . ']';
	return $b->safe_psql('postgres',
		"SET search_path = hostile, pg_catalog;"
		  . " SELECT height, status, coalesce(reason, '') FROM medchain.receive_blocks('\\x$chain_id', $array)",
		extra_params => [ '-U', 'hospital_a_login' ]);
}

# The header of a payload, and a payload with a new header and signature.
sub header_of { return substr(shift, 8, 172); }
sub with_header
{
	my ($payload, $header, $signature) = @_;
	my $p = $payload;
	substr($p, 8, 172) = $header;
	substr($p, 8 + 172 + 1 + 32, 64) = $signature if defined $signature;
	return $p;
}

# Sign a header as A's key would, with the openssl command.
my $a_key_file = $a->data_dir . '/medchain_node.key';
sub sign_as_a
{
	my ($header) = @_;
	my $height = substr($header, 8, 8);
	my $chain = pack('H*', $chain_id);
	my $message = "MEDCHAIN-BLOCK-SIGNATURE-V1\0" . $chain . $height . sha256($header);
	my ($fh, $file) = tempfile(UNLINK => 1);
	binmode $fh;
	print $fh $message;
	close $fh;
	my $signature = `openssl pkeyutl -sign -rawin -inkey '$a_key_file' -in '$file'`;
	die "openssl could not sign" unless length($signature) == 64;
	return $signature;
}

# ---------- add_peer ----------

my ($rc, $out, $err) = $b->psql('postgres',
	"SELECT medchain.add_peer('a', 'host=localhost password=secret', '$a_key')");
like($err, qr/a peer conninfo may not hold a password/, 'a conninfo with a password is refused');
($rc, $out, $err) = $b->psql('postgres', "SELECT medchain.add_peer('a', 'nonsense', '$a_key')");
like($err, qr/invalid peer conninfo/, 'a conninfo libpq cannot parse is refused');
($rc, $out, $err) = $b->psql('postgres', "SELECT medchain.add_peer('a', 'host=localhost', 'abcd')");
like($err, qr/invalid peer public key/, 'a key that is not 32 bytes of hex is refused');
my $b_key = $b->safe_psql('postgres', q{SELECT medchain.node_identity()->>'public_key'});
($rc, $out, $err) = $b->psql('postgres', "SELECT medchain.add_peer('self', 'host=localhost', '$b_key')");
like($err, qr/is this node's own key/, "a node's own key is refused");
($rc, $out, $err) = $b->psql('postgres',
	"SET ROLE somebody; SELECT medchain.add_peer('a', 'host=localhost', '$a_key')");
like($err, qr/permission denied/, 'only medchain_admin adds peers');

# ---------- blocks from a signer that is not a registered peer ----------

my @all = payloads_of_a(0, 100);
is(scalar(@all), $a_height + 1, 'block_payloads() lists every block of A');
like(deliver($all[0]), qr/^0\|rejected\|its signer key [0-9a-f]{64} is not the key of a registered peer$/,
	'before A is a peer, its genesis block is refused');

my $conninfo = $a->connstr('postgres');
$conninfo =~ s/'//g;
my $fingerprint = $b->safe_psql('postgres', $hostile . "SELECT medchain.add_peer('a', '$conninfo', '$a_key')",
	extra_params => [ '-U', 'dba_alice' ]);
like($fingerprint, qr/^[0-9a-f]{64}$/, 'a medchain_admin who is no superuser adds a peer: the fingerprint of its key');
($rc, $out, $err) = $b->psql('postgres', "INSERT INTO medchain.peers VALUES ('x', '\\x00', '\\x00', 'host=x')",
	extra_params => [ '-U', 'dba_alice' ]);
like($err, qr/permission denied for table peers/, 'but writes medchain.peers only through add_peer()');
my $other_key = 'ab' x 32;
($rc, $out, $err) = $b->psql('postgres', "SELECT medchain.add_peer('a', 'host=localhost', '$other_key')");
like($err, qr/peer "a" already exists/, 'a name is registered once');
($rc, $out, $err) = $b->psql('postgres', "SELECT medchain.add_peer('a2', 'host=localhost', '$a_key')");
like($err, qr/already registered as peer "a"/, 'a key is registered once');

# ---------- blocks that follow ----------

is(deliver(@all[0 .. 2]), "0|stored|\n1|stored|\n2|stored|", 'blocks 0 to 2 are checked and kept');
is(deliver(@all[1 .. 2]), "1|duplicate|\n2|duplicate|", 'sent again, they are duplicates');
like(deliver($all[4]), qr/^4\|gap\|this node holds the chain up to height 2$/,
	'a block that does not come next is a gap, and not kept');

# ---------- blocks that break a rule ----------

my $next = $all[3];
my $bad_signature = $next;
substr($bad_signature, 8 + 172 + 1 + 32 + 63, 1) ^= "\x01";
like(deliver($bad_signature), qr/^3\|rejected\|.*signature/, 'a bad signature is refused');

my $bad_merkle = $next;
substr($bad_merkle, length($bad_merkle) - 1, 1) ^= "\x01";
like(deliver($bad_merkle), qr/^3\|rejected\|its entry hashes do not give its merkle_root$/,
	'entry hashes that do not give the Merkle root are refused');

my $header = header_of($next);
my $wrong_prev = $header;
substr($wrong_prev, 16, 1) ^= "\x01";
like(deliver(with_header($next, $wrong_prev, sign_as_a($wrong_prev))), qr/^3\|rejected\|.*prev_hash/,
	'a wrong prev_hash is refused, even signed by the peer');

# too little work: a nonce whose hash misses the 4 leading zero bits
my $lazy = $header;
for my $nonce (1 .. 100)
{
	substr($lazy, 164, 8) = pack('Q>', $nonce);
	last if (ord(substr(sha256($lazy), 0, 1)) & 0xf0) != 0;
}
like(deliver(with_header($next, $lazy, sign_as_a($lazy))), qr/^3\|rejected\|.*leading zero bits/,
	'too little work is refused, even signed by the peer');

like(deliver("not a payload"), qr/^\|rejected\|malformed payload: it does not begin with the magic MCR1$/,
	'a malformed payload is refused');

is($b->safe_psql('postgres', 'SELECT count(*) FROM medchain.peer_blocks'), '3',
	'nothing refused was kept as a block');
is($b->safe_psql('postgres', 'SELECT count(*), sum(times) FROM medchain.rejected_blocks'), '6|6',
	'each refusal is kept as evidence with its payload');
deliver($bad_signature);
is($b->safe_psql('postgres', 'SELECT count(*), sum(times) FROM medchain.rejected_blocks'), '6|7',
	'the same payload refused again is counted, not kept twice');
like($b->safe_psql('postgres', q{SELECT sent_by FROM medchain.rejected_blocks LIMIT 1}),
	qr/^hospital_a_login$/, 'the evidence names the login that delivered it');

# ---------- the rest, then an equivocation ----------

is(deliver(@all[3 .. $#all]), join("\n", map { "$_|stored|" } 3 .. $a_height),
	'the rest of the chain is kept');
# another sealed_at, mined to A's difficulty of 4 bits
my $other = $header;
substr($other, 80, 8) = pack('Q>', unpack('Q>', substr($other, 80, 8)) + 1);
for my $nonce (0 .. 100000)
{
	substr($other, 164, 8) = pack('Q>', $nonce);
	last if (ord(substr(sha256($other), 0, 1)) & 0xf0) == 0;
}
like(deliver(with_header($next, $other, sign_as_a($other))),
	qr/^3\|equivocation\|block [0-9a-f]{64} is validly signed, and this node holds block [0-9a-f]{64} at height 3$/,
	'a second validly signed block at a held height is an equivocation');
is($b->safe_psql('postgres', q{
	SELECT count(*), bool_and(sha256(held_header) <> other_hash AND sha256(other_header) = other_hash)
	  FROM medchain.equivocations WHERE height = 3}), '1|t',
	'both signed headers are kept as evidence');

# ---------- what B holds, and who may read it ----------

is($b->safe_psql('postgres', qq{
	SELECT count(*), bool_and(sha256(header) = block_hash), min(height), max(height)
	  FROM medchain.peer_blocks WHERE chain_id = '\\x$chain_id'}),
	"@{[$a_height + 1]}|t|0|$a_height", "B holds A's whole chain, each header hashing to its block_hash");
is($b->safe_psql('postgres', q{
	SELECT count(*) FROM medchain.peer_blocks
	 WHERE octet_length(entry_hashes) <> 32 * (get_byte(header, 88) * 16777216 + get_byte(header, 89) * 65536
		   + get_byte(header, 90) * 256 + get_byte(header, 91))}), '0',
	'each block keeps its entry hashes, 32 bytes each');

($rc, $out, $err) = $b->psql('postgres', 'SET ROLE hospital_a_login; SELECT count(*) FROM medchain.peer_blocks');
like($err, qr/permission denied/, "a peer's login reads none of this node's tables");
($rc, $out, $err) = $b->psql('postgres',
	"SET ROLE somebody; SELECT * FROM medchain.receive_blocks('\\x$chain_id', ARRAY[]::bytea[])");
like($err, qr/permission denied/, 'only medchain_peer and medchain_admin may deliver blocks');

my $a_user = 'dr_gregory_house';
my $held = $b->safe_psql('postgres', q{SELECT string_agg(t, ' ') FROM (
	SELECT p::text AS t FROM medchain.peer_blocks p UNION ALL
	SELECT r::text FROM medchain.rejected_blocks r UNION ALL
	SELECT e::text FROM medchain.equivocations e UNION ALL
	SELECT encode(p.header || p.entry_hashes, 'escape') FROM medchain.peer_blocks p) x});
unlike($held, qr/MRN-SECRET|diagnosis kept|patient_notes|\Q$a_user\E/,
	'no row value, row key, relation name or user name of A is held by B');
unlike(join('', @all), qr/MRN-SECRET|diagnosis|patient_notes|\Q$a_user\E/,
	'the payloads carry none of them either');

# ---------- arguments that are not what the functions take ----------

($rc, $out, $err) = $b->psql('postgres', q{SELECT * FROM medchain.receive_blocks('\x0102', ARRAY[]::bytea[])});
like($err, qr/invalid chain id of 2 bytes/, 'a chain id that is not 32 bytes is refused');
($rc, $out, $err) = $b->psql('postgres',
	"SELECT * FROM medchain.receive_blocks('\\x$chain_id', array_fill('\\x00'::bytea, ARRAY[1001]))");
like($err, qr/ERROR:  too many payloads in one delivery: 1001/, 'a delivery of more than 1,000 payloads is refused whole');
($rc, $out, $err) = $b->psql('postgres',
	"SELECT * FROM medchain.receive_blocks('\\x$chain_id', ARRAY[ARRAY['\\x00'::bytea]])");
like($err, qr/payloads must be a one-dimensional array/, 'payloads in two dimensions are refused');
($rc, $out, $err) = $b->psql('postgres',
	"SELECT * FROM medchain.receive_blocks('\\x$chain_id', ARRAY['\\x00'::bytea, NULL])");
like($err, qr/payload 2 is NULL/, 'a NULL payload is refused, by its place');
is($b->safe_psql('postgres', "SELECT count(*) FROM medchain.receive_blocks('\\x$chain_id', ARRAY[]::bytea[])"),
	'0', 'an empty delivery answers nothing');
($rc, $out, $err) = $b->psql('postgres',
	"BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM medchain.receive_blocks('\\x$chain_id', ARRAY[]::bytea[])");
like($err, qr/runs only at READ COMMITTED/, 'deliveries run at READ COMMITTED, to see the chain after the lock');
($rc, $out, $err) = $a->psql('postgres', 'SELECT medchain.block_payloads(-1, 10)');
like($err, qr/invalid range of blocks: from height -1, at most 10/, 'a negative height is refused');
($rc, $out, $err) = $a->psql('postgres', 'SELECT medchain.block_payloads(0, 0)');
like($err, qr/invalid range of blocks/, 'asking for no block is refused');
is($a->safe_psql('postgres', "SELECT count(*) FROM medchain.block_payloads($a_height + 1, 10)"), '0',
	'above the head there is no payload');
# A superuser's edits, rolled back: no payload is made of what they alter.
($rc, $out, $err) = $a->psql('postgres', q{BEGIN;
	UPDATE medchain.journal SET entry_hash = sha256(entry_hash) WHERE block_height = 2;
	SELECT medchain.block_payloads(2, 1)});
like($err, qr/ERROR:  the entries of block 2 do not match its header/,
	'entries altered in place give no payload');
($rc, $out, $err) = $a->psql('postgres', q{BEGIN;
	UPDATE medchain.blocks SET signature = NULL WHERE height = 1;
	SELECT medchain.block_payloads(1, 1)});
like($err, qr/ERROR:  signed block 1 has no signer key or signature of the right size/,
	'nor does a signed block stripped of its signature');
($rc, $out, $err) = $a->psql('postgres',
	"CREATE ROLE nobody_special LOGIN; SET ROLE nobody_special; SELECT medchain.block_payloads(0, 1)");
like($err, qr/permission denied/, 'payloads are for auditors and admins');

# B holds two validly signed blocks of A's chain at one height: whatever
# the nodes answer, its consensus check says equivocation.  B reaches A
# with a superuser's login, which medchain refuses: A counts as
# unreachable.
is($b->safe_psql('postgres', q{SELECT origin || ':' || verdict || ':' || agreeing || ':' || unreachable
		FROM medchain.consensus_check()}, extra_params => [ '-U', 'dba_alice' ]),
	'a:equivocation:1:1', "B's consensus check says equivocation for A's chain");
my $b_conninfo = $b->connstr('postgres') =~ s/'//gr;
$a->safe_psql('postgres', "SELECT medchain.add_peer('b', '$b_conninfo', '$b_key')");
is($a->safe_psql('postgres', q{SELECT status || ': ' || error FROM medchain.replicate_now()}),
	"unreachable: the peer's login is a superuser: a peer connects with a role that is a member of medchain_peer and nothing more",
	'a peer login that is a superuser is refused: a conninfo written by medchain_admin gives no superuser session');

($rc, $out, $err) = $b->psql('postgres', "SELECT medchain.remove_peer('nobody')");
like($err, qr/peer "nobody" does not exist/, 'removing an unknown peer is an error');
$b->safe_psql('postgres', $hostile . "SELECT medchain.remove_peer('a')", extra_params => [ '-U', 'dba_alice' ]);
is($b->safe_psql('postgres', 'SELECT count(*) FROM medchain.peer_directory'), '0', 'A is forgotten');
is($b->safe_psql('postgres', 'SELECT count(*) > 0 FROM medchain.peer_blocks'), 't',
	'and the copy of its chain stays');

done_testing();
