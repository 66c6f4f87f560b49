#!/usr/bin/env python3
"""Extract the ELF vmlinux from a compressed kernel image (bzImage).

Usage: extract-vmlinux.py VMLINUZ OUT

Tries each compressed stream found in the image (xz, zstd, gzip) and keeps the
first one that decompresses to an ELF file.  Debian's amd64 6.1 images use xz.
"""
import lzma
import subprocess
import sys
import zlib

MAGICS = [
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x8b\x08", "gzip"),
]


def try_decompress(data, kind):
    if kind == "xz":
        return lzma.LZMADecompressor().decompress(data)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    proc = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=False)
    return proc.stdout


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    image = open(sys.argv[1], "rb").read()
    for magic, kind in MAGICS:
        start = 0
        while (off := image.find(magic, start)) >= 0:
            start = off + 1
            try:
                out = try_decompress(image[off:], kind)
            except (lzma.LZMAError, zlib.error):
                continue
            if out[:4] == b"\x7fELF":
                with open(sys.argv[2], "wb") as f:
                    f.write(out)
                return
    sys.exit(f"extract-vmlinux: no compressed ELF found in {sys.argv[1]}")


if __name__ == "__main__":
    main()
