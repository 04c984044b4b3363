# The upgrade from 1.2: a database made by medchain 1.2 (the dump in
# test/fixtures/v1_2_database.sql, made on top of the 1.1 one as
# v1_2_database.make.sql describes: blocks of formats 1 and 2, entries
# pending in batches and in the queue, tables enabled under 1.2, one of
# them concurrently, and the digests and proofs of 1.0, 1.1 and 1.2 kept
# in public.kept_evidence*) is restored with the extension at version 1.2
# and updated.  Before the update the newer library records rows and
# verifies, but refuses to seal.  After it the extension is the one a new
# installation makes, object for object (compared through the catalogs,
# test/extension_catalog.sql); the old blocks are unchanged, unsigned and
# valid; every kept digest and proof still verifies; the next block is a
# signed block of format 3 on top of the 1.2 chain, which announces the
# node's key and seals each entry pending from 1.2 exactly once.  Above
# it, an unsigned block is block_unsigned and a forged signature
# signature_invalid.  A dump of the upgraded database restores and
# verifies, and is again what a new installation makes.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use JSON::PP qw(decode_json);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{TESTDIR}/test/lib";
use MedchainTest;

my $root = $ENV{TESTDIR};
my $node = PostgreSQL::Test::Cluster->new('upgrade_1_2');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\nmedchain.difficulty = 8");
$node->start;
my $key_file = $node->data_dir . '/medchain_node.key';
$node->safe_psql('postgres', 'CREATE DATABASE ehr12');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('ehr12'),
		'-f', "$root/test/fixtures/v1_2_database.sql" ],
	'the 1.2 database restores with the extension at version 1.2');

sub query { my ($sql, $db) = @_; return $node->safe_psql($db // 'ehr12', $sql); }
sub quoted { my $s = shift; $s =~ s/'/''/g; return "'$s'"; }

is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), '1.2',
	'the extension is at version 1.2');

# ---------- what the fixture holds, and what the update must not change ----------

my $all_active = 'cdm.measurement, cdm.person, public.imaging_orders, public.lab_results, '
  . 'public.reenabled, public.typed, public.vital_signs';
is(query(q{SELECT string_agg(relation, ', ' ORDER BY relation) FROM medchain.ledger_tables}), $all_active,
	'seven ledger tables');
my $head = query('SELECT max(height) FROM medchain.blocks');
is($head, '5', 'the 1.2 chain is six blocks high');
is(query(q{SELECT string_agg(format_version::text, ',' ORDER BY height) FROM medchain.blocks}),
	'1,1,2,2,2,2', 'blocks of formats 1 and 2');

my %evidence;
foreach my $table ('kept_evidence', 'kept_evidence_1_1', 'kept_evidence_1_2')
{
	$evidence{$table} = { map { split /\|/, $_, 2 } split /\n/,
		query("SELECT name || '|' || doc::text FROM public.$table") };
}
is(join(',', map { scalar(keys %{ $evidence{$_} }) } sort keys %evidence), '4,5,9',
	'the kept digests and proofs of 1.0, 1.1 and 1.2 are there');

# The library is newer, the objects 1.2: rows are still recorded.
query(q{INSERT INTO public.vital_signs VALUES (5000, 3, 'pulse', 64, '2026-12-03 07:00+00')});
is(query(q{SELECT concat_ws(':', kind, format_version, block_height IS NULL,
				sha256(medchain.row_encoding('public.vital_signs', row_key)) = row_hash)
			 FROM medchain.entries WHERE relation = 'public.vital_signs' AND row_key = '{"vital_id": 5000}'}),
	'insert:2:t:t', 'before the update an insert is recorded, pending, format 2');

# Entries waiting to be sealed: the queue's events and the batches' rows
# of 1.2, and the one just recorded; their hashes as they are now.
my $pending_query = q{
	SELECT string_agg(entry_id || ':' || encode(entry_hash, 'hex'), ',' ORDER BY entry_id)
	  FROM medchain.entries WHERE block_height IS NULL};
my $pending = query($pending_query);
my @pending = split /,/, $pending;
is(query('SELECT count(*) FROM medchain.pending') . ','
	. query('SELECT sum(entry_count) FROM medchain.entry_batches'),
	'2,163', 'two events wait in the queue, 163 row entries in batches');
is(scalar(@pending), 2 + 163, 'all of them pending');

# The newer library refuses to seal into 1.2's blocks, and says why; it
# still verifies.
my ($ret, $stdout, $stderr) = $node->psql('ehr12', 'SELECT medchain.seal()');
isnt($ret, 0, 'seal() fails before the update');
like($stderr, qr/medchain's objects in this database are older than its library/, 'and says why');
like($stderr, qr/HINT:  Run ALTER EXTENSION medchain UPDATE in this database/, 'and what to do');
is(query('SELECT max(height) FROM medchain.blocks'), $head, 'no block was sealed');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean before the update');
is(query('SELECT medchain.digest() = ' . quoted($evidence{kept_evidence_1_2}{digest}) . '::jsonb'), 't',
	'digest() gives the head\'s digest as 1.2 kept it');

# What the update must leave as it is: the blocks, the sealed entries,
# the export of the old chain, the triggers of the ledger tables.
my $blocks_query = q{SELECT string_agg(b::text, E'\n' ORDER BY height) FROM
	(SELECT height, format_version, prev_hash, merkle_root, entry_count, sealed_at, difficulty,
			node_name, nonce, block_hash, first_entry_id, last_entry_id, min_difficulty
	   FROM medchain.blocks WHERE height <= 5) b};
# the columns of 1.2: later versions add lookup aids (key_hash, 1.5)
my $journal_query = q{SELECT count(*) || ' ' || md5(string_agg(j::text, E'\n' ORDER BY entry_id))
	FROM (SELECT entry_id, relation, row_key, row_hash, entry_hash, kind, recorded_by, recorded_at,
				 xact, detail, block_height, leaf_index, format_version, enablement_id
			FROM medchain.journal WHERE block_height <= 5) j};
my $export_query = q{SELECT string_agg(x::text, E'\n' ORDER BY (x->>'height')::bigint)
	FROM medchain.export_chain() x WHERE (x->>'height')::bigint <= 5};
my $triggers_query = q{SELECT string_agg(concat_ws(':', t.tgrelid::regclass, t.tgname, t.tgtype,
		t.tgfoid::regproc, t.tgenabled, t.tgnewtable), ',' ORDER BY t.tgrelid::regclass::text, t.tgname)
	FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	WHERE NOT t.tgisinternal AND c.relnamespace <> 'medchain'::regnamespace};
my %before = map { $_->[0] => query($_->[1]) }
	[ blocks => $blocks_query ], [ journal => $journal_query ], [ export => $export_query ],
	[ triggers => $triggers_query ];
my $sealed = query('SELECT sum(entry_count) FROM medchain.blocks');
is($sealed, 1051, 'the six blocks hold 1,051 entries');
like($before{journal}, qr/^$sealed /, 'all of them in the journal');
is(scalar(() = $before{triggers} =~ /,/g) + 1, 21, 'three triggers on each ledger table');

# ---------- the update ----------

$node->safe_psql('ehr12', 'ALTER EXTENSION medchain UPDATE');
my $current = current_version();
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}), $current,
	"ALTER EXTENSION UPDATE reaches $current, through 1.3");

# ---------- the same extension as a new installation ----------

# A new installation in another database of the cluster; both listed by
# test/extension_catalog.sql, section by section.
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION medchain');
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}, 'fresh'), $current,
	"a new installation is at version $current");

my $catalog_sql = catalog_query();

my $fresh = catalog_of($node, 'fresh');
my $upgraded = catalog_of($node, 'ehr12');

# The listing sees the extension, 1.3's objects included, in every section
# it has objects in.
foreach my $section (grep { $_ ne 'rules' && $_ ne 'types' } @catalog_sections)
{
	cmp_ok(scalar(@{ $fresh->{$section} }), '>', 0, "the listing of a new installation has $section");
}
my $fresh_text = join("\n", map { @{ $fresh->{$_} } } @catalog_sections);
like($fresh_text, qr/^members \| function medchain\.node_identity\(\) \| member/m, 'node_identity() among the members');
like($fresh_text, qr/^members \| function medchain\.retire_node_key\(pg_catalog\.text,pg_catalog\.text\) \| member/m,
	'retire_node_key() too');
like($fresh_text, qr/^columns \| medchain\.blocks \| column 017 \| signature bytea /m,
	'blocks.signature among the columns');
like($fresh_text, qr/^config \| extension medchain \| dumped with the data \| medchain\.blocks where ''$/m,
	'medchain.blocks among the tables dumped with their rows');
unlike($fresh_text, qr/in the schema, not a member/, 'every object of the schema belongs to the extension');

same_catalog('new_installation', $fresh, 'upgraded', $upgraded,
	'the upgraded extension is the one a new installation makes, in every section');

# The comparison sees a difference in each section: a new installation
# edited in a transaction rolled back, one change per section.
my $edited = catalog_of($node, 'fresh', q{
	BEGIN;
	UPDATE pg_catalog.pg_description SET description = description || ' (edited)'
	 WHERE classoid = 'pg_proc'::regclass AND objoid = 'medchain.seal(integer)'::regprocedure;
	UPDATE pg_catalog.pg_proc SET provolatile = 's' WHERE oid = 'medchain.retire_node_key(text, text)'::regprocedure;
	GRANT SELECT ON medchain.pending TO PUBLIC;
	UPDATE pg_catalog.pg_attribute SET attstorage = 'm'
	 WHERE attrelid = 'medchain.blocks'::regclass AND attname = 'signature';
	UPDATE pg_catalog.pg_extension
	   SET extconfig = ARRAY(SELECT c FROM unnest(extconfig, extcondition) u(c, w)
								WHERE c <> 'medchain.blocks'::regclass),
		   extcondition = ARRAY(SELECT w FROM unnest(extconfig, extcondition) u(c, w)
								   WHERE c <> 'medchain.blocks'::regclass)
	 WHERE extname = 'medchain';
	CREATE FUNCTION medchain.stray() RETURNS int LANGUAGE sql AS 'SELECT 1';
	UPDATE pg_catalog.pg_index SET indisclustered = true WHERE indexrelid = 'medchain.blocks_pkey'::regclass;
	UPDATE pg_catalog.pg_constraint SET condeferrable = true WHERE conname = 'ledger_registry_released_has_no_relid';
	UPDATE pg_catalog.pg_event_trigger SET evtenabled = 'O' WHERE evtname = 'medchain_guard_drop';
	UPDATE pg_catalog.pg_policy SET polpermissive = false WHERE polname = 'registry_readable';
	UPDATE pg_catalog.pg_class SET reloptions = NULL WHERE oid = 'medchain.journal'::regclass;
	CREATE OR REPLACE VIEW medchain.ledger_tables AS SELECT * FROM medchain.ledger_tables;
} . $catalog_sql . ";\nROLLBACK;");
my ($differ) = catalog_diff('new_installation', $fresh, 'edited', $edited);
is("@$differ", 'members config privileges comments functions views relations columns constraints indexes triggers policies',
	'the comparison sees an edit in each section');
same_catalog('new_installation', $fresh, 'rolled_back', catalog_of($node, 'fresh'),
	'and the edits were rolled back');

# ---------- after the update, before the first signed block ----------

is(query($blocks_query), $before{blocks}, 'the blocks of 1.2 are unchanged');
is(query(q{SELECT count(*) FROM medchain.blocks
			WHERE chain_id IS NULL AND node_id IS NULL AND signer_key IS NULL AND signature IS NULL}),
	'6', 'and unsigned: the new columns are NULL');
is(query($journal_query), $before{journal}, 'the sealed entries are unchanged');
is(query($export_query), $before{export}, 'the export of the old chain is the same');
is(query($triggers_query), $before{triggers}, 'the triggers of the ledger tables are unchanged');
is(query($pending_query), $pending, 'the pending entries are unchanged');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after the update');
foreach my $relation (split /, /, $all_active)
{
	is(query("SELECT count(*) FROM medchain.verify('$relation')"), '0', "verify('$relation') is clean");
}
is(query('SELECT medchain.digest() = ' . quoted($evidence{kept_evidence_1_2}{digest}) . '::jsonb'), 't',
	'digest() still gives the kept 1.2 digest');

# Every kept digest and proof, unanchored and anchored in the digest kept
# with it.
sub check_evidence
{
	my ($when) = @_;
	foreach my $table (sort keys %evidence)
	{
		my $set = $evidence{$table};
		my $digest = quoted($set->{digest});
		is(query("SELECT medchain.verify_digest($digest)"), 't', "$when: the digest of $table holds");
		foreach my $name (sort grep { $_ ne 'digest' } keys %$set)
		{
			my $proof = quoted($set->{$name});
			is(query("SELECT medchain.verify_proof($proof)"), 't', "$when: $table '$name' verifies");
			next unless $name =~ /anchored/;
			is(query("SELECT medchain.verify_proof($proof, $digest)"), 't',
				"$when: $table '$name' is anchored in the digest");
		}
	}
}
check_evidence('after the update');

# ---------- the first signed block ----------

my $height = query('SELECT medchain.seal()');
is($height, $head + 1, 'seal() makes the next block');
ok(-f $key_file, 'the node key file is in the data directory');
is(sprintf('%04o', (stat($key_file))[2] & 07777), '0600', 'with mode 0600');
my $identity = query('SELECT medchain.node_identity()');
my ($public_key) = $identity =~ /"public_key": "([0-9a-f]{64})"/;
my ($fingerprint) = $identity =~ /"fingerprint": "([0-9a-f]{64})"/;
ok($public_key && $fingerprint eq sha256_hex(pack('H*', $public_key)),
	'node_identity() gives the key and its fingerprint');
my $genesis = query(q{SELECT encode(block_hash, 'hex') FROM medchain.blocks WHERE height = 0});
like($identity, qr/"chain_id": "$genesis"/, 'the chain id is the hash of the 1.0 genesis block');

is(query(qq{SELECT concat_ws(',', b.format_version, b.difficulty >= 8, b.min_difficulty, b.entry_count,
				b.prev_hash = p.block_hash, b.chain_id = g.block_hash,
				encode(b.node_id, 'hex'), encode(b.signer_key, 'hex'), length(b.signature))
			  FROM medchain.blocks b, medchain.blocks p, medchain.blocks g
			 WHERE b.height = $height AND p.height = $head AND g.height = 0}),
	join(',', 3, 't', 8, scalar(@pending) + 1, 't', 't', $fingerprint, $public_key, 64),
	'a signed format 3 block at the floor, linked to the last 1.2 block, on the chain of the 1.0 genesis, '
	  . 'signed by the node key, holding the pending entries and the announcement');

# The announcement: one node_key event of medchain.blocks, in this block.
is(query(q{SELECT concat_ws(',', count(*), string_agg(concat_ws(':', kind, detail->>'action', block_height,
				enablement_id, format_version, detail->>'public_key', detail->>'fingerprint',
				(detail->>'node_name' = (SELECT node_name FROM medchain.blocks ORDER BY height DESC LIMIT 1))::text), ','))
			 FROM medchain.entries WHERE relation = 'medchain.blocks'}),
	"1,event:node_key:$height:0:2:$public_key:$fingerprint:true",
	'the block announces the node key, once: a node_key event of medchain.blocks');

# Each entry pending before the update is sealed in it, once, unchanged.
is(query(qq{SELECT string_agg(entry_id || ':' || encode(entry_hash, 'hex'), ',' ORDER BY entry_id)
			  FROM medchain.journal WHERE block_height = $height AND relation <> 'medchain.blocks'}),
	$pending, 'the block seals exactly the entries pending before the update, with their hashes');
is(query(q{SELECT count(*) FROM (SELECT entry_id FROM medchain.entries GROUP BY entry_id HAVING count(*) > 1) d}),
	'0', 'no entry is there twice');
is(query(qq{SELECT count(*) FROM medchain.journal WHERE entry_id = ANY ('{}'::bigint[]
			|| ARRAY[@{[ join(',', map { (split /:/)[0] } @pending) ]}]) AND block_height = $height}),
	scalar(@pending), 'each in the journal once, in the block');
is(query(q{SELECT (SELECT count(*) FROM medchain.pending) || ',' || (SELECT count(*) FROM medchain.entry_batches)
			|| ',' || (SELECT count(*) FROM medchain.entries WHERE block_height IS NULL)}),
	'0,0,0', 'nothing is left pending, in the queue or in batches');
is(query('SELECT medchain.seal()'), '', 'another seal() finds nothing to seal');

# The header, built in SQL from FORMAT.md, hashes to block_hash; the
# signature verifies outside medchain, with the openssl command.
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('ehr12'),
	'-f', "$root/test/fixtures/forge.sql" ], 'the forging functions are loaded');
is(query(qq{SELECT length(forge.header(b)) || ',' || (sha256(forge.header(b)) = b.block_hash)::text
			  FROM medchain.blocks b WHERE height = $height}), '172,true',
	'the 172-byte MCB3 header hashes to the block hash');
is(query(q{SELECT string_agg((sha256(forge.header(b)) = b.block_hash)::text, ',' ORDER BY height)
			 FROM medchain.blocks b WHERE height <= 5}), 'true,true,true,true,true,true',
	'and the headers of the old blocks, formats 1 and 2, to theirs');
my ($message, $signature) = split /\|/, query(qq{SELECT encode(forge.signed_message(b), 'hex') || '|'
		|| encode(b.signature, 'hex') FROM medchain.blocks b WHERE b.height = $height});
is(length($message), 200, 'the signed message is 100 bytes');
my $dir = $node->basedir;
{
	# The block's own signer key as a DER SubjectPublicKeyInfo.
	my %file = (key => pack('H*', '302a300506032b6570032100' . $public_key),
		message => pack('H*', $message), signature => pack('H*', $signature));
	foreach my $name (keys %file)
	{
		open(my $fh, '>:raw', "$dir/block.$name") or die "cannot write $dir/block.$name: $!";
		print $fh $file{$name};
		close($fh);
	}
	my ($out, $err);
	IPC::Run::run([ 'openssl', 'pkeyutl', '-verify', '-pubin', '-keyform', 'DER', '-inkey', "$dir/block.key",
		'-rawin', '-in', "$dir/block.message", '-sigfile', "$dir/block.signature" ], '>', \$out, '2>', \$err);
	like($out, qr/Signature Verified Successfully/, 'openssl verifies the signature under the block\'s signer key')
	  or diag($out . $err);
}

is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean after the first signed block');
check_evidence('above the first signed block');

# A later block: signed, without a second announcement.
query(q{INSERT INTO public.lab_results VALUES (9001, 2, '2345-7', 91, '2026-12-03 08:00+00')});
my $next = query('SELECT medchain.seal()');
is($next, $height + 1, 'the next block is sealed');
is(query(qq{SELECT concat_ws(',', b.format_version, b.entry_count, b.prev_hash = p.block_hash,
				b.chain_id = g.block_hash, encode(b.signer_key, 'hex'))
			  FROM medchain.blocks b, medchain.blocks p, medchain.blocks g
			 WHERE b.height = $next AND p.height = $height AND g.height = 0}),
	"3,1,t,t,$public_key", 'signed by the same key, on the same chain, holding the one new entry');
is(query(q{SELECT count(*) FROM medchain.entries WHERE relation = 'medchain.blocks'}), '1',
	'the key is not announced again');
is(query($blocks_query), $before{blocks}, 'the blocks of 1.2 are still unchanged');
is(query($export_query), $before{export}, 'and so is their export');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean');

# Proofs anchored in a digest of the new head: their headers run from
# formats 1 and 2 into 3.
my $digest = query('SELECT medchain.digest()');
my $d = decode_json($digest);
is(join(',', map { $d->{$_} } qw(format_version height chain_id signer_key)), "3,$next,$genesis,$public_key",
	'the digest of the new head is format 3, with the chain id and the signer key');
like($d->{signature}, qr/^[0-9a-f]{128}$/, 'and the signature');
my $anchored = quoted($digest);
is(query("SELECT medchain.verify_digest($anchored)"), 't', 'and holds');
foreach my $case (
	[ q{medchain.proof('cdm.person', '{"person_id": 3}')}, 'a row sealed by 1.0 in a format 1 block' ],
	[ q{medchain.proof('public.lab_results', '{"result_id": 120}')}, 'a row sealed by 1.2 in a format 2 block' ],
	[ q{medchain.proof('public.vital_signs', '{"vital_id": 1001}')}, 'a row batched under 1.2' ],
	[ q{medchain.proof('public.vital_signs', '{"vital_id": 5000}')}, 'the row recorded before the update' ],
	[ q{medchain.event_proof(1035)}, 'an event queued under 1.2' ],
	[ q{medchain.event_proof((SELECT entry_id FROM medchain.entries WHERE relation = 'medchain.blocks'))},
		'the key\'s announcement' ],
	[ q{medchain.proof('public.lab_results', '{"result_id": 9001}')}, 'a row recorded after the update' ])
{
	my ($proof, $what) = @$case;
	is(query("SELECT medchain.verify_proof($proof, $anchored)"), 't', "$what has a proof anchored in it");
}

# The outside verifier accepts the whole chain, formats 1, 2 and 3.
PostgreSQL::Test::Utils::append_to_file("$dir/chain.jsonl", query('SELECT x FROM medchain.export_chain() x') . "\n");
PostgreSQL::Test::Utils::append_to_file("$dir/digest.json", query('SELECT medchain.digest()') . "\n");
my ($verifier_out, $verifier_err);
IPC::Run::run([ 'python3', "$root/verifier/medchain_verify.py", 'chain', "$dir/chain.jsonl",
	'--digest', "$dir/digest.json" ], '>', \$verifier_out, '2>', \$verifier_err);
my $verifier_rc = $? >> 8;
ok($verifier_rc == 0 && $verifier_out =~ /valid chain of 8 blocks/,
	'the outside verifier accepts the upgraded chain and its digest')
  or diag("exit $verifier_rc:\n$verifier_out$verifier_err");

# ---------- tampering above the first signed block ----------

# As a superuser going around medchain, in transactions rolled back.
sub findings_when
{
	my ($tamper, $extra) = @_;
	# The empty line of a forge function's void result is left out.
	return query(qq{BEGIN;
		$tamper;
		SELECT string_agg(finding || ' ' || block_height || ': ' || detail, E'\n' ORDER BY block_height, finding)
		  FROM medchain.verify();
		@{[ $extra // '' ]}
		ROLLBACK}) =~ s/\A\n+//r;
}
my $digest_1_2 = quoted($evidence{kept_evidence_1_2}{digest});

# The later block replaced by an unsigned block of format 2, re-mined.
is(findings_when(qq{UPDATE medchain.blocks SET format_version = 2, chain_id = NULL, node_id = NULL,
		signer_key = NULL, signature = NULL WHERE height = $next;
	SELECT forge.reseal($next, 8)}, "SELECT medchain.verify_digest($digest_1_2)"),
	"block_unsigned $next: block $next is an unsigned format 2 block above the signed block $height\nf",
	'an unsigned block above the first signed one is block_unsigned, and the kept 1.2 digest no longer holds');
# A bit of the first signed block's signature changed.
is(findings_when(qq{UPDATE medchain.blocks SET signature = set_byte(signature, 10, get_byte(signature, 10) # 1)
	WHERE height = $height}, "SELECT medchain.verify_digest($digest_1_2)"),
	"signature_invalid $height: block $height: its signature does not verify under its signer_key $public_key\nf",
	'a forged signature of the first signed block is signature_invalid, and the kept 1.2 digest no longer holds');
is(findings_when("UPDATE medchain.blocks SET signature = NULL WHERE height = $next"),
	"signature_invalid $next: block $next: it has no signature",
	'a signature removed is signature_invalid');
like(findings_when(qq{SELECT forge.reseal($next, 8, key_file => forge.new_key('forge_other.key'))}),
	qr/^signer_unknown $next: block $next: no node_key event sealed at or below block $next announces its signer key [0-9a-f]{64}$/,
	'a block signed by a key the chain never announced is signer_unknown');
# Every block sealed since the update turned into an unsigned block of
# format 2 and re-mined, the key's announcement left where it was: no
# key is needed for that.  A digest kept of a signed block tells, and so
# does the announcement: the chain is signed from the block that seals it
# (FORMAT.md, chain rule 6).
my @downgraded = split /\n/, findings_when(qq{UPDATE medchain.blocks SET format_version = 2, chain_id = NULL,
		node_id = NULL, signer_key = NULL, signature = NULL WHERE height >= $height;
	SELECT forge.reseal($height, 8);
	SELECT forge.reseal($next, 8)}, "SELECT 'digest holds: ' || medchain.verify_digest($anchored)"), -1;
is($downgraded[-1], 'digest holds: false',
	'the signed blocks re-mined unsigned: a digest kept of the signed head no longer holds');
is(join("\n", @downgraded[0 .. $#downgraded - 1]),
	join("\n", map { "block_unsigned $_: block $_ is an unsigned format 2 block at or above block $height, which seals the announcement of a node key: the chain is signed from there on" } ($height, $next)),
	'and verify() finds each re-mined block unsigned, from the block that seals the key\'s announcement on');
is(query('SELECT count(*) FROM medchain.verify()'), '0', 'verify() is clean again after the rollbacks');

# ---------- dump and restore ----------

my $dump = "$dir/ehr12.sql";
$node->command_ok([ 'pg_dump', '-N', 'forge', '-f', $dump, '-d', $node->connstr('ehr12') ],
	'pg_dump of the upgraded database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'the dump restores into a new database');
is(query(q{SELECT extversion FROM pg_extension WHERE extname = 'medchain'}, 'restored'), $current,
	"with the extension at $current");
my $all_blocks = q{SELECT string_agg(b::text, E'\n' ORDER BY height) FROM medchain.blocks b};
is(query($all_blocks, 'restored'), query($all_blocks), 'the blocks are restored byte for byte');
is(query('SELECT count(*) FROM medchain.verify()', 'restored'), '0', 'the restored database verifies clean');
like(query('SELECT medchain.node_identity()', 'restored'), qr/"chain_id": "$genesis"/,
	'on the same chain');
same_catalog('new_installation', $fresh, 'restored', catalog_of($node, 'restored'),
	'the restored extension is the one a new installation makes');
query(q{INSERT INTO public.lab_results VALUES (9002, 4, '2345-7', 77, '2026-12-03 09:00+00')}, 'restored');
is(query('SELECT medchain.seal()', 'restored'), $next + 1, 'the restored database seals the next block');
is(query(qq{SELECT format_version || ',' || encode(signer_key, 'hex') FROM medchain.blocks WHERE height = $next + 1},
		'restored') . ',' . query(q{SELECT count(*) FROM medchain.entries WHERE relation = 'medchain.blocks'}, 'restored'),
	"3,$public_key,1", 'signed by the node key, which the restored chain already knows');
is(query('SELECT count(*) FROM medchain.verify()', 'restored'), '0', 'and verifies clean');

$node->stop;
done_testing();
