#!/bin/sh
# In the x86_64 guest: utracectl loads the module and the BPF programs,
# engines run on real workloads (a count engine on a busy shell, a stopper
# stopped and resumed in a loop), utracectl serve exposes the metrics, and a
# real Prometheus (Debian's, tmpfs data dir) scrapes them with the shipped
# scrape config and rules.  Then every PromQL expression of the dashboards
# and the rules must return data (dashboards/promql-check.py).
#
# usage: utracectl-prometheus.sh UTRACECTL MODULE DASHBOARDS_DIR
set -eu
ctl=$1 ko=$2 dash=$3
work=$(mktemp -d /tmp/utrace-prom.XXXXXX)
pids=""

fail() {
	echo "FAIL: $*"
	exit 1
}

t0=$(date +%s)
stage() {
	echo "== $(($(date +%s) - t0)) s: $*"
}

cleanup() {
	stage "cleanup"
	# Engines first (a stopped thread then runs and dies like the others),
	# then every process, SIGKILL for those that linger.
	"$ctl" engines --json | python3 -c 'import json,sys; [print(e["id"]) for e in json.load(sys.stdin)]' |
		while read -r e; do "$ctl" detach "$e" >/dev/null 2>&1 || true; done
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 1
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	"$ctl" unload || true
	stage "done"
}
trap cleanup EXIT

ip link set lo up
stage "load"
"$ctl" load --module "$ko"

# Workloads: a shell forking ls in a loop under a count engine; a sleeping
# loop under a stopper that is stopped and resumed every 0.6 s.
sh -c 'while :; do ls / >/dev/null; sleep 0.1; done' &
busy=$!
pids="$pids $busy"
sh -c 'while :; do sleep 0.1; done' &
sleeper=$!
pids="$pids $sleeper"
"$ctl" attach --pid "$busy" --engine count --events syscall,lifecycle
out=$("$ctl" attach --pid "$sleeper" --engine stopper --events quiesce,syscall)
id=${out#engine }
id=${id%% *}
sh -c "while :; do '$ctl' control $id stop >/dev/null; sleep 0.3; \
	'$ctl' control $id resume >/dev/null; sleep 0.3; done" &
pids="$pids $!"

"$ctl" serve --listen 127.0.0.1:9477 &
pids="$pids $!"

# The shipped configuration, scraping and evaluating every second.
python3 - "$dash/prometheus/prometheus.yml" "$work/prometheus.yml" "$dash/prometheus" <<'PY'
import sys, yaml
src, dst, rules_dir = sys.argv[1:]
cfg = yaml.safe_load(open(src))
cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
cfg["rule_files"] = [f"{rules_dir}/{f}" for f in cfg["rule_files"]]
yaml.safe_dump(cfg, open(dst, "w"))
PY
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
	--web.listen-address=127.0.0.1:9090 --log.level=warn >"$work/prometheus.log" 2>&1 &
pids="$pids $!"

stage "Prometheus started"
i=0
until curl -sf http://127.0.0.1:9090/-/ready >/dev/null; do
	i=$((i + 1))
	[ $i -lt 120 ] || { cat "$work/prometheus.log"; fail "Prometheus not ready after 60 s"; }
	sleep 0.5
done
curl -sf http://127.0.0.1:9477/metrics | grep -q '^utrace_bpf_loaded{mode="btf"} 1' ||
	fail "utracectl serve does not report its BPF programs"

stage "Prometheus ready"
rc=0
python3 "$dash/promql-check.py" check --url http://127.0.0.1:9090 --timeout 150 \
	"$dash"/grafana/*.json "$dash"/prometheus/rules.yml || rc=$?

stage "expressions checked"
"$ctl" stats
"$ctl" stats | grep -q '^count .*syscall-entry' || fail "stats shows no count engine reports"
"$ctl" stats | grep -q '^stopper ' || fail "stats shows no stopper"
exit $rc
