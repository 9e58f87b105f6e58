#!/usr/bin/env python3
"""Makes measurement-only variants of a kernel's PTX, to find out what a
piece of the generated code costs (docs/decisions/0003). The variants are NOT
safe: they drop checks that Wasm's semantics need.

  no-alignment-branch  removes the branch to the misaligned-access path of
                       every naturally aligned load and store (the PTX then
                       assumes every access is aligned); where that branch
                       also carried the bounds check, the bounds check stays
  trap-exits           ends each trap block at its `exit` instead of
                       rejoining the code after the check

Usage: bench/ptx_variants.py VARIANT[,VARIANT...] IN.ptx OUT.ptx

Put the result in a copy of the bundle's kernel folder under the original
name and run `twasm-bench-kernels COPY twins --kernel NAME`.
"""
import re
import sys


def alignment_predicates(lines):
    """Predicates set by `setp.ne.b32 %p, %r, 0` where %r = x & 3: the
    misaligned test of a 4-byte access, as the lowering emits it."""
    low_bits = set()
    for line in lines:
        m = re.match(r"\s*and\.b32\s+(%r\d+), %r\d+, 3;", line)
        if m:
            low_bits.add(m.group(1))
    predicates = set()
    for line in lines:
        m = re.match(r"\s*setp\.ne\.b32\s+(%p\d+), (%r\d+), 0;", line)
        if m and m.group(2) in low_bits:
            predicates.add(m.group(1))
    return predicates


def no_alignment_branch(text):
    lines = text.split("\n")
    misaligned = alignment_predicates(lines)
    out = []
    for line in lines:
        branch = re.match(r"\s*@(%p\d+) bra", line)
        if branch and branch.group(1) in misaligned:
            continue
        # "misaligned or out of bounds" -> "out of bounds"
        m = re.match(r"(\s*)or\.pred\s+(%p\d+), (%p\d+), (%p\d+);", line)
        if m and (m.group(3) in misaligned or m.group(4) in misaligned):
            other = m.group(4) if m.group(3) in misaligned else m.group(3)
            line = f"{m.group(1)}mov.pred \t{m.group(2)}, {other};"
        out.append(line)
    return "\n".join(out)


def trap_exits(text):
    return re.sub(
        r"(\texit;\n\t// end inline asm\n)\tbra\.uni \t\$L__BB\d+_\d+;\n",
        r"\1", text)


VARIANTS = {"no-alignment-branch": no_alignment_branch,
            "trap-exits": trap_exits}


def main(argv):
    if len(argv) != 4 or any(v not in VARIANTS for v in argv[1].split(",")):
        sys.stderr.write(__doc__)
        return 2
    text = open(argv[2]).read()
    for variant in argv[1].split(","):
        text = VARIANTS[variant](text)
    open(argv[3], "w").write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
