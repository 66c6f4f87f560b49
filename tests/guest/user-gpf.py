#!/usr/bin/env python3
"""A child of this process takes a general protection fault in user mode:
hlt is privileged, so the CPU raises #GP, the kernel logs "traps:
python3[pid] general protection fault ip:..." and the child dies of SIGSEGV.
Exit 0 when it did (the guest runner must not take that line for a kernel
fault), 1 otherwise."""
import ctypes
import mmap
import os
import signal
import sys

pid = os.fork()
if pid == 0:
    code = mmap.mmap(-1, mmap.PAGESIZE,
                     prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    code.write(b"\xf4\xc3")  # hlt; ret
    addr = ctypes.addressof(ctypes.c_char.from_buffer(code))
    ctypes.CFUNCTYPE(None)(addr)()
    os._exit(0)
_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV:
    print("user-gpf: the child died of SIGSEGV from its general protection fault")
    sys.exit(0)
print(f"user-gpf: unexpected child status {status:#x}")
sys.exit(1)
