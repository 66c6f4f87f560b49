#!/usr/bin/env python3
"""Every PromQL expression of the Grafana dashboards and the rules files,
run against a live Prometheus: each must return data.

usage: promql-check.py list FILE...
       promql-check.py check --url URL [--timeout S] FILE...

FILEs are Grafana dashboard JSON (every panel target's "expr", and the
label_values() queries of template variables) and Prometheus rules YAML
(every rule's "expr").  A new panel or rule is checked without touching
this script.  Grafana variables become what a viewer sees with "All"
selected: $__rate_interval -> 1m, $__interval -> 15s, $__range -> 5m, any
other $var or ${var} -> .* (every dashboard selector uses =~).  An alert's
condition ("X > 0.1") is run with the bool modifier ("X > bool 0.1"), which
returns its series whether or not the alert would fire.

check retries the expressions that return nothing until --timeout seconds
have passed (rates need two scrapes, recording rules an evaluation), then
lists each expression with its number of series and fails (exit 1) if any
returned none.
"""
import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml

GRAFANA_VARS = [("$__rate_interval", "1m"), ("${__rate_interval}", "1m"),
                ("$__interval", "15s"), ("${__interval}", "15s"),
                ("$__range", "5m"), ("${__range}", "5m")]
CMP_AT_END = re.compile(r"(==|!=|>=|<=|>|<)\s*(-?[0-9.eE+]+)\s*$")


def grafana_exprs(dash, source):
    out = []

    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                out.append((f"{source}: panel '{p.get('title')}' {t.get('refId', '')}",
                            t["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"\s*label_values\((.*),\s*(\w+)\)\s*$", q or "")
        if v.get("type") == "query" and m:
            out.append((f"{source}: variable ${v['name']}", m.group(1)))
    return out


def rule_exprs(rules, source):
    out = []
    for g in rules.get("groups", []):
        for r in g.get("rules", []):
            name = r.get("record") or r.get("alert")
            expr = " ".join(str(r["expr"]).split())
            if "alert" in r:
                expr = CMP_AT_END.sub(r"\1 bool \2", expr)
            out.append((f"{source}: {'alert' if 'alert' in r else 'record'} {name}", expr))
    return out


def substitute(expr):
    for var, val in GRAFANA_VARS:
        expr = expr.replace(var, val)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def collect(files):
    exprs = []
    for f in files:
        with open(f) as fh:
            text = fh.read()
        if f.endswith(".json"):
            exprs += grafana_exprs(json.loads(text), f)
        else:
            exprs += rule_exprs(yaml.safe_load(text), f)
    return [(where, substitute(e)) for where, e in exprs]


def query(url, expr):
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "query failed"))
    return body["data"]["result"]


def check(url, exprs, timeout):
    deadline = time.monotonic() + timeout
    results = {}
    while True:
        for where, e in exprs:
            if results.get(where, 0) > 0:
                continue
            try:
                results[where] = len(query(url, e))
            except Exception as err:  # noqa: BLE001 - reported below
                results[where] = f"error: {err}"
        empty = [w for w, _ in exprs if not (isinstance(results[w], int) and results[w] > 0)]
        if not empty or time.monotonic() > deadline:
            break
        time.sleep(2)
    for where, e in exprs:
        r = results[where]
        ok = isinstance(r, int) and r > 0
        print(f"{'ok  ' if ok else 'FAIL'} {where}: {r if isinstance(r, str) else f'{r} series'}"
              f"\n       {e}")
    print(f"promql-check: {len(exprs) - len(empty)}/{len(exprs)} expressions returned data")
    return 0 if not empty else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["list", "check"])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--url", default="http://127.0.0.1:9090")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    exprs = collect(args.files)
    if not exprs:
        print("promql-check: no expressions found", file=sys.stderr)
        return 1
    if args.mode == "list":
        for where, e in exprs:
            print(f"{where}\n  {e}")
        return 0
    return check(args.url.rstrip("/"), exprs, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
