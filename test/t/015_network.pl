# A network of three hospitals, each a real cluster with medchain's
# background processes: every node seals its own chain, its replicator
# sends each sealed block to the two others, which check it, keep a copy
# and sign a receipt that the origin keeps as a cosignature.
use strict;
use warnings;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my @names = qw(hospital_a hospital_b hospital_c);
my %node;
foreach my $name (@names)
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	# A's base backup, taken below, is restored at the end
	$n->init(allows_streaming => $name eq 'hospital_a');
	$n->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'medchain'
medchain.node_name = '$name'
medchain.difficulty = 8
medchain.block_max_entries = 10
medchain.seal_interval = '200ms'
medchain.replication_interval = '200ms'
medchain.consensus_interval = '500ms'
medchain.peer_timeout = '2s'
restart_after_crash = on
});
	$n->start;
	# each hospital has tables and clinicians of its own names
	$n->safe_psql('postgres', qq{
		CREATE EXTENSION medchain;
		CREATE TABLE public.admissions_$name (mrn text PRIMARY KEY, ward text, diagnosis text);
		SELECT medchain.enable('public.admissions_$name');
		CREATE ROLE peer_login LOGIN IN ROLE medchain_peer;
		CREATE ROLE dr_of_$name LOGIN;
		GRANT INSERT ON public.admissions_$name TO dr_of_$name;
	});
	$node{$name} = $n;
}
my ($a, $b, $c) = @node{@names};

sub conninfo_of
{
	my ($n) = @_;
	return sprintf('host=%s port=%d dbname=postgres user=peer_login', $n->host, $n->port);
}

sub key_of
{
	my ($n) = @_;
	return $n->safe_psql('postgres', q{SELECT medchain.node_identity()->>'public_key'});
}

sub chain_of
{
	my ($n) = @_;
	return $n->safe_psql('postgres', q{SELECT medchain.node_identity()->>'chain_id'});
}

# every node registers the two others
foreach my $name (@names)
{
	foreach my $other (grep { $_ ne $name } @names)
	{
		$node{$name}->safe_psql('postgres',
			sprintf(q{SELECT medchain.add_peer('%s', '%s', '%s')},
				$other, conninfo_of($node{$other}), key_of($node{$other})));
	}
}

# ---------- (a) sealed on each node, held by both others ----------
foreach my $name (@names)
{
	$node{$name}->safe_psql('postgres', qq{
		INSERT INTO public.admissions_$name
		SELECT 'MRN-$name-' || i, 'ward ' || i, 'secret diagnosis of $name ' || i
		  FROM generate_series(1, 20) i;
	}, extra_params => [ '-U', "dr_of_$name" ]);
}

# The height of a node's own chain once nothing is pending.
sub settled_head
{
	my ($n) = @_;
	$n->poll_query_until('postgres',
		q{SELECT pending_entries = 0 FROM medchain.chain_status})
	  or die 'entries were not sealed';
	return $n->safe_psql('postgres', 'SELECT max(height) FROM medchain.blocks');
}

# Does `holder` hold `origin`'s chain up to its head?
sub holds_chain_of
{
	my ($holder, $origin) = @_;
	my $chain = chain_of($origin);
	my $head = settled_head($origin);
	return $holder->poll_query_until('postgres', qq{
		SELECT coalesce(max(height), -1) = $head FROM medchain.peer_blocks
		 WHERE chain_id = '\\x$chain'});
}

foreach my $origin (@names)
{
	foreach my $holder (grep { $_ ne $origin } @names)
	{
		ok(holds_chain_of($node{$holder}, $node{$origin}),
			"$holder holds $origin\'s chain up to its newest block");
	}
}

# both peers cosign each block of A
my $a_head = settled_head($a);
ok($a->poll_query_until('postgres', qq{
	SELECT count(*) = 2 * ($a_head + 1) FROM medchain.cosignatures c
	  JOIN medchain.blocks b ON b.height = c.height AND b.block_hash = c.block_hash}),
	"each of A's blocks is cosigned by both peers");
# A's digest carries both receipts for its block: k-of-n in the database
# and in the outside verifier, with the hospitals' keys as the auditor
# knows them.
my $digest = $a->safe_psql('postgres', 'SELECT medchain.digest()');
is($a->safe_psql('postgres', qq{SELECT jsonb_array_length('$digest'::jsonb->'cosignatures')}), '2',
	"A's digest carries the cosignatures of both peers");
is($a->safe_psql('postgres', qq{SELECT medchain.verify_digest('$digest', 2) || ',' || medchain.verify_digest('$digest', 3)
	|| ',' || medchain.verify_digest('$digest')}),
	'true,false,true', 'verify_digest(d, 2) holds, verify_digest(d, 3) does not: there are two peers');
my $bad_cosignature = $a->safe_psql('postgres', qq{
	SELECT jsonb_set('$digest'::jsonb, '{cosignatures,0,signature}', to_jsonb(repeat('ab', 64)))});
is($a->safe_psql('postgres', qq{SELECT medchain.verify_digest('$bad_cosignature')}), 'f',
	'a digest whose cosignature was altered does not hold');
my $one_cosignature = $a->safe_psql('postgres', qq{
	SELECT jsonb_set('$digest'::jsonb, '{cosignatures}', ('$digest'::jsonb->'cosignatures') - 1)});
is($a->safe_psql('postgres', qq{SELECT medchain.verify_digest('$one_cosignature', 1) || ',' || medchain.verify_digest('$one_cosignature', 2)}),
	'true,false', 'a digest left with one cosignature holds for k = 1 only');
my $dir = PostgreSQL::Test::Utils::tempdir;
PostgreSQL::Test::Utils::append_to_file("$dir/digest.json", "$digest\n");
PostgreSQL::Test::Utils::append_to_file("$dir/chain.jsonl", $a->safe_psql('postgres', 'SELECT x FROM medchain.export_chain() x') . "\n");
my @known = map { ('--cosigner-key', key_of($_)) } ($b, $c);
foreach my $case ([ 2, 0, qr/valid chain of \d+ blocks, holding the digest's block \d+, cosigned by 2 of the 2 known keys/ ],
	[ 3, 1, qr/INVALID: the digest is cosigned by 2 of the known keys, fewer than 3/ ])
{
	my ($k, $rc, $out_re) = @$case;
	my ($out, $err);
	IPC::Run::run([ 'python3', "$ENV{TESTDIR}/verifier/medchain_verify.py", 'chain', "$dir/chain.jsonl",
		'--digest', "$dir/digest.json", @known, '--min-cosigners', $k ], '>', \$out, '2>', \$err);
	is($? >> 8, $rc, "the outside verifier with --min-cosigners $k exits $rc");
	like($out, $out_re, "and says so") or diag($err);
}

is($a->safe_psql('postgres', q{
	SELECT string_agg(peer || ':' || reachable || ':' || blocks_behind || ':' || last_status, ',' ORDER BY peer)
	  FROM medchain.peer_status}),
	'hospital_b:true:0:current,hospital_c:true:0:current',
	'peer_status: both peers reachable, nothing behind');
is($a->safe_psql('postgres', q{SELECT string_agg(process, ',' ORDER BY process) FROM medchain.worker_status WHERE pid IS NOT NULL}),
	'launcher,replicator,scrubber,worker', 'the replicator runs beside the worker and the scrubber');


# ---------- what the functions refuse ----------
my $b_chain = chain_of($b);
foreach my $case (
	[ $a, 'postgres', qq{SELECT medchain.verify_digest(medchain.digest(), -1)}, qr/ERROR:  min_cosigners must not be negative/ ],
	[ $b, 'peer_login', q{SELECT * FROM medchain.block_receipts('\x01', ARRAY[1::bigint])}, qr/ERROR:  invalid chain id of 1 bytes/ ],
	[ $b, 'peer_login', qq{SELECT * FROM medchain.block_receipts('\\x$b_chain', ARRAY(SELECT generate_series(1::bigint, 10001)))},
		qr/ERROR:  too many receipts asked for at once: 10001/ ],
	[ $b, 'peer_login', qq{SELECT * FROM medchain.held_payloads('\\x$b_chain', -1, 10)}, qr/ERROR:  invalid range of blocks: from height -1, at most 10/ ],
	[ $b, 'peer_login', qq{SELECT * FROM medchain.held_payloads('\\x$b_chain', 0, 1001)}, qr/ERROR:  invalid range of blocks: from height 0, at most 1001/ ],
	[ $b, 'peer_login', q{SELECT * FROM medchain.replicate_now()}, qr/ERROR:  permission denied for function replicate_now/ ],
	[ $b, 'peer_login', q{SELECT * FROM medchain.consensus_check()}, qr/ERROR:  permission denied for function consensus_check/ ],
	[ $b, 'peer_login', q{SELECT count(*) FROM medchain.peer_blocks}, qr/ERROR:  permission denied for table peer_blocks/ ])
{
	my ($n, $user, $sql, $re) = @$case;
	my ($rc, $out, $err) = $n->psql('postgres', $sql, extra_params => $user eq 'postgres' ? [] : [ '-U', $user ]);
	like($err, $re, $n->name . ": $sql is refused");
}

# A peer that claims more of A's chain than it can show stops nothing: a
# superuser on B slips in a block far above A's head.
my $a_chain_id = chain_of($a);
$b->safe_psql('postgres', qq{INSERT INTO medchain.peer_blocks
	SELECT chain_id, 999999, block_hash, header, signer_key, signature, entry_hashes, vouched_by, now()
	  FROM medchain.peer_blocks WHERE chain_id = '\\x$a_chain_id' ORDER BY height DESC LIMIT 1});
like($a->safe_psql('postgres', q{SELECT status || ': ' || error FROM medchain.replicate_now() WHERE peer = 'hospital_b'}),
	qr/^invalid: the peer says it holds this node's chain up to height 999999, but its block \d+ does not follow this node's chain: /,
	'a peer that claims a height above A\'s head without the block to show for it is invalid');
is($a->safe_psql('postgres', q{SELECT count(*) FROM medchain.sealing_halt}), '0', 'and A does not stop sealing');
$b->safe_psql('postgres', qq{DELETE FROM medchain.peer_blocks WHERE chain_id = '\\x$a_chain_id' AND height = 999999});
is($a->safe_psql('postgres', q{SELECT status FROM medchain.replicate_now() WHERE peer = 'hospital_b'}), 'current',
	'with the slipped-in block gone, B is current again');

# ---------- consensus: every node agrees on every chain ----------
foreach my $name (@names)
{
	ok($node{$name}->poll_query_until('postgres', q{
		SELECT string_agg(origin || ':' || verdict || ':' || agreeing, ',' ORDER BY origin)
		  FROM medchain.consensus_status},
		'hospital_a:agreed:3,hospital_b:agreed:3,hospital_c:agreed:3'),
		"$name: the three nodes agree on the three chains");
}
is($b->safe_psql('postgres', q{
	SELECT string_agg(origin || ':' || agreeing || ':' || disagreeing || ':' || unreachable || ':' || verdict, ','
					  ORDER BY origin) FROM medchain.consensus_check()}),
	'hospital_a:3:0:0:agreed,hospital_b:3:0:0:agreed,hospital_c:3:0:0:agreed',
	'consensus_check() called by hand says the same');

# A's compliance report: both peers hold and cosign its head, every chain
# is agreed, and the digest to keep carries both cosignatures.
is($a->safe_psql('postgres', q{
	SELECT concat_ws(' ', r->>'verdict', r #>> '{network,head_held_by}', r #>> '{network,head_cosigned_by}',
		(SELECT string_agg(concat_ws(':', p->>'name', p->>'last_status', p->>'cosigned_head',
									 (p->'cosigned_blocks')::int = (r #>> '{chain,height}')::int + 1), ','
						   ORDER BY p->>'name')
		   FROM jsonb_array_elements(r #> '{network,peers}') p),
		(SELECT string_agg(concat_ws(':', c->>'origin', c->>'verdict', c->>'agreeing'), ',' ORDER BY c->>'origin')
		   FROM jsonb_array_elements(r #> '{network,consensus}') c),
		jsonb_array_length(r #> '{digest,cosignatures}'))
	  FROM medchain.compliance_report() r}),
	'clean 2 2 hospital_b:current:true:t,hospital_c:current:true:t '
	  . 'hospital_a:agreed:3,hospital_b:agreed:3,hospital_c:agreed:3 2',
	"A's compliance report: its peers, their cosignatures, the consensus and a cosigned digest");
like($a->safe_psql('postgres', q{SELECT medchain.compliance_report_text()}),
	qr/\nPeers {16}2 registered\n  peer .*\n  hospital_b .*\n  hospital_c .*\nHead block {11}held by 2, cosigned by 2\n.*\nConsensus\n  chain of .*\n  hospital_a +\d+ +agreed +3 +0 +0 +- +\S+\n/s,
	'and its text has the network section');

# A base backup of A now, while its peers hold just what it has sealed so
# far: restored at the end, it is behind what A goes on to publish.
$a->backup('before_publishing_more');
my $a_head_at_backup = settled_head($a);

# ---------- (g) a peer that accepts the connection and never answers ----------
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, Proto => 'tcp')
  or die "no listening socket: $!";
my $silent_port = $silent->sockport;
$a->safe_psql('postgres', sprintf(q{SELECT medchain.add_peer('silent', 'host=127.0.0.1 port=%d dbname=postgres user=peer_login connect_timeout=600', '%s')},
	$silent_port, '11' x 32));
my $started = time;
my $silent_row = $a->safe_psql('postgres',
	q{SELECT peer || ':' || status || ':' || error FROM medchain.replicate_now() WHERE peer = 'silent'});
my $took = time - $started;
like($silent_row, qr/^silent:unreachable:no connection within 2000 ms$/,
	'replicate_now(): the silent peer is unreachable, by the timeout');
ok($took < 10, "the round took ${took}s, bounded by medchain.peer_timeout (2s) and not the conninfo's connect_timeout");
# the worker seals and the replicator serves the other peers meanwhile
$a->safe_psql('postgres', q{INSERT INTO public.admissions_hospital_a VALUES ('MRN-hospital_a-during-silence', 'ward 9', 'x')});
ok(holds_chain_of($b, $a), 'with a silent peer registered, B still receives the blocks A seals');
is($a->safe_psql('postgres', q{SELECT reachable || ':' || last_status FROM medchain.peer_status WHERE peer = 'silent'}),
	'false:unreachable', 'peer_status shows the silent peer unreachable');
# a fast shutdown is not held up by a replicator waiting on the silent peer
$started = time;
$a->stop('fast');
$took = time - $started;
ok($took < 10, "a fast shutdown took ${took}s with a round waiting on the silent peer");
$a->start;
$a->safe_psql('postgres', q{SELECT medchain.remove_peer('silent')});
close($silent);

# ---------- (b) a peer stopped by an immediate shutdown catches up ----------
$c->stop('immediate');
$a->safe_psql('postgres', q{
	INSERT INTO public.admissions_hospital_a
	SELECT 'MRN-hospital_a-while-c-down-' || i, 'ward', 'x' FROM generate_series(1, 45) i});
ok(holds_chain_of($b, $a), 'with C down, A seals on and B receives');
ok($a->poll_query_until('postgres', q{SELECT last_status FROM medchain.peer_status WHERE peer = 'hospital_c'}, 'unreachable'),
	'A sees C unreachable');
ok($a->safe_psql('postgres', q{SELECT blocks_behind FROM medchain.peer_status WHERE peer = 'hospital_c'}) > 0,
	'peer_status counts the blocks C is behind');
$c->start;
ok(holds_chain_of($c, $a), 'C restarted and caught up with A');
ok($a->poll_query_until('postgres', q{SELECT last_status || ':' || blocks_behind FROM medchain.peer_status WHERE peer = 'hospital_c'},
	'current:0'), 'and A sees it current again');

# ---------- (e) the replicator killed with SIGKILL mid-replication ----------
$c->stop('immediate');
$a->safe_psql('postgres', q{
	INSERT INTO public.admissions_hospital_a
	SELECT 'MRN-hospital_a-before-kill-' || i, 'ward', 'x' FROM generate_series(1, 300) i});
settled_head($a);
$c->start;
my $replicator = $a->safe_psql('postgres', q{SELECT pid FROM medchain.worker_status WHERE process = 'replicator'});
kill 'KILL', $replicator;
ok($a->poll_query_until('postgres', q{SELECT count(*) FROM medchain.worker_status WHERE process = 'replicator' AND pid IS NOT NULL}, '1'),
	'after the SIGKILL the server recovered and the replicator runs again');
ok(holds_chain_of($c, $a), 'C holds all of A\'s chain');
my $a_chain = chain_of($a);
is($c->safe_psql('postgres', qq{SELECT count(*) = max(height) + 1 AND count(DISTINCT height) = count(*)
	FROM medchain.peer_blocks WHERE chain_id = '\\x$a_chain'}), 't',
	'each block once, none missing');
$a_head = settled_head($a);
ok($a->poll_query_until('postgres', qq{
	SELECT count(*) = 2 * ($a_head + 1) FROM medchain.cosignatures c
	  JOIN medchain.blocks b ON b.height = c.height AND b.block_hash = c.block_hash}),
	'and every block of A is cosigned by both peers, once');

# ---------- (f) no PHI leaves a node ----------
my $phi_of_a = qr/MRN-hospital_a|secret diagnosis of hospital_a|admissions_hospital_a|dr_of_hospital_a/;
sub dump_of
{
	my ($n) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'pg_dump', '--data-only', '-d', $n->connstr('postgres') ], '>', \$stdout, '2>', \$stderr)
	  or die "pg_dump failed: $stderr";
	return $stdout;
}
like(dump_of($a), $phi_of_a, "the search for A's row values, keys, table and user names finds them in A's own dump");
foreach my $holder ($b, $c)
{
	my $stdout = dump_of($holder);
	my $log = PostgreSQL::Test::Utils::slurp_file($holder->logfile);
	foreach my $what ([ $stdout, 'its database' ], [ $log, 'its server log' ])
	{
		unlike($what->[0], $phi_of_a,
			$holder->name . ": $what->[1] holds no row value, row key, relation name or user name of A");
	}
}

# ---------- a record's proof checked at another hospital ----------
# B and C anchor A's proof in their copies of A's chain; nothing is asked
# of A.  (A proof carries its row: it is what a hospital sends with a
# record, so it comes after the search for A's data on B and C.)
my $proof = $a->safe_psql('postgres',
	q{SELECT medchain.proof('public.admissions_hospital_a', '{"mrn": "MRN-hospital_a-7"}')});
foreach my $witness ($b, $c)
{
	is($witness->safe_psql('postgres', qq{SELECT medchain.verify_proof_on_copy('$proof')}, extra_params => [ '-U', 'peer_login' ]),
		't', $witness->name . " anchors A's proof in its own copy of A's chain");
}
my $altered_proof = $a->safe_psql('postgres',
	qq{SELECT jsonb_set('$proof'::jsonb, '{row}', to_jsonb(replace('$proof'::jsonb->>'row', '37', '38')))});
is($b->safe_psql('postgres', qq{SELECT medchain.verify_proof_on_copy('$altered_proof')}), 'f',
	'a proof whose row was altered does not hold on B');
is($b->safe_psql('postgres', qq{SELECT medchain.verify_proof_on_copy(medchain.proof('public.admissions_hospital_b', '{"mrn": "MRN-hospital_b-7"}'))}),
	't', "B anchors its own proofs in its own chain");

# ---------- (c) a superuser on A rewrites a sealed row and re-forges A's chain ----------
# The row, its entry and the blocks from the entry's up are made again
# with valid proof-of-work and A's own key (test/fixtures/forge.sql): on
# A alone, nothing shows; B and C hold what A published.
$a->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $a->connstr('postgres'),
	'-f', "$ENV{TESTDIR}/test/fixtures/forge.sql" ], 'the forging functions are loaded on A');
my $forged_key = q{'{"mrn": "MRN-hospital_a-before-kill-300"}'};
my $rejected_before = $b->safe_psql('postgres', q{SELECT count(*) FROM medchain.rejected_blocks});
my $forged_from = $a->safe_psql('postgres', qq{SELECT block_height FROM medchain.journal WHERE row_key = $forged_key});
$a->safe_psql('postgres', qq{
	BEGIN;
	ALTER EVENT TRIGGER medchain_guard_ddl DISABLE;
	ALTER TABLE public.admissions_hospital_a DISABLE TRIGGER medchain_append_only;
	UPDATE public.admissions_hospital_a SET diagnosis = 'rewritten' WHERE mrn = 'MRN-hospital_a-before-kill-300';
	ALTER TABLE public.admissions_hospital_a ENABLE ALWAYS TRIGGER medchain_append_only;
	ALTER EVENT TRIGGER medchain_guard_ddl ENABLE ALWAYS;
	UPDATE medchain.journal SET row_hash = sha256(medchain.row_encoding('public.admissions_hospital_a', $forged_key))
	 WHERE row_key = $forged_key;
	UPDATE medchain.journal e SET entry_hash = forge.entry_hash(e) WHERE row_key = $forged_key;
	SELECT forge.reseal(h, 8) FROM generate_series($forged_from, (SELECT max(height) FROM medchain.blocks)) h ORDER BY h;
	COMMIT;
});
is($a->safe_psql('postgres', q{SELECT count(*) FROM medchain.verify() WHERE finding <> 'chain_diverged'}), '0',
	"on A alone the forgery holds together: verify() finds nothing of A's own tables");
foreach my $witness ($b, $c)
{
	ok($witness->poll_query_until('postgres', qq{
		SELECT verdict || ':' || first_divergent_height FROM medchain.consensus_status WHERE origin = 'hospital_a'},
		"diverged:$forged_from"), $witness->name . " says A's chain diverged, from the forged block $forged_from");
}
ok($a->poll_query_until('postgres', qq{
	SELECT verdict || ':' || disagreeing || ':' || first_divergent_height FROM medchain.consensus_status
	 WHERE origin = 'hospital_a'}, "diverged:2:$forged_from"),
	"A's own consensus check says its chain diverged from both peers' copies");
ok($a->wait_for_log(qr/WARNING:  medchain consensus on the chain of hospital_a \(this node\): diverged/),
	"and A's log has a WARNING about it");
is($a->safe_psql('postgres', q{SELECT finding || ':' || block_height FROM medchain.verify()}),
	"chain_diverged:$forged_from", "A's verify() reports chain_diverged at the first forged block");
ok($a->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM medchain.findings
	WHERE finding = 'chain_diverged' AND block_height = $forged_from AND resolved_at IS NULL}),
	"and A's scrubber keeps it in medchain.findings");
ok($a->poll_query_until('postgres', q{SELECT string_agg(last_status, ',' ORDER BY peer) FROM medchain.peer_status},
	'diverged,diverged'), 'A sends its forged blocks to neither peer: both hold another block at their height');
is($b->safe_psql('postgres', q{SELECT count(*) FROM medchain.rejected_blocks}), $rejected_before,
	'and B was sent none of them to refuse');
my $forged_proof = $a->safe_psql('postgres',
	qq{SELECT medchain.proof('public.admissions_hospital_a', $forged_key)});
is($a->safe_psql('postgres', qq{SELECT medchain.verify_proof('$forged_proof')}), 't',
	"the forged row's proof holds together on its own");
is($b->safe_psql('postgres', qq{SELECT medchain.verify_proof_on_copy('$forged_proof')}), 'f',
	"but B does not anchor it: its copy of A's chain holds the block A published");
is($b->safe_psql('postgres', qq{SELECT medchain.verify_proof_on_copy('$proof')}), 't',
	"while a proof A gave before the forgery, of a row below it, still holds on B");

# ---------- (h) A restored from a base backup older than what it published ----------
$a->stop;
my $restored = PostgreSQL::Test::Cluster->new('hospital_a_restored');
$restored->init_from_backup($a, 'before_publishing_more');
# the copy of the backup gives the node key file group access, which the
# server refuses for a key: as its hint says
chmod 0600, $restored->data_dir . '/medchain_node.key';
my $restored_log_offset = 0;
$restored->start;
is($restored->safe_psql('postgres', 'SELECT max(height) FROM medchain.blocks'), $a_head_at_backup,
	"the restored A holds its chain as it was at the backup, block $a_head_at_backup");
my $published = $b->safe_psql('postgres', qq{SELECT max(height) FROM medchain.peer_blocks WHERE chain_id = '\\x$a_chain'});
ok($restored->poll_query_until('postgres', q{SELECT count(*) FROM medchain.sealing_halt}, '1'),
	'at its first contact with its peers, the restored A halts its sealing');
is($restored->safe_psql('postgres', q{SELECT own_height || ':' || published_height FROM medchain.sealing_halt}),
	"$a_head_at_backup:$published", 'medchain.sealing_halt says how far behind what it published it is');
ok($restored->wait_for_log(qr/WARNING:  medchain stops sealing: peer "hospital_[bc]" holds this node's chain up to height $published, above its newest block $a_head_at_backup/,
	$restored_log_offset), 'a WARNING says so');
is($restored->safe_psql('postgres', q{SELECT string_agg(peer || ':' || status, ',' ORDER BY peer) FROM medchain.replicate_now()}),
	'hospital_b:ahead,hospital_c:ahead', 'replicate_now() says both peers are ahead, and sends nothing');
$restored->safe_psql('postgres', q{INSERT INTO public.admissions_hospital_a VALUES ('MRN-hospital_a-after-restore', 'ward 2', 'x')});
ok($restored->poll_query_until('postgres', q{SELECT last_error LIKE 'sealing is halted:%' FROM medchain.worker_status WHERE process = 'worker'}),
	'the worker seals nothing, and worker_status says why');
is($restored->safe_psql('postgres', q{SELECT max(height) || ':' || (SELECT pending_entries FROM medchain.chain_status) FROM medchain.blocks}),
	"$a_head_at_backup:1", 'no block above the backup\'s head: the new row waits, pending');
my ($rc, $out, $err) = $restored->psql('postgres', 'SELECT medchain.seal()');
like($err, qr/ERROR:  sealing is halted: peer "hospital_[bc]" holds this node's chain up to height $published, above block $a_head_at_backup/,
	'seal() by hand is refused too');
is($b->safe_psql('postgres', qq{SELECT max(height) FROM medchain.peer_blocks WHERE chain_id = '\\x$a_chain'}) . ':'
	. $b->safe_psql('postgres', q{SELECT count(*) FROM medchain.equivocations}),
	"$published:0", 'B holds what A published, and no block of a fork');

# The documented procedure: take the published blocks back from a peer,
# then seal on above them.
($rc, $out, $err) = $restored->psql('postgres', q{SELECT medchain.recover_chain('nobody')});
like($err, qr/ERROR:  peer "nobody" does not exist/, 'recover_chain() names a registered peer');
is($restored->safe_psql('postgres', q{SELECT medchain.recover_chain('hospital_b')}), $published,
	"recover_chain() takes blocks up to $published back from B");
is($restored->safe_psql('postgres', q{SELECT count(*) FROM medchain.sealing_halt}), '0', 'and lifts the halt');
# (up to the published height: with the halt lifted, the row waiting may
# be sealed and reach B between the two queries)
is($restored->safe_psql('postgres', qq{SELECT string_agg(encode(block_hash, 'hex'), ',' ORDER BY height) FROM medchain.blocks
	WHERE height > $a_head_at_backup AND height <= $published}),
	$b->safe_psql('postgres', qq{SELECT string_agg(encode(block_hash, 'hex'), ',' ORDER BY height) FROM medchain.peer_blocks
	WHERE chain_id = '\\x$a_chain' AND height > $a_head_at_backup AND height <= $published}),
	'the restored A holds the very blocks it had published');
($rc, $out, $err) = $restored->psql('postgres', q{SELECT medchain.recover_chain('hospital_c')});
like($err, qr/ERROR:  this node's sealing is not halted: there is nothing to recover/, 'a second recovery finds nothing to do');
my $next = $published + 1;
$restored->safe_psql('postgres', 'SELECT medchain.seal()');
ok($restored->poll_query_until('postgres', qq{SELECT max(height) = $next AND (SELECT pending_entries = 0 FROM medchain.chain_status)
	FROM medchain.blocks}), "sealing goes on above them: the row waiting is sealed in block $next");
is($restored->safe_psql('postgres', q{SELECT finding || ':' || count(*) FROM medchain.verify() GROUP BY finding}),
	'entries_lost:' . ($published - $a_head_at_backup),
	'verify() reports the entries of each recovered block as lost, and nothing else');
ok($b->poll_query_until('postgres', qq{SELECT max(height) = $next FROM medchain.peer_blocks WHERE chain_id = '\\x$a_chain'}),
	'B receives the new block: the chain goes on without a fork');
my ($vout, $verr);
PostgreSQL::Test::Utils::append_to_file("$dir/restored.jsonl", $restored->safe_psql('postgres', 'SELECT x FROM medchain.export_chain() x') . "\n");
IPC::Run::run([ 'python3', "$ENV{TESTDIR}/verifier/medchain_verify.py", 'chain', "$dir/restored.jsonl" ], '>', \$vout, '2>', \$verr);
like($vout, qr/^valid chain of \d+ blocks/, 'the outside verifier accepts the export, recovered blocks and their entry hashes included')
  or diag($vout . $verr);

# ---------- too few nodes answer ----------
# B's peers are now both out of reach: A's old address has no server, C
# is stopped.  Of three nodes, B alone answers for each chain it holds.
$c->stop;
is($b->safe_psql('postgres', q{SELECT string_agg(origin || ':' || agreeing || ':' || unreachable || ':' || verdict, ',' ORDER BY origin)
		FROM medchain.consensus_check()}),
	'hospital_a:1:2:no_quorum,hospital_b:1:2:no_quorum,hospital_c:1:2:no_quorum',
	'with both peers out of reach, B has no quorum for any chain');

# ---------- (d) blocks that break a rule, and an equivocating pair ----------
# Two next blocks of A's chain, sealed on the restored A in transactions
# rolled back (no one else sees them), give the payloads; each forgery
# changes bytes of the first (docs/FORMAT.md, "Replication payload":
# prev_hash at byte 24, the nonce at 172-179, the signature from 213, the
# entry hashes from 281), and goes to B as A's login would send it.
sub payload_of_a_next_block
{
	my ($mrn) = @_;
	my $h = $restored->safe_psql('postgres', 'SELECT max(height) + 1 FROM medchain.blocks');
	return $restored->safe_psql('postgres', qq{BEGIN;
		INSERT INTO public.admissions_hospital_a VALUES ('$mrn', 'ward 1', 'x');
		SELECT medchain.seal() \\g /dev/null
		SELECT encode(p, 'hex') FROM medchain.block_payloads($h, 1) p;
		ROLLBACK;});
}
my $next_payload = payload_of_a_next_block('MRN-hospital_a-unpublished-1');
my $other_payload = payload_of_a_next_block('MRN-hospital_a-unpublished-2');
isnt($next_payload, $other_payload, 'two different next blocks of A');
sub deliver_to_b
{
	my ($payload_sql) = @_;
	return $b->safe_psql('postgres', qq{SELECT status || ': ' || coalesce(reason, '')
		FROM medchain.receive_blocks('\\x$a_chain', ARRAY[$payload_sql])}, extra_params => [ '-U', 'peer_login' ]);
}
my $p = "decode('$next_payload', 'hex')";
foreach my $case (
	[ 'a bad signature', "set_byte($p, 223, get_byte($p, 223) # 1)",
		qr/^rejected: its signature does not verify under its signer_key [0-9a-f]{64}$/ ],
	[ 'entry hashes that do not give the Merkle root', "set_byte($p, 286, get_byte($p, 286) # 1)",
		qr/^rejected: its entry hashes do not give its merkle_root$/ ],
	[ 'too little work', qq{(SELECT q FROM (SELECT set_byte($p, 179, get_byte($p, 179) # x) AS q FROM generate_series(1, 255) x) s
		WHERE get_byte(sha256(substring(q FROM 9 FOR 172)), 0) <> 0 LIMIT 1)},
		qr/^rejected: its hash has \d leading zero bits, fewer than its difficulty 8$/ ],
	[ 'a wrong prev_hash', "set_byte($p, 24, get_byte($p, 24) # 1)",
		qr/^rejected: its prev_hash is not the block_hash of block \d+$/ ])
{
	my ($what, $sql, $re) = @$case;
	like(deliver_to_b($sql), $re, "B refuses a block of A with $what, saying why");
}
is($b->safe_psql('postgres', qq{SELECT count(*) FROM medchain.rejected_blocks WHERE chain_id = '\\x$a_chain'
	AND reason ~ '(signature does not verify|do not give its merkle_root|leading zero bits|prev_hash is not)'}), '4',
	'and keeps each as evidence with its reason');
is(deliver_to_b($p), 'stored: ', 'the unforged block is stored');
like(deliver_to_b("decode('$other_payload', 'hex')"),
	qr/^equivocation: block [0-9a-f]{64} is validly signed, and this node holds block [0-9a-f]{64} at height \d+$/,
	"another validly signed block of A's chain at that height is an equivocation");
is($b->safe_psql('postgres', qq{SELECT count(*) FROM medchain.equivocations WHERE chain_id = '\\x$a_chain'}), '1',
	'kept with both signed headers');

done_testing();
