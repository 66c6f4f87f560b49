#!/bin/sh
# Runs inside the x86_64 guest (see scripts/demo.sh).
# usage: demo-guest.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
step() { printf '\n$ %s\n' "$*"; "$@"; }

echo "utrace demo in $(uname -sr) ($(uname -m), qemu)"
step "$ctl" status
step "$ctl" load --module "$ko"
step "$ctl" status
step "$ctl" ping
step "$ctl" status --json
step "$ctl" unload
step "$ctl" status
