# scripts/lib.sh: shared by demo.sh, test.sh and the benchmarks.
#
# Source it; it defines functions only.  Everything that starts a server
# registers it for stopping, and mc_cleanup (installed as an EXIT trap by
# mc_init) stops every one of them, also when a script fails half-way.

MC_PACKAGES="build-essential libssl-dev libipc-run-perl postgresql-15
postgresql-server-dev-15 libpq-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
postgresql-contrib python3 python3-cryptography openssl"

MC_PG_VERSION=${MC_PG_VERSION:-15}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$MC_PG_VERSION/bin/pg_config}

mc_say() { printf '==> %s\n' "$*" >&2; }
mc_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Setup: packages, build, install
# ---------------------------------------------------------------------------

# Install the Debian packages that are missing; a no-op when all are there.
mc_install_packages() {
	local missing="" pkg
	for pkg in $MC_PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" -eq 0 ] || mc_die "missing packages:$missing (run as root to install them)"
	mc_say "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	# The server package creates a cluster of its own; leave it stopped.
	if command -v pg_ctlcluster >/dev/null 2>&1; then
		pg_ctlcluster "$MC_PG_VERSION" main stop 2>/dev/null || true
	fi
}

# Can the ASan runtime be preloaded into this server?  A server whose
# libraries call malloc from their constructors before ASan's own one has
# run (Debian's, through libgpg-error's bindtextdomain) deadlocks in ASan's
# lazy start: then only UndefinedBehaviorSanitizer can be used.
mc_asan_preloadable() {
	timeout 10 env LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0 \
		"$MC_BINDIR/postgres" -V >/dev/null 2>&1
}

# Build and install the extension into the server found by PG_CONFIG.  With
# MC_SANITIZE set, with AddressSanitizer (when the server can preload its
# runtime; every process started from here on then gets it) and
# UndefinedBehaviorSanitizer.
mc_build_install() {
	local sanitize=()
	if [ -n "${MC_SANITIZE:-}" ]; then
		MC_BINDIR=$("$PG_CONFIG" --bindir)
		if mc_asan_preloadable; then
			sanitize=(SANITIZE=address,undefined)
			mc_say "building medchain with AddressSanitizer and UndefinedBehaviorSanitizer"
		else
			sanitize=(SANITIZE=undefined)
			MC_SANITIZE=undefined
			mc_say "this server cannot preload the AddressSanitizer runtime (it deadlocks at startup): building medchain with UndefinedBehaviorSanitizer only"
		fi
	fi
	mc_say "building medchain against $("$PG_CONFIG" --version)"
	make -s -C "$MC_ROOT" PG_CONFIG="$PG_CONFIG" with_llvm=no clean >/dev/null
	make -s -C "$MC_ROOT" PG_CONFIG="$PG_CONFIG" with_llvm=no "${sanitize[@]}" >/dev/null
	make -s -C "$MC_ROOT" PG_CONFIG="$PG_CONFIG" with_llvm=no "${sanitize[@]}" install >/dev/null
	if [ -n "${MC_SANITIZE:-}" ]; then
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	fi
	if [ "${sanitize[*]}" = "SANITIZE=address,undefined" ]; then
		export LD_PRELOAD
		LD_PRELOAD=$(gcc -print-file-name=libasan.so)
		# PostgreSQL frees its memory by contexts and at exit: no leak reports.
		export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:print_summary=1"
	fi
}

# ---------------------------------------------------------------------------
# Running as an ordinary user
# ---------------------------------------------------------------------------

# PostgreSQL refuses to run as root: servers and tests run as MC_USER.
mc_choose_user() {
	if [ "$(id -u)" -eq 0 ]; then
		MC_USER=${MC_USER:-postgres}
		id "$MC_USER" >/dev/null 2>&1 || useradd --system --create-home "$MC_USER"
	else
		MC_USER=$(id -un)
	fi
}

mc_as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$MC_USER" -- env PATH="$MC_BINDIR:$PATH" ${LD_PRELOAD:+LD_PRELOAD="$LD_PRELOAD"} \
			${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} "$@"
	else
		env PATH="$MC_BINDIR:$PATH" "$@"
	fi
}

# A scratch directory the ordinary user owns, removed at exit.
mc_scratch_dir() {
	MC_SCRATCH=$(mktemp -d /tmp/medchain.XXXXXX)
	chmod 755 "$MC_SCRATCH"
	[ "$(id -u)" -eq 0 ] && chown "$MC_USER" "$MC_SCRATCH"
	return 0
}

# ---------------------------------------------------------------------------
# Throwaway clusters
# ---------------------------------------------------------------------------

MC_STARTED_DATADIRS=""

# The first free port from $1 up; MC_PORT, when set, replaces $1 (to keep
# a run's servers within a range the host sets aside for it).
mc_free_port() {
	local port=${MC_PORT:-${1:-55432}}
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
	done
	echo "$port"
}

# mc_cluster_start DATADIR PORT [extra postgresql.conf lines...]
# Listens on loopback and on a socket inside DATADIR.
mc_cluster_start() {
	local datadir=$1 port=$2 line
	shift 2
	mc_as_user initdb -D "$datadir" -A trust -U postgres --no-sync \
		-E UTF8 --locale=C.UTF-8 >/dev/null
	{
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$datadir'"
		echo "fsync = off"
		for line in "$@"; do echo "$line"; done
	} | mc_as_user tee -a "$datadir/postgresql.conf" >/dev/null
	MC_STARTED_DATADIRS="$MC_STARTED_DATADIRS $datadir"
	mc_as_user pg_ctl -D "$datadir" -l "$datadir/server.log" -w -t 60 start >/dev/null \
		|| { cat "$datadir/server.log" >&2; mc_die "server in $datadir did not start"; }
}

mc_cluster_stop() {
	local datadir=$1
	[ -f "$datadir/postmaster.pid" ] || return 0
	mc_as_user pg_ctl -D "$datadir" -m fast -w -t 60 stop >/dev/null 2>&1 \
		|| mc_as_user pg_ctl -D "$datadir" -m immediate stop >/dev/null 2>&1 || true
}

# psql against a cluster started above: mc_psql DATADIR PORT DB [psql args]
mc_psql() {
	local datadir=$1 port=$2 db=$3
	shift 3
	mc_as_user psql -X -q -v ON_ERROR_STOP=1 -h "$datadir" -p "$port" -U postgres -d "$db" "$@"
}

mc_cleanup() {
	local status=$? datadir
	for datadir in $MC_STARTED_DATADIRS; do
		mc_cluster_stop "$datadir"
	done
	if [ -n "${MC_SCRATCH:-}" ] && [ -z "${MC_KEEP:-}" ]; then
		rm -rf "$MC_SCRATCH"
	fi
	exit $status
}

# Common start of every script: root of the tree, packages, build, user.
mc_init() {
	MC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	trap mc_cleanup EXIT
	trap 'exit 130' INT TERM
	mc_install_packages
	[ -x "$PG_CONFIG" ] || mc_die "$PG_CONFIG not found (is postgresql-server-dev-$MC_PG_VERSION installed?)"
	MC_BINDIR=$("$PG_CONFIG" --bindir)
	mc_build_install
	mc_choose_user
	mc_scratch_dir
}
