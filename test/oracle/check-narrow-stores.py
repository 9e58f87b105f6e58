#!/usr/bin/env python3
"""Checks PTX for narrow stores of registers a float instruction wrote: byte
and halfword stores of any register, and 32-bit stores of a 64-bit one.

On an H100 the driver's compiler stores such a register's number, converted,
instead of its low bits (the differential oracle found 6.0 stored as the byte
0x06, and +inf stored as the word 0xffffffff where LLVM had forwarded an f64
store's bits to a later i32 load), so every narrow store must take a register
an integer instruction wrote (docs/testing.md). Reads the PTX files given;
prints each offending store and exits 1 if there is one.
"""
import re
import sys

STORE = re.compile(r"^\s*st\.[\w.]*\.b(8|16|32)\s+\[[^\]]*\],\s*(%r[sd]?\d+);")
TYPE = re.compile(r"[fsub]\d+")


def writes_float(opcode):
    """Whether the instruction's destination is a float: for cvt, its first
    type; otherwise any .f32 or .f64 in the opcode."""
    if opcode.startswith("cvt."):
        types = [part for part in opcode.split(".") if TYPE.fullmatch(part)]
        return bool(types) and types[0].startswith("f")
    return re.search(r"\.f(32|64)\b", opcode) is not None


def offending_stores(path):
    lines = open(path).read().split("\n")
    stores = found = 0
    for index, line in enumerate(lines):
        store = STORE.match(line)
        # A 32-bit store is narrow when its register has 64 bits.
        if not store or (store.group(1) == "32" and
                         not store.group(2).startswith("%rd")):
            continue
        stores += 1
        register = store.group(2)
        # The nearest earlier instruction of the same function that writes
        # the register (straight-line code before the store, as LLVM emits
        # it for these stores).
        for earlier in range(index - 1, -1, -1):
            text = lines[earlier].strip()
            if text.startswith((".entry", ".visible", ".func")):
                break
            parts = text.split(None, 1)
            if len(parts) < 2 or parts[1].split(",")[0].strip() != register:
                continue
            if writes_float(parts[0]):
                found += 1
                print(f"{path}:{index + 1}: {line.strip()} stores what "
                      f"'{text}' (line {earlier + 1}) wrote")
            break
    return stores, found


def main():
    stores = found = 0
    for path in sys.argv[1:]:
        s, f = offending_stores(path)
        stores += s
        found += f
    print(f"{stores} narrow stores in {len(sys.argv) - 1} files, "
          f"{found} of a register a float instruction wrote")
    sys.exit(1 if found or not stores else 0)


if __name__ == "__main__":
    main()
