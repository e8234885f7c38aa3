#!/usr/bin/env bash
# MemberPulse embedded local stack: one Apache Kafka node (KRaft) and one private
# PostgreSQL cluster, run as plain processes (no Docker on the build machines).
#
#   deploy/local/stack.sh up | down | status | clean
#   deploy/local/stack.sh kafka-up | kafka-down | pg-up | pg-down | kafka-fetch
#
# All state lives under <repo>/.stack/ (git-ignored). Every command is idempotent.
#
# Environment (all optional):
#   MP_KAFKA_PORT             broker listener port              (default 39092)
#   MP_KAFKA_CONTROLLER_PORT  KRaft controller listener port    (default 39093)
#   MP_PG_PORT                private Postgres port             (default 55432)
#   MP_PG_DATABASE            application database              (default memberpulse)
#   MP_PG_ADMIN_PASSWORD      password of the `postgres` role   (default memberpulse-admin)
#   MP_PG_SHARED_BUFFERS      Postgres shared_buffers           (default 1GB)
#   MP_PG_WAL_COMPRESSION     Postgres wal_compression          (default lz4)
#   MP_PG_MAX_WAL_SIZE        Postgres max_wal_size             (default 4GB)
#   MP_PG_CHECKPOINT_TIMEOUT  Postgres checkpoint_timeout       (default 15min)
# These are exported to the readiness and bootstrap commands (shared.settings reads MP_*), and
# so are MP_KAFKA_BOOTSTRAP_SERVERS, MP_PG_HOST and MP_PG_ADMIN_USER, set to point at this stack:
# whatever they say in the caller's environment, `stack.sh` checks and bootstraps its own stack.
set -euo pipefail

# ---------------------------------------------------------------------------
# Layout and settings
# ---------------------------------------------------------------------------
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd -P)"
STACK_DIR="$ROOT/.stack"
PY="$ROOT/.venv/bin/python"

export MP_KAFKA_PORT="${MP_KAFKA_PORT:-39092}"
export MP_KAFKA_CONTROLLER_PORT="${MP_KAFKA_CONTROLLER_PORT:-39093}"
export MP_PG_PORT="${MP_PG_PORT:-55432}"
export MP_PG_DATABASE="${MP_PG_DATABASE:-memberpulse}"
export MP_PG_ADMIN_PASSWORD="${MP_PG_ADMIN_PASSWORD:-memberpulse-admin}"
# Postgres ships with 128MB, sized for a laptop from long ago; a member table of millions of rows
# then lives in the OS cache rather than Postgres's own. A quarter of RAM is the usual advice; 1GB
# suits this stack beside Kafka and the services.
MP_PG_SHARED_BUFFERS="${MP_PG_SHARED_BUFFERS:-1GB}"
MP_PG_WAL_COMPRESSION="${MP_PG_WAL_COMPRESSION:-lz4}"
MP_PG_MAX_WAL_SIZE="${MP_PG_MAX_WAL_SIZE:-4GB}"
MP_PG_CHECKPOINT_TIMEOUT="${MP_PG_CHECKPOINT_TIMEOUT:-15min}"
export MP_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$MP_KAFKA_PORT"
export MP_PG_HOST="127.0.0.1"
export MP_PG_ADMIN_USER="postgres"

KAFKA_POM="$ROOT/deploy/kafka/pom.xml"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_LIB="$KAFKA_DIR/lib"
KAFKA_POM_SHA="$KAFKA_DIR/lib.pom.sha256" # next to lib/: which pom content lib/ was resolved from
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_LOG4J="$KAFKA_DIR/log4j2.properties"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_READY_TIMEOUT=90
KAFKA_STOP_TIMEOUT=30

PG_DIR="$STACK_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_RUN="$PG_DIR/run"
PG_LOGS="$PG_DIR/logs"
PG_LOG="$PG_LOGS/postgres.log"
PG_READY_TIMEOUT=60
PG_BIN="" # resolved lazily by pg_resolve_bin: only pg commands need it

APT_UPDATED=0

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Microseconds since the epoch; EPOCHREALTIME's decimal separator follows the locale, so strip it.
now_us() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }
# Seconds with one decimal between two now_us values.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

apt_install() {
    ((EUID == 0)) || die "need to install $* but not running as root; install it and retry"
    if ((APT_UPDATED == 0)); then
        say "apt: updating package lists…"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt: installing $*…"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# True when /proc/PID/cmdline contains the string $2.
cmdline_has() {
    local c
    c="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" || return 1
    [[ "$c" == *"$2"* ]]
}

# True while PID is a live process. An exited daemon stays a zombie until init reaps it
# (our daemons are re-parented to init), and kill -0 still succeeds on a zombie.
pid_alive() {
    local state
    state="$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != "Z" ]]
}

# True when something already accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# VmRSS of a pid in MiB (one decimal), or "-" when unknown.
rss_mib() {
    local kb
    kb="$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)"
    if [[ -n "$kb" ]]; then awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }'; else printf -- '-'; fi
}

tail_log() {
    local file="$1"
    if [[ -s "$file" ]]; then
        printf -- '---- last 30 lines of %s ----\n' "$file" >&2
        tail -n 30 "$file" >&2
        printf -- '----\n' >&2
    else
        printf '(log %s is empty or missing)\n' "$file" >&2
    fi
}

# Whether the lead engineer's readiness module has landed yet.
have_readiness_module() {
    [[ -f "$ROOT/shared/stack/readiness.py" || -f "$ROOT/shared/stack/readiness/__main__.py" ]]
}

# Fallback Kafka probe: a metadata request must list an (unfenced) broker and a controller.
kafka_probe_py() {
    cat <<'PYEOF'
import asyncio, sys
from aiokafka.admin import AIOKafkaAdminClient

async def main() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
    await asyncio.wait_for(admin.start(), 10)
    try:
        cluster = await asyncio.wait_for(admin.describe_cluster(), 10)
        if not cluster.get("brokers") or cluster.get("controller_id", -1) < 0:
            sys.exit(f"not ready: {cluster}")
        await asyncio.wait_for(admin.list_topics(), 10)
    finally:
        await admin.close()

asyncio.run(main())
PYEOF
}

# One readiness probe of a part ("kafka" or "postgres"); exit 0 when ready. Output goes to
# $2 so the last failure can be shown on timeout. Real readiness, not an open port.
# $3: seconds the readiness module keeps retrying by itself (it polls every 0.5 s), so a
# start is seen within about half a second instead of once per Python start-up.
probe() {
    local part="$1" out="$2" slice="${3:-2}"
    if [[ ! -x "$PY" ]]; then
        printf 'no virtualenv at %s (run uv sync first)\n' "$PY" >"$out"
        return 1
    fi
    if have_readiness_module; then
        (cd "$ROOT" && timeout $((slice + 25)) "$PY" -m shared.stack.readiness "$part" --timeout "$slice") >"$out" 2>&1
        return
    fi
    # Fallbacks until shared.stack.readiness exists.
    case "$part" in
        kafka)
            timeout 20 "$PY" -c "$(kafka_probe_py)" "127.0.0.1:$MP_KAFKA_PORT" >"$out" 2>&1
            ;;
        postgres)
            # Over TCP with the password: proves the listener, scram auth and the database.
            PGPASSWORD="$MP_PG_ADMIN_PASSWORD" PGCONNECT_TIMEOUT=5 timeout 20 \
                "$(pg_psql_bin)" -X -q -At -h 127.0.0.1 -p "$MP_PG_PORT" -U postgres \
                -d "$MP_PG_DATABASE" -c 'select 1' >"$out" 2>&1
            ;;
        *) die "unknown part $part" ;;
    esac
}

# Poll probe until ready or timeout; on timeout print the last probe output and the log.
wait_ready() {
    local part="$1" timeout_s="$2" log="$3" pid_check="$4" start_us="$5"
    local out="$STACK_DIR/.probe-$part.out" deadline
    deadline=$(($(now_us) + timeout_s * 1000000))
    while :; do
        if probe "$part" "$out" 5; then
            rm -f "$out"
            return 0
        fi
        # Fail fast when the process died instead of waiting out the timeout.
        if ! "$pid_check"; then
            printf '%s: process exited while starting (after %s s)\n' "$part" "$(elapsed "$start_us" "$(now_us)")" >&2
            tail_log "$log"
            return 1
        fi
        if (($(now_us) > deadline)); then
            printf '%s: not ready after %s s; last readiness output:\n' "$part" "$timeout_s" >&2
            tail -n 10 "$out" >&2 || true
            tail_log "$log"
            return 1
        fi
        sleep 0.5
    done
}

# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------
JAVA=""

kafka_ensure_tools() {
    local missing=()
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    if ! command -v "$JAVA" >/dev/null 2>&1; then
        missing+=(openjdk-17-jre-headless)
    else
        # Kafka 4.x brokers need Java >= 17.
        local major
        major="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ { print $2 }')"
        if [[ -z "$major" || "${major%%.*}" -lt 17 ]]; then
            missing+=(openjdk-17-jre-headless)
        fi
    fi
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
    fi
    if [[ " ${missing[*]-} " == *" openjdk-17-jre-headless "* ]]; then
        JAVA="$(compgen -G "/usr/lib/jvm/java-17-openjdk-*/bin/java" | head -n 1 || true)"
        [[ -x "$JAVA" ]] || die "java 17 not found after installing openjdk-17-jre-headless"
    fi
}

kafka_fetch() {
    local want have=""
    want="$(sha256sum "$KAFKA_POM" | awk '{ print $1 }')"
    [[ -f "$KAFKA_POM_SHA" ]] && have="$(<"$KAFKA_POM_SHA")"
    if [[ "$want" == "$have" ]] && compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null; then
        return 0
    fi
    kafka_ensure_tools
    say "kafka: resolving jars from deploy/kafka/pom.xml…"
    mkdir -p "$KAFKA_DIR"
    # Resolve into a scratch dir and swap, so an interrupted download never looks complete.
    rm -rf "$KAFKA_LIB.tmp"
    # -Dstyle.color=never: Maven 3.8 still prints colour codes under -q -B.
    if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB.tmp" >"$KAFKA_DIR/mvn.log" 2>&1; then
        tail_log "$KAFKA_DIR/mvn.log"
        die "mvn could not resolve the Kafka jars (is Maven Central reachable?)"
    fi
    rm -rf "$KAFKA_LIB"
    mv "$KAFKA_LIB.tmp" "$KAFKA_LIB"
    printf '%s\n' "$want" >"$KAFKA_POM_SHA"
}

kafka_version() {
    local jar
    jar="$(compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" | head -n 1 || true)"
    [[ -n "$jar" ]] || {
        printf -- '-'
        return
    }
    jar="${jar##*/kafka_2.13-}"
    printf '%s' "${jar%.jar}"
}

# Pid of our broker, or nothing. The pid file is trusted only if that pid is still a
# kafka.Kafka running our server.properties (pids get reused); otherwise look it up by
# its command line, which names this repo's .stack path and so matches nothing else.
kafka_pid() {
    local pid=""
    if [[ -f "$KAFKA_PID" ]]; then
        pid="$(<"$KAFKA_PID")"
        if [[ "$pid" =~ ^[0-9]+$ ]] && cmdline_has "$pid" "kafka.Kafka $KAFKA_PROPS"; then
            printf '%s' "$pid"
            return 0
        fi
    fi
    pgrep -f -- "kafka.Kafka $KAFKA_PROPS" | head -n 1 || true
}

kafka_alive() { [[ -n "$(kafka_pid)" ]]; }

kafka_write_config() {
    mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
    cat >"$KAFKA_PROPS" <<EOF
# Generated by deploy/local/stack.sh; rewritten on every start, edit the script instead.
# Single combined KRaft node for local development and tests.
process.roles=broker,controller
node.id=1
# Static voters (not a dynamic quorum), so the controller port can change between runs.
controller.quorum.voters=1@127.0.0.1:${MP_KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${MP_KAFKA_PORT},CONTROLLER://127.0.0.1:${MP_KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${MP_KAFKA_PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${KAFKA_DATA}

# One node: every internal topic and every producer must be satisfied by one replica.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Small box: fewer internal partitions (default 50 each) means faster start and fewer files.
offsets.topic.num.partitions=12
transaction.state.log.num.partitions=12
share.coordinator.state.topic.num.partitions=12
num.partitions=12
# Topics are created by the bootstrap step with explicit settings, never by a typo.
auto.create.topics.enable=false
# Tests join groups constantly; the default 3 s delay only slows them down.
group.initial.rebalance.delay.ms=0
# The 128 MiB default dedupe buffer eats a 512 MiB heap.
log.cleaner.dedupe.buffer.size=33554432
num.network.threads=2
num.io.threads=2
EOF
    cat >"$KAFKA_LOG4J" <<EOF
# Generated by deploy/local/stack.sh. Broker log to a file only, INFO, bounded size.
status = warn
name = memberpulse-kafka
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${KAFKA_LOGS}/server.log
appender.file.filePattern = ${KAFKA_LOGS}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
# Per-request and per-partition state chatter is useless locally.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
EOF
}

kafka_format() {
    # meta.properties exists once the log dir is formatted; formatting again is never needed.
    [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
    local cluster_id
    cluster_id="$("$JAVA" -cp "$KAFKA_LIB/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    [[ -n "$cluster_id" ]] || die "kafka: StorageTool random-uuid printed nothing"
    say "kafka: formatting storage (cluster id $cluster_id)…"
    # Static controller.quorum.voters, so no --standalone.
    "$JAVA" -Dlog4j2.configurationFile="$KAFKA_LOG4J" -cp "$KAFKA_LIB/*" kafka.tools.StorageTool \
        format -t "$cluster_id" -c "$KAFKA_PROPS" --ignore-formatted >"$KAFKA_LOGS/format.out" 2>&1 || {
        tail_log "$KAFKA_LOGS/format.out"
        die "kafka: storage format failed"
    }
}

# The broker's and Postgres's ports lie inside the kernel's ephemeral range (32768-60999), so a
# client connection can be given one of them as its local port; a broker restarting then fails to
# bind ("Address already in use"). Reserve them, where this user may (root on a dev or CI box).
reserve_ports() {
    local file=/proc/sys/net/ipv4/ip_local_reserved_ports current
    [[ -w "$file" ]] || return 0
    current="$(<"$file")"
    [[ ",$current," == *",$MP_KAFKA_PORT-$MP_KAFKA_CONTROLLER_PORT,"* ]] && return 0
    printf '%s' "${current:+$current,}$MP_KAFKA_PORT-$MP_KAFKA_CONTROLLER_PORT,$MP_PG_PORT" >"$file" 2>/dev/null || true
}

kafka_up() {
    local pid t0
    mkdir -p "$KAFKA_DIR"
    pid="$(kafka_pid)"
    if [[ -n "$pid" ]]; then
        printf '%s\n' "$pid" >"$KAFKA_PID"
        say "kafka: already running (pid $pid)"
        t0="$(now_us)"
        wait_ready kafka "$KAFKA_READY_TIMEOUT" "$KAFKA_LOGS/server.log" kafka_alive "$t0" ||
            die "kafka: running but not ready"
        say "kafka: ready (Apache Kafka $(kafka_version))"
        return 0
    fi
    rm -f "$KAFKA_PID"
    kafka_ensure_tools
    kafka_fetch
    local p
    for p in "$MP_KAFKA_PORT" "$MP_KAFKA_CONTROLLER_PORT"; do
        port_in_use "$p" && die "kafka: port $p on 127.0.0.1 is taken by another process (set MP_KAFKA_PORT / MP_KAFKA_CONTROLLER_PORT)"
    done
    kafka_write_config
    kafka_format
    say "kafka: starting…"
    t0="$(now_us)"
    # setsid + nohup: the broker outlives this shell and its terminal; stdout/stderr go to a file
    # so callers that capture our output do not hang on the inherited pipe.
    setsid nohup "$JAVA" -Xms512m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
        -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_PROPS" \
        >"$KAFKA_LOGS/kafka.out" 2>&1 </dev/null 9>&- &
    pid=$!
    # $! is the JVM once setsid/nohup have exec'd. But setsid forks when it is a process group
    # leader (job control on); then $! exits at once and the JVM must be looked up.
    local i
    for ((i = 0; i < 30; i++)); do
        cmdline_has "$pid" "kafka.Kafka $KAFKA_PROPS" && break
        if ! pid_alive "$pid"; then
            pid="$(pgrep -f -- "kafka.Kafka $KAFKA_PROPS" | head -n 1 || true)"
            [[ -n "$pid" ]] && break
        fi
        sleep 0.1
    done
    [[ -n "$pid" ]] || {
        tail_log "$KAFKA_LOGS/kafka.out"
        die "kafka: the JVM did not start"
    }
    printf '%s\n' "$pid" >"$KAFKA_PID"
    if ! wait_ready kafka "$KAFKA_READY_TIMEOUT" "$KAFKA_LOGS/server.log" kafka_alive "$t0"; then
        [[ -s "$KAFKA_LOGS/kafka.out" ]] && tail_log "$KAFKA_LOGS/kafka.out"
        # A half-started broker would only confuse the next `up`; the logs stay for inspection.
        kafka_down >&2
        die "kafka: did not become ready (logs in $KAFKA_LOGS)"
    fi
    say "kafka: ready in $(elapsed "$t0" "$(now_us)") s (Apache Kafka $(kafka_version), pid $pid, rss $(rss_mib "$pid") MiB)"
}

kafka_down() {
    local pid waited=0
    pid="$(kafka_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$KAFKA_PID"
        say "kafka: not running"
        return 0
    fi
    say "kafka: stopping (pid $pid)…"
    kill -TERM "$pid" 2>/dev/null || true
    while pid_alive "$pid" && ((waited < KAFKA_STOP_TIMEOUT * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    if pid_alive "$pid"; then
        say "kafka: still running after ${KAFKA_STOP_TIMEOUT} s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    # Verify: nothing of ours may be left (also catches a broker whose pid file was lost).
    local left
    left="$(pgrep -f -- "kafka.Kafka $KAFKA_PROPS" || true)"
    if [[ -n "$left" ]]; then
        # shellcheck disable=SC2086 # word splitting wanted: one pid per word
        kill -KILL $left 2>/dev/null || true
        sleep 0.5
        left="$(pgrep -f -- "kafka.Kafka $KAFKA_PROPS" || true)"
        [[ -z "$left" ]] || die "kafka: processes still alive after SIGKILL: $left"
    fi
    rm -f "$KAFKA_PID"
    say "kafka: stopped"
}

# The chaos suite's broker crash: SIGKILL, no clean shutdown (the next start recovers the logs).
kafka_kill() {
    local pid
    pid="$(kafka_pid)"
    [[ -n "$pid" ]] || die "kafka: not running"
    kill -KILL "$pid"
    while pid_alive "$pid"; do sleep 0.1; done
    say "kafka: killed (pid $pid)"
}

kafka_status() {
    local pid ready="not-ready" running="stopped" rc=1 out="$STACK_DIR/.probe-kafka-status.out"
    pid="$(kafka_pid)"
    if [[ -n "$pid" ]]; then
        running="running"
        if probe kafka "$out"; then
            ready="ready"
            rc=0
        fi
    fi
    rm -f "$out"
    local rss="-"
    [[ -n "$pid" ]] && rss="$(rss_mib "$pid")MiB"
    printf 'kafka:    %-8s pid=%-7s %-9s version=%s rss=%s data=%s port=%s\n' \
        "$running" "${pid:--}" "$ready" "$(kafka_version)" "$rss" "$KAFKA_DATA" "$MP_KAFKA_PORT"
    return "$rc"
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# Run a command as the cluster owner: Postgres refuses to run as root.
as_pg() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_resolve_bin() {
    [[ -n "$PG_BIN" ]] && return 0
    local want="" candidate
    # An existing cluster must be run by its own major version's binaries.
    [[ -f "$PG_DATA/PG_VERSION" ]] && want="$(<"$PG_DATA/PG_VERSION")"
    if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        apt_install postgresql
        # Debian's package creates and starts a 'main' cluster on 5432; we leave it as it is.
    fi
    if [[ -n "$want" ]]; then
        [[ -x "/usr/lib/postgresql/$want/bin/postgres" ]] ||
            die "postgres: $PG_DATA was made by PostgreSQL $want, which is not installed (run '$0 clean' to start over)"
        PG_BIN="/usr/lib/postgresql/$want/bin"
        return 0
    fi
    # Highest installed major version.
    candidate="$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sed -E 's#^/usr/lib/postgresql/([0-9.]+)/bin/initdb$#\1#' | sort -V | tail -n 1)"
    PG_BIN="/usr/lib/postgresql/$candidate/bin"
}

pg_psql_bin() {
    pg_resolve_bin
    printf '%s' "$PG_BIN/psql"
}

# psql over the private unix socket as the superuser (local auth is trust).
pg_psql() {
    pg_resolve_bin
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$MP_PG_PORT" -U postgres "$@"
}

# Postmaster pid if our cluster runs, else nothing.
pg_pid() {
    [[ -f "$PG_DATA/postmaster.pid" ]] || return 0
    local pid
    pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && cmdline_has "$pid" "$PG_DATA"; then
        printf '%s' "$pid"
    fi
}

pg_alive() { [[ -n "$(pg_pid)" ]]; }

# The postgres OS user must be able to reach the data dir: add search (x) permission to any
# ancestor that lacks it for others. Only the traverse bit, never read.
pg_make_traversable() {
    ((EUID == 0)) || return 0
    local d="$PG_DIR"
    while [[ "$d" != "/" ]]; do
        d="$(dirname "$d")"
        if ! runuser -u postgres -- test -x "$d"; then
            say "postgres: adding o+x to $d so the postgres user can reach .stack/postgres"
            chmod o+x "$d"
        fi
    done
}

pg_prepare_dirs() {
    mkdir -p "$PG_DIR" "$PG_RUN" "$PG_LOGS"
    if ((EUID == 0)); then
        chown postgres:postgres "$PG_DIR" "$PG_RUN" "$PG_LOGS"
        [[ -d "$PG_DATA" ]] && chown -R postgres:postgres "$PG_DATA"
        [[ -f "$PG_LOG" ]] && chown postgres:postgres "$PG_LOG"
    fi
    pg_make_traversable
    # Unix socket paths are limited to 107 bytes.
    local sock="$PG_RUN/.s.PGSQL.$MP_PG_PORT"
    ((${#sock} <= 107)) || die "postgres: socket path $sock is longer than 107 bytes; move the repo to a shorter path"
}

pg_initdb() {
    [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
    local pwfile="$PG_DIR/.pwfile" locale="C"
    # C.UTF-8 keeps byte-order collation (fast, deterministic) with UTF-8 ctype, when available.
    locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' && locale="C.UTF-8"
    say "postgres: initdb ($("$PG_BIN/postgres" --version), locale $locale)…"
    rm -rf "$PG_DATA"
    (
        umask 077
        printf '%s\n' "$MP_PG_ADMIN_PASSWORD" >"$pwfile"
    )
    ((EUID == 0)) && chown postgres:postgres "$pwfile"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale="$locale" \
        >"$PG_LOGS/initdb.log" 2>&1; then
        rm -f "$pwfile"
        tail_log "$PG_LOGS/initdb.log"
        rm -rf "$PG_DATA"
        die "postgres: initdb failed"
    fi
    rm -f "$pwfile"
    # Our settings live in their own file, included from postgresql.conf.
    printf "\ninclude_if_exists = 'memberpulse.conf'\n" >>"$PG_DATA/postgresql.conf"
}

pg_write_config() {
    # Rewritten on each start so MP_PG_PORT changes take effect.
    cat >"$PG_DATA/memberpulse.conf" <<EOF
# Generated by deploy/local/stack.sh; rewritten on every start, edit the script instead.
port = ${MP_PG_PORT}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${PG_RUN}'
password_encryption = 'scram-sha-256'
shared_buffers = ${MP_PG_SHARED_BUFFERS}
# Member tables are updated at random rows: the first change to a page after a checkpoint writes the
# whole page to the WAL. Compressing those images and spacing checkpoints keeps that cost from
# growing with the number of members (docs/local-stack.md).
wal_compression = ${MP_PG_WAL_COMPRESSION}
max_wal_size = ${MP_PG_MAX_WAL_SIZE}
checkpoint_timeout = ${MP_PG_CHECKPOINT_TIMEOUT}
EOF
    ((EUID == 0)) && chown postgres:postgres "$PG_DATA/memberpulse.conf"
    return 0
}

pg_post_start() {
    # Keep the superuser password in step with MP_PG_ADMIN_PASSWORD, and create the app database.
    # psql variables (:'x', :"x") do the quoting; they only expand in script input, hence stdin.
    pg_psql -d postgres -v pw="$MP_PG_ADMIN_PASSWORD" -v db="$MP_PG_DATABASE" <<'SQL' >/dev/null
ALTER ROLE postgres PASSWORD :'pw';
SELECT format('CREATE DATABASE %I', :'db')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SQL
}

pg_version() {
    pg_psql -d postgres -At -c 'SELECT version()' 2>/dev/null | sed -E 's/ on .*//' || printf -- '-'
}

pg_up() {
    local pid t0
    pg_resolve_bin
    pg_prepare_dirs
    local already=0
    pid="$(pg_pid)"
    if [[ -n "$pid" ]]; then
        say "postgres: already running (pid $pid)"
        already=1
        t0="$(now_us)"
    else
        pg_initdb
        pg_write_config
        port_in_use "$MP_PG_PORT" && die "postgres: port $MP_PG_PORT on 127.0.0.1 is taken by another process (set MP_PG_PORT)"
        say "postgres: starting…"
        t0="$(now_us)"
        if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_READY_TIMEOUT" start >/dev/null 2>&1 9>&-; then
            tail_log "$PG_LOG"
            die "postgres: pg_ctl start failed"
        fi
        pid="$(pg_pid)"
    fi
    pg_post_start || {
        tail_log "$PG_LOG"
        die "postgres: could not set up database $MP_PG_DATABASE"
    }
    wait_ready postgres "$PG_READY_TIMEOUT" "$PG_LOG" pg_alive "$t0" || die "postgres: not ready"
    if ((already)); then
        say "postgres: ready ($(pg_version), pid $pid, port $MP_PG_PORT, db $MP_PG_DATABASE)"
    else
        say "postgres: ready in $(elapsed "$t0" "$(now_us)") s ($(pg_version), pid $pid, port $MP_PG_PORT, db $MP_PG_DATABASE)"
    fi
}

pg_down() {
    local pid kids
    if [[ ! -d "$PG_DATA" ]]; then
        say "postgres: not running"
        return 0
    fi
    pid="$(pg_pid)"
    if [[ -z "$pid" ]]; then
        say "postgres: not running"
        return 0
    fi
    pg_resolve_bin
    kids="$(pgrep -P "$pid" || true)"
    say "postgres: stopping (pid $pid)…"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1; then
        say "postgres: fast stop failed, using immediate"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    # Verify the postmaster and all its children are gone.
    local p left=""
    for p in $pid $kids; do
        pid_alive "$p" && left+="$p "
    done
    [[ -z "$left" ]] || die "postgres: processes still alive after stop: $left"
    say "postgres: stopped"
}

# The chaos suite's database crash: an immediate stop is a crash to Postgres (WAL recovery on the next start).
pg_crash() {
    [[ -n "$(pg_pid)" ]] || die "postgres: not running"
    pg_resolve_bin
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 9>&- || die "postgres: immediate stop failed"
    say "postgres: crashed (immediate stop)"
}

pg_status() {
    local pid ready="not-ready" running="stopped" rc=1 version="-" out="$STACK_DIR/.probe-postgres-status.out"
    local rss="-" total_kb=0 p kb
    pid="$(pg_pid)"
    if [[ -n "$pid" ]]; then
        running="running"
        if probe postgres "$out"; then
            ready="ready"
            rc=0
        fi
        version="$(pg_version)"
        rss="$(rss_mib "$pid")"
        # The postmaster alone is tiny; the backends and workers hold the rest (shared memory is
        # counted once per process, so the sum over-counts it).
        for p in $pid $(pgrep -P "$pid" || true); do
            kb="$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)"
            total_kb=$((total_kb + ${kb:-0}))
        done
        rss="${rss}MiB(all=$(awk -v k="$total_kb" 'BEGIN { printf "%.1f", k / 1024 }')MiB)"
    else
        [[ -f "$PG_DATA/PG_VERSION" ]] && version="PostgreSQL $(<"$PG_DATA/PG_VERSION") (data dir)"
    fi
    rm -f "$out"
    printf 'postgres: %-8s pid=%-7s %-9s version=%s rss=%s data=%s port=%s\n' \
        "$running" "${pid:--}" "$ready" "\"$version\"" "$rss" "$PG_DATA" "$MP_PG_PORT"
    return "$rc"
}

# ---------------------------------------------------------------------------
# Whole stack
# ---------------------------------------------------------------------------

bootstrap() {
    if [[ ! -f "$ROOT/shared/stack/__main__.py" ]]; then
        say "bootstrap: shared/stack/__main__.py not present yet, skipped"
        return 0
    fi
    say "bootstrap: roles, schemas, topics, migrations…"
    (cd "$ROOT" && "$PY" -m shared.stack bootstrap) || die "bootstrap failed"
}

demo_down() {
    # The services and provider sinks `make demo` left running: they hold the stack's connections.
    local pidfile pid
    for pidfile in "$STACK_DIR"/demo/*.pid; do
        [[ -e "$pidfile" ]] || continue
        pid="$(cat "$pidfile")"
        if [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE 'services\.|tools\.provider_sinks'; then
            say "demo: stopping $(basename "$pidfile" .pid) (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
}

stack_down() {
    # Stop both even if one fails (die exits only its subshell); fail at the end.
    local rc=0
    demo_down
    (kafka_down) || rc=1
    (pg_down) || rc=1
    return "$rc"
}

stack_status() {
    local rc=0
    kafka_status || rc=1
    pg_status || rc=1
    return "$rc"
}

usage() {
    cat >&2 <<EOF
usage: $0 up|down|status|clean|kafka-up|kafka-down|kafka-kill|kafka-fetch|pg-up|pg-down|pg-crash
EOF
    exit 2
}

main() {
    [[ $# -eq 1 ]] || usage
    mkdir -p "$STACK_DIR"
    if [[ "$1" != "status" ]]; then
        # Test sessions may run `up` at the same time; only one may start or stop processes.
        # Released when this shell exits; the daemons are started with fd 9 closed (9>&-), or they
        # would hold the lock for as long as they run.
        exec 9>"$STACK_DIR/.lock"
        flock -w 300 9 || die "another stack.sh has held $STACK_DIR/.lock for 5 minutes"
    fi
    [[ "$1" == *up ]] && reserve_ports
    case "$1" in
        up)
            kafka_up
            pg_up
            bootstrap
            ;;
        down) stack_down ;;
        status) stack_status ;;
        clean)
            stack_down
            say "clean: removing $KAFKA_DATA and $PG_DIR"
            rm -rf "$KAFKA_DATA" "$PG_DIR"
            ;;
        kafka-up) kafka_up ;;
        kafka-down) kafka_down ;;
        kafka-kill) kafka_kill ;;
        kafka-fetch) kafka_fetch ;;
        pg-up) pg_up ;;
        pg-down) pg_down ;;
        pg-crash) pg_crash ;;
        *) usage ;;
    esac
}

main "$@"
