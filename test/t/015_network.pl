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
	$n->init;
	$n->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'medchain'
medchain.node_name = '$name'
medchain.difficulty = 8
medchain.block_max_entries = 10
medchain.seal_interval = '200ms'
medchain.replication_interval = '200ms'
medchain.consensus_interval = '500ms'
medchain.peer_timeout = '2s'
});
	$n->start;
	$n->safe_psql('postgres', q{
		CREATE EXTENSION medchain;
		CREATE TABLE public.admissions (mrn text PRIMARY KEY, ward text, diagnosis text);
		SELECT medchain.enable('public.admissions');
		CREATE ROLE peer_login LOGIN IN ROLE medchain_peer;
		CREATE ROLE dr_quincy LOGIN;
		GRANT INSERT ON public.admissions TO dr_quincy;
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
		INSERT INTO public.admissions
		SELECT 'MRN-$name-' || i, 'ward ' || i, 'secret diagnosis of $name ' || i
		  FROM generate_series(1, 20) i;
	}, extra_params => [ '-U', 'dr_quincy' ]);
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
is($a->safe_psql('postgres', q{
	SELECT string_agg(peer || ':' || reachable || ':' || blocks_behind || ':' || last_status, ',' ORDER BY peer)
	  FROM medchain.peer_status}),
	'hospital_b:true:0:current,hospital_c:true:0:current',
	'peer_status: both peers reachable, nothing behind');
is($a->safe_psql('postgres', q{SELECT string_agg(process, ',' ORDER BY process) FROM medchain.worker_status WHERE pid IS NOT NULL}),
	'launcher,replicator,scrubber,worker', 'the replicator runs beside the worker and the scrubber');


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

done_testing();
