#!/bin/sh
# utracectl trace in a guest, either arch (the ppc64le guest: static
# utracectl and busybox): -f on a shell that runs two commands, the
# strings the kernel captured (execve's path and argv, openat's paths),
# errno names, exit statuses, -e trace= filtered in the kernel, -c, --json,
# and -p attaching to a running process that is then killed.
# usage: utracectl-trace.sh UTRACECTL
set -u
ctl=$1
out=/tmp/utracectl-trace.out
err=/tmp/utracectl-trace.err
fail() {
	echo "FAIL: $*"
	echo "---- trace:"
	head -c 6000 "$out"
	echo "---- stderr:"
	cat "$err"
	exit 1
}
joined=/tmp/utracectl-trace.joined
has() { # has "ERE" "what": a line of the trace matches (unfinished calls joined)
	# "PID call(args <unfinished ...>" + "PID <... call resumed>) = R"
	awk '{ pid = $1; line = $0; sub(/^[0-9]+ +/, "", line)
	       if (line ~ / <unfinished \.\.\.>$/) { part[pid] = substr(line, 1, length(line) - 17); next }
	       if (match(line, /^<\.\.\. [a-z0-9_]+ resumed>/)) line = part[pid] substr(line, RLENGTH + 1)
	       print pid " " line }' "$out" >"$joined"
	grep -qE -- "$1" "$joined" || fail "no line matching: $1 ($2)"
	echo "ok: $2"
}
hasraw() { # hasraw "ERE" "what": a line of the output as it is
	grep -qE -- "$1" "$out" || fail "no line matching: $1 ($2)"
	echo "ok: $2"
}
wait_for() { # wait_for "ERE" FILE "what failed": until a line of FILE matches (30 s)
	i=0
	until grep -qE -- "$1" "$2"; do
		i=$((i + 1))
		[ $i -lt 300 ] || fail "$3 after 30 s"
		sleep 0.1
	done
}
work='/bin/cat /proc/version > /dev/null; /bin/cat /nonexistent 2> /dev/null; exit 3'

"$ctl" trace -f -o "$out" -- /bin/sh -c "$work" 2>"$err"
rc=$?
[ $rc -eq 3 ] || fail "trace -f -- sh: exit status $rc, not the command's 3"
echo "ok: the command's exit status"
has '^[0-9]+ execve\("/bin/sh", \["/bin/sh", "-c", "/bin/cat /proc/version > /dev/nu"\.\.\.\], 0x[0-9a-f]+\) = 0$' \
	"execve of the command, path and argv (cut at -s 32)"
has '^[0-9]+ +execve\("/bin/cat", \["/bin/cat", "/proc/version"\], 0x[0-9a-f]+\) = 0$' \
	"execve in a child (-f)"
has '^[0-9]+ +openat\(AT_FDCWD, "/proc/version", O_RDONLY[A-Z_|]*\) = 3$' "openat's path"
has '^[0-9]+ +openat\(AT_FDCWD, "/nonexistent", O_RDONLY[A-Z_|]*\) = -1 ENOENT \(No such file or directory\)$' \
	"an errno by name"
has '^[0-9]+ +exit_group\(3\) += \?$' "exit_group never returns"
has '^[0-9]+ +\+\+\+ exited with 3 \+\+\+$' "the shell's exit"
has '^[0-9]+ +\+\+\+ exited with 1 \+\+\+$' "the failed cat's exit"
pids=$(sed -n 's/^\([0-9][0-9]*\) .*/\1/p' "$out" | sort -u | wc -l)
[ "$pids" -ge 3 ] || fail "$pids processes in the trace, expected the shell and two cats"
echo "ok: $pids processes followed"
grep -q lost "$err" && fail "records lost"

"$ctl" trace -f -e trace=openat,exit_group -o "$out" -- /bin/sh -c "$work" 2>"$err"
grep -vE '^[0-9]+ +(openat\(|exit_group\(|\+\+\+ |--- )' "$out" | grep . &&
	fail "-e trace=openat,exit_group: other calls shown"
has '^[0-9]+ +openat\(AT_FDCWD, "/proc/version", O_RDONLY[A-Z_|]*\) = 3$' \
	"-e trace=openat,exit_group shows openat, and only what it names"

"$ctl" trace -f -e trace=%file -c -o "$out" -- /bin/sh -c "$work" 2>"$err"
hasraw '^ *[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ openat$' \
	"-c: openat's calls and errors"
hasraw '^100\.00 +[0-9]+\.[0-9]+ +[0-9]+ +[0-9]+ total$' "-c: the total"
grep -qE ' (read|close|mmap)$' "$out" && fail "-c -e trace=%file counted a call outside %file"

"$ctl" trace -f --json -o "$out" -- /bin/sh -c "$work" 2>"$err"
hasraw '^\{.*"error":"ENOENT".*"syscall":"openat".*\}$' "--json: openat's error"
hasraw '^\{.*"status":3.*"type":"exit".*\}$' "--json: the exit"

# A trace longer than its ring: after a ring's worth of records read with
# read(), the reader maps the ring and reads in place.  Every block's read
# and write is shown once, but for those a full ring dropped (counted: a
# line whose entry was dropped is still shown, from its exit).
"$ctl" trace --ring 2048 -o "$out" -- /bin/dd if=/dev/zero of=/dev/null bs=1 count=3000 2>"$err"
rc=$?
[ $rc -eq 0 ] || fail "trace --ring 2048 -- dd: exit status $rc"
hasraw '^\+\+\+ exited with 0 \+\+\+$' "a trace past its ring's size ends with the exit"
r=$(grep -cE '^read\([0-9]+, 0x[0-9a-f]+, 1\) = 1$' "$out")
# (not dd's status on standard error, whose last newline is a write of 1)
w=$(grep -cE '^write\(([013-9]|[0-9][0-9]+), 0x[0-9a-f]+, 1\) = 1$' "$out")
lost=$(sed -n 's/^utracectl trace: \([0-9]*\) records lost.*/\1/p' "$err")
[ -n "$lost" ] || lost=0
[ "$r" -le 3000 ] && [ "$w" -le 3000 ] && [ $((6000 - r - w)) -le "$lost" ] ||
	fail "trace --ring 2048 -- dd: $r reads and $w writes of 3000 shown, $lost records lost"
echo "ok: a trace past its ring's size shows every call once (mapped; $lost records lost)"

# A call that blocks is shown while it blocks, as strace shows it: the
# entry's half line, on standard error (unbuffered), before the call returns.
"$ctl" trace -- /bin/sh -c 'echo $$ >/tmp/blocked.pid; exec /bin/sleep 600' 2>"$err" &
tracer=$!
wait_for 'nanosleep\(' "$err" "a blocked call: no nanosleep( shown"
grep -qE 'nanosleep\(.*\) = ' "$err" && fail "a blocked call: shown only once it returned"
echo "ok: a blocked call is shown while it blocks"
kill -TERM "$(cat /tmp/blocked.pid)"
wait $tracer
n=$(grep -c 'nanosleep(' "$err")
[ "$n" -eq 1 ] || fail "a blocked call: its entry shown $n times"
grep -q '+++ killed by SIGTERM +++' "$err" || fail "a blocked call: no kill shown"

# -p: attach to every thread of a running process; it is killed.
/bin/sleep 600 &
victim=$!
"$ctl" trace -p $victim -o "$out" 2>"$err" &
tracer=$!
wait_for "attached" "$err" "-p: no 'attached'"
kill -TERM $victim
wait $tracer
rc=$?
[ $rc -eq 0 ] || fail "trace -p: exit status $rc"
hasraw '^(\[pid +[0-9]+\] )?--- SIGTERM \{si_signo=SIGTERM, si_code=SI_USER\} ---$' "-p: the signal"
hasraw '^(\[pid +[0-9]+\] )?\+\+\+ killed by SIGTERM \+\+\+$' "-p: the kill"
wait $victim 2>/dev/null
echo "utracectl trace: all ok"
