#!/usr/bin/env bash
# Install and run a real Apache Kafka broker for Planet (KRaft combined mode, one node).
#
#   scripts/kafka.sh install   fetch the broker jars from Maven Central into .local/kafka/lib (once)
#   scripts/kafka.sh start     install if needed, format storage once, start, wait until it answers
#   scripts/kafka.sh stop      SIGTERM, wait, SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   scripts/kafka.sh status    exit 0 if running and answering, 3 if not running, 1 otherwise
#   scripts/kafka.sh reset     stop and wipe the broker's data (and logs); jars are kept
#   scripts/kafka.sh restart   stop, then start
#   scripts/kafka.sh logs [N]  print the last N lines of the broker logs
#
# Needs only a JDK (17+) and Maven on PATH; python3 with aiokafka is used for the readiness probe
# when present, Kafka's own tools otherwise.
#
# Environment:
#   KAFKA_BOOTSTRAP_SERVERS  use that cluster instead: `start` only waits for it to answer,
#                            `stop`/`reset` do nothing, `status` probes it. Set to this script's
#                            own address (127.0.0.1:$KAFKA_PORT / localhost:$KAFKA_PORT) it still
#                            means the local broker, unless another Kafka already answers there.
#   KAFKA_HOST               listener address (default 127.0.0.1)
#   KAFKA_PORT               client listener port, PLAINTEXT (default 9092)
#   KAFKA_CONTROLLER_PORT    KRaft controller port (default 9093; fixed at format time)
#   KAFKA_VERSION            override the version in deploy/kafka/pom.xml
#   KAFKA_HEAP_OPTS          default "-Xms256m -Xmx768m"
#   KAFKA_JVM_OPTS           extra JVM flags
#   KAFKA_START_TIMEOUT      seconds to wait for the broker to answer (default 60)
#   KAFKA_STOP_TIMEOUT       seconds to wait after SIGTERM before SIGKILL (default 45)
#
# Everything generated lives under <repo>/.local/kafka: lib/ (jars), data/, logs/, kafka.pid,
# server.properties (rendered from deploy/kafka/server.properties).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
DEPLOY_DIR="$REPO_ROOT/deploy/kafka"
POM="$DEPLOY_DIR/pom.xml"
TEMPLATE="$DEPLOY_DIR/server.properties"
LOG4J_CONF="$DEPLOY_DIR/log4j2.properties"

LOCAL_DIR="$REPO_ROOT/.local"
KDIR="$LOCAL_DIR/kafka"
LIB_DIR="$KDIR/lib"
DATA_DIR="$KDIR/data"
LOG_DIR="$KDIR/logs"
PID_FILE="$KDIR/kafka.pid"
CONF="$KDIR/server.properties"
FORMAT_INFO="$KDIR/format.env"
OUT_FILE="$LOG_DIR/kafka.out"

KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-45}"
EXTERNAL_BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-}"
# KAFKA_BOOTSTRAP_SERVERS naming this script's own listener (as a project .env may well do) still
# means "the local broker": start/stop/reset manage it, unless some other Kafka already answers there.
BOOTSTRAP_IS_LOCAL=0
case "$EXTERNAL_BOOTSTRAP" in
    "$KAFKA_HOST:$KAFKA_PORT" | "127.0.0.1:$KAFKA_PORT" | "localhost:$KAFKA_PORT")
        BOOTSTRAP_IS_LOCAL=1
        EXTERNAL_BOOTSTRAP="" ;;
esac
LOCAL_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

pom_version() {
    sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1
}

kafka_version() {
    local v="${KAFKA_VERSION:-}"
    [[ -n "$v" ]] || v="$(pom_version)"
    [[ -n "$v" ]] || die "cannot read <kafka.version> from $POM"
    printf '%s' "$v"
}

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH ($2)"
}

ensure_local_dirs() {
    mkdir -p "$KDIR"
    # .local/ holds only generated files: keep it out of git even without a root .gitignore entry.
    [[ -f "$LOCAL_DIR/.gitignore" ]] || printf '*\n' >"$LOCAL_DIR/.gitignore"
}

# Serialise install/start/stop/reset between concurrent callers (flock is in util-linux).
LOCKED=0
take_lock() {
    ensure_local_dirs
    [[ $LOCKED -eq 0 ]] || return 0
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$KDIR/.lock"
        flock -w 180 9 || die "another kafka.sh is busy for more than 180 s (lock $KDIR/.lock)"
    fi
    LOCKED=1
}

java_cp() {
    # Classpath wildcard: every jar in lib/ (the JVM expands it, the shell must not).
    printf '%s/*' "$LIB_DIR"
}

# ---------------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------------
# What was installed: the version and a digest of the pom without comments and whitespace (so a
# changed dependency refetches, an edited comment does not). perl-base is on every Debian.
install_marker() {
    local version="$1" pom_sum
    pom_sum="$(perl -0pe 's/<!--.*?-->//gs; s/\s+//g' "$POM" | sha256sum | cut -d' ' -f1)"
    printf 'kafka.version=%s pom.sha256=%s\n' "$version" "$pom_sum"
}

is_installed() {
    local version="$1"
    [[ -f "$LIB_DIR/.installed" ]] || return 1
    [[ "$(cat "$LIB_DIR/.installed")" == "$(install_marker "$version")" ]] || return 1
    compgen -G "$LIB_DIR/kafka_2.13-$version.jar" >/dev/null
}

cmd_install() {
    local version tmp mvn_log
    version="$(kafka_version)"
    take_lock
    if is_installed "$version"; then
        log "Kafka $version already installed in ${LIB_DIR#"$REPO_ROOT"/} ($(find "$LIB_DIR" -name '*.jar' | wc -l) jars)"
        return 0
    fi
    if running_pid >/dev/null; then
        die "the broker is running from ${LIB_DIR#"$REPO_ROOT"/}: stop it before installing Kafka $version"
    fi
    need_cmd mvn "install Maven 3.x"
    need_cmd java "install a JDK 17+"
    log "fetching Apache Kafka $version from Maven Central (first time only) ..."
    tmp="$KDIR/lib.tmp.$$"
    mvn_log="$KDIR/mvn-install.log"
    rm -rf "$tmp"
    if ! (cd "$DEPLOY_DIR" && mvn -q -B -f "$POM" \
            -Dkafka.version="$version" \
            -DincludeScope=runtime \
            -DoutputDirectory="$tmp" \
            dependency:copy-dependencies) >"$mvn_log" 2>&1; then
        tail -n 30 "$mvn_log" >&2 || true
        rm -rf "$tmp"
        die "Maven could not resolve org.apache.kafka:kafka_2.13:$version (full log: $mvn_log)"
    fi
    [[ -f "$tmp/kafka_2.13-$version.jar" ]] || { rm -rf "$tmp"; die "Maven ran but kafka_2.13-$version.jar is missing in $tmp"; }
    install_marker "$version" >"$tmp/.installed"
    rm -rf "$LIB_DIR"
    mv "$tmp" "$LIB_DIR"
    rm -f "$mvn_log"
    log "installed Kafka $version: $(find "$LIB_DIR" -name '*.jar' | wc -l) jars, $(du -sh "$LIB_DIR" | cut -f1) in ${LIB_DIR#"$REPO_ROOT"/}"
}

# ---------------------------------------------------------------------------------------------
# process helpers
# ---------------------------------------------------------------------------------------------
# Prints the pid of *our* broker (pid file + the process really is kafka.Kafka on our config).
running_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(tr -dc '0-9' <"$PID_FILE")"
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        local cmdline
        cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
        [[ "$cmdline" == *kafka.Kafka*"$CONF"* ]] || return 1
    fi
    printf '%s' "$pid"
}

port_open() { # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# tail_logs [N] [SERVER_LOG_OFFSET]: the JVM's own output and the broker's server.log (from the
# given byte offset on, so a failed start shows only its own lines).
tail_logs() {
    local n="${1:-25}" from="${2:-0}" f="$LOG_DIR/server.log"
    if [[ -s "$OUT_FILE" ]]; then
        printf -- '----- last %s lines of %s -----\n' "$n" "${OUT_FILE#"$REPO_ROOT"/}" >&2
        tail -n "$n" "$OUT_FILE" >&2
    fi
    if [[ -s "$f" ]]; then
        local lines
        lines="$(tail -c "+$((from + 1))" "$f" | tail -n "$n")"
        if [[ -n "$lines" ]]; then
            printf -- '----- last %s lines of %s -----\n%s\n' "$n" "${f#"$REPO_ROOT"/}" "$lines" >&2
        else
            printf -- '----- %s: nothing written yet -----\n' "${f#"$REPO_ROOT"/}" >&2
        fi
    fi
}

# ---------------------------------------------------------------------------------------------
# readiness probe: a metadata round trip that lists at least one broker
# ---------------------------------------------------------------------------------------------
PY_PROBE='
import asyncio, logging, sys
logging.disable(logging.CRITICAL)
try:
    from aiokafka.client import AIOKafkaClient
except Exception:
    sys.exit(2)

async def main(bootstrap):
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=4000)
    try:
        await asyncio.wait_for(client.bootstrap(), 6)
        brokers = client.cluster.brokers()
        if not brokers:
            return 1
        print("metadata lists %d broker(s): %s" % (len(brokers), ", ".join(
            "%s:%s" % (b.host, b.port) for b in sorted(brokers, key=lambda b: b.nodeId))))
        return 0
    except Exception:
        return 1
    finally:
        try:
            await client.close()
        except Exception:
            pass

sys.exit(asyncio.run(main(sys.argv[1])))
'

# probe BOOTSTRAP -> 0 answering, 1 not (yet); prints a short description on success
probe() {
    local bootstrap="$1" rc=2 out
    if command -v python3 >/dev/null 2>&1; then
        out="$(python3 -c "$PY_PROBE" "$bootstrap" 2>/dev/null)" && rc=0 || rc=$?
        if [[ $rc -eq 0 ]]; then printf '%s' "$out"; return 0; fi
        [[ $rc -eq 2 ]] || return 1
    fi
    # No aiokafka: Kafka's own admin tool, if the jars are here.
    if compgen -G "$LIB_DIR/kafka-tools-*.jar" >/dev/null && command -v java >/dev/null 2>&1; then
        out="$(java -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j2.level=OFF -cp "$(java_cp)" \
                org.apache.kafka.tools.ClusterTool cluster-id --bootstrap-server "$bootstrap" 2>/dev/null)" || return 1
        [[ "$out" == *"Cluster ID"* ]] || return 1
        printf '%s' "$out"
        return 0
    fi
    # Last resort (external cluster, no client available): the first address accepts TCP.
    local first="${bootstrap%%,*}"
    port_open "${first%:*}" "${first##*:}" && { printf 'port open (no Kafka client available to probe further)'; return 0; }
    return 1
}

# wait_ready BOOTSTRAP TIMEOUT [PID]; fails early if PID dies
wait_ready() {
    local bootstrap="$1" timeout="$2" pid="${3:-}" start now desc
    start=$SECONDS
    while :; do
        if desc="$(probe "$bootstrap")"; then
            log "Kafka at $bootstrap is answering: $desc ($((SECONDS - start)) s)"
            return 0
        fi
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        now=$SECONDS
        if (( now - start >= timeout )); then
            return 1
        fi
        sleep 1
    done
}

# ---------------------------------------------------------------------------------------------
# start
# ---------------------------------------------------------------------------------------------
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

render_config() {
    [[ -f "$TEMPLATE" ]] || die "missing $TEMPLATE"
    sed -e "s|@HOST@|$(sed_escape "$KAFKA_HOST")|g" \
        -e "s|@PORT@|$(sed_escape "$KAFKA_PORT")|g" \
        -e "s|@CONTROLLER_PORT@|$(sed_escape "$KAFKA_CONTROLLER_PORT")|g" \
        -e "s|@DATA_DIR@|$(sed_escape "$DATA_DIR")|g" \
        "$TEMPLATE" >"$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
}

format_storage() {
    if [[ -f "$DATA_DIR/meta.properties" ]]; then
        # The KRaft voter set (controller host:port) is written at format time.
        if [[ -f "$FORMAT_INFO" ]]; then
            local fmt_host fmt_cport
            fmt_host="$(sed -n 's/^HOST=//p' "$FORMAT_INFO")"
            fmt_cport="$(sed -n 's/^CONTROLLER_PORT=//p' "$FORMAT_INFO")"
            if [[ "$fmt_host:$fmt_cport" != "$KAFKA_HOST:$KAFKA_CONTROLLER_PORT" ]]; then
                die "storage was formatted for controller $fmt_host:$fmt_cport, not $KAFKA_HOST:$KAFKA_CONTROLLER_PORT; use the same KAFKA_HOST/KAFKA_CONTROLLER_PORT or run: scripts/kafka.sh reset"
            fi
        fi
        return 0
    fi
    local cluster_id out
    mkdir -p "$DATA_DIR"
    cluster_id="$(java -Xmx128m -cp "$(java_cp)" -Dlog4j2.level=OFF kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid gave '$cluster_id'"
    if ! out="$(java -Xmx256m -cp "$(java_cp)" -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOG_DIR" \
            kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF" --standalone 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "formatting storage in ${DATA_DIR#"$REPO_ROOT"/} failed"
    fi
    printf 'CLUSTER_ID=%s\nHOST=%s\nCONTROLLER_PORT=%s\nKAFKA_VERSION=%s\n' \
        "$cluster_id" "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT" "$(kafka_version)" >"$FORMAT_INFO"
    log "formatted storage in ${DATA_DIR#"$REPO_ROOT"/} (cluster id $cluster_id)"
}

cmd_start() {
    if [[ -n "$EXTERNAL_BOOTSTRAP" ]]; then
        log "KAFKA_BOOTSTRAP_SERVERS=$EXTERNAL_BOOTSTRAP is set: not starting a local broker, waiting for that cluster"
        wait_ready "$EXTERNAL_BOOTSTRAP" "$KAFKA_START_TIMEOUT" && return 0
        die "Kafka at $EXTERNAL_BOOTSTRAP did not answer within ${KAFKA_START_TIMEOUT} s (unset KAFKA_BOOTSTRAP_SERVERS to run the local broker)"
    fi
    if [[ $BOOTSTRAP_IS_LOCAL -eq 1 ]] && ! running_pid >/dev/null && port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        log "KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS} is taken by a broker this script did not start: using it"
        wait_ready "$LOCAL_BOOTSTRAP" "$KAFKA_START_TIMEOUT" && return 0
        die "something listens on $LOCAL_BOOTSTRAP but does not answer as Kafka within ${KAFKA_START_TIMEOUT} s"
    fi
    need_cmd java "install a JDK 17+"
    take_lock

    local pid rc
    if pid="$(running_pid)"; then
        if wait_ready "$LOCAL_BOOTSTRAP" "$KAFKA_START_TIMEOUT" "$pid"; then
            log "already running (pid $pid) on $LOCAL_BOOTSTRAP"
            if ! is_installed "$(kafka_version)"; then
                log "note: it runs another Kafka version than $(kafka_version); scripts/kafka.sh restart to switch"
            fi
            return 0
        fi
        tail_logs
        die "broker pid $pid is running but does not answer on $LOCAL_BOOTSTRAP; try: scripts/kafka.sh stop && scripts/kafka.sh start"
    fi
    rm -f "$PID_FILE"
    cmd_install

    local p
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        if port_open "$KAFKA_HOST" "$p"; then
            die "port $KAFKA_HOST:$p is already in use by another process (not this repo's broker); stop it, choose KAFKA_PORT/KAFKA_CONTROLLER_PORT, or set KAFKA_BOOTSTRAP_SERVERS to use it"
        fi
    done

    mkdir -p "$DATA_DIR" "$LOG_DIR"
    render_config
    format_storage

    # shellcheck disable=SC2206 # word splitting of the option strings is intended
    local jvm=(java -server $KAFKA_HEAP_OPTS
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
        -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError
        -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$LOG4J_CONF"
        -Dkafka.logs.dir="$LOG_DIR"
        $KAFKA_JVM_OPTS
        -cp "$(java_cp)" kafka.Kafka "$CONF")
    # kafka.out: this run's JVM stdout/stderr (the previous run's is kept as kafka.out.1).
    [[ -f "$OUT_FILE" ]] && mv -f "$OUT_FILE" "$OUT_FILE.1"
    printf '%s starting Kafka %s: %s\n' "$(date -u +%FT%TZ)" "$(kafka_version)" "${jvm[*]}" >"$OUT_FILE"
    local log_from=0
    [[ -f "$LOG_DIR/server.log" ]] && log_from="$(stat -c %s "$LOG_DIR/server.log")"
    # Own session (setsid): not killed with the calling terminal or CI step's process group.
    # The inner shell writes its own pid, then exec's the JVM, so the pid is the JVM's.
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka-launch "$PID_FILE" "${jvm[@]}" \
        </dev/null >>"$OUT_FILE" 2>&1 9>&- &
    local _
    for _ in $(seq 1 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
    pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] || die "the broker did not start (no pid written to $PID_FILE)"
    log "started Kafka $(kafka_version) (pid $pid), waiting up to ${KAFKA_START_TIMEOUT} s for $LOCAL_BOOTSTRAP ..."

    rc=0
    wait_ready "$LOCAL_BOOTSTRAP" "$KAFKA_START_TIMEOUT" "$pid" || rc=$?
    case $rc in
        0) log "logs: ${LOG_DIR#"$REPO_ROOT"/}/server.log, data: ${DATA_DIR#"$REPO_ROOT"/}, pid file: ${PID_FILE#"$REPO_ROOT"/}"
           return 0 ;;
        2) tail_logs 40 "$log_from"
           rm -f "$PID_FILE"
           die "the broker (pid $pid) exited during startup; see the log lines above" ;;
        *) tail_logs 40 "$log_from"
           die "the broker (pid $pid) did not answer on $LOCAL_BOOTSTRAP within ${KAFKA_START_TIMEOUT} s; it is left running for inspection (scripts/kafka.sh stop to end it)" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# stop / status / reset
# ---------------------------------------------------------------------------------------------
stop_local() {
    local pid waited=0
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    log "stopping Kafka (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if (( waited >= KAFKA_STOP_TIMEOUT * 10 )); then
            log "still running after ${KAFKA_STOP_TIMEOUT} s: sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            local _
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then die "pid $pid still exists 10 s after SIGKILL"; fi
    rm -f "$PID_FILE"
    log "stopped ($((waited / 10)) s)"
}

cmd_stop() {
    if [[ -n "$EXTERNAL_BOOTSTRAP" ]]; then
        log "KAFKA_BOOTSTRAP_SERVERS is set: the cluster at $EXTERNAL_BOOTSTRAP is not managed here, nothing to stop"
        return 0
    fi
    take_lock
    stop_local
}

cmd_status() {
    local desc pid
    if [[ -n "$EXTERNAL_BOOTSTRAP" ]]; then
        if desc="$(probe "$EXTERNAL_BOOTSTRAP")"; then
            echo "external Kafka at $EXTERNAL_BOOTSTRAP: answering ($desc)"
            return 0
        fi
        echo "external Kafka at $EXTERNAL_BOOTSTRAP: NOT answering"
        return 1
    fi
    local installed="not installed"
    if [[ -f "$LIB_DIR/.installed" ]]; then
        installed="$(sed -n 's/^kafka.version=\([^ ]*\).*/\1/p' "$LIB_DIR/.installed") installed"
    fi
    if ! pid="$(running_pid)"; then
        echo "Kafka ($installed): not running"
        return 3
    fi
    if desc="$(probe "$LOCAL_BOOTSTRAP")"; then
        echo "Kafka ($installed): running, pid $pid, $LOCAL_BOOTSTRAP answering ($desc)"
        return 0
    fi
    echo "Kafka ($installed): running, pid $pid, but $LOCAL_BOOTSTRAP is NOT answering (see ${LOG_DIR#"$REPO_ROOT"/}/server.log)"
    return 1
}

cmd_reset() {
    if [[ -n "$EXTERNAL_BOOTSTRAP" ]]; then
        die "KAFKA_BOOTSTRAP_SERVERS is set: refusing to reset a cluster this script does not manage"
    fi
    take_lock
    stop_local
    rm -rf "$DATA_DIR" "$LOG_DIR" "$FORMAT_INFO" "$CONF"
    log "wiped ${DATA_DIR#"$REPO_ROOT"/} and ${LOG_DIR#"$REPO_ROOT"/} (jars kept in ${LIB_DIR#"$REPO_ROOT"/})"
}

cmd_logs() {
    tail_logs "${1:-60}" 2>&1
}

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
        install) cmd_install ;;
        start) cmd_start ;;
        stop) cmd_stop ;;
        restart) cmd_stop; cmd_start ;;
        status) cmd_status ;;
        reset) cmd_reset ;;
        logs) cmd_logs "$@" ;;
        -h|--help|help) usage ;;
        "") usage >&2; exit 64 ;;
        *) usage >&2; die "unknown command '$cmd'" ;;
    esac
}

main "$@"
