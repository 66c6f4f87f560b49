#!/bin/sh
# The workload of trace-vs-strace.py: files made, read, copied, listed and
# removed, a missing file opened, a directory made and removed; each
# command a fork and an exec (with the PATH search's failed execs) of a
# dynamic program (the loader's opens, mmaps and reads).  The same every
# run: fixed paths, no pipelines (no two processes at once), exit 3.
d=/tmp/trace-workload
rm -rf $d
mkdir $d
echo hello > $d/a
cat $d/a /nonexistent > $d/b 2>/dev/null
ls $d > /dev/null
cp $d/a $d/c
ln -s a $d/l
readlink $d/l > /dev/null
rm $d/a $d/b $d/c $d/l
rmdir $d
exit 3
