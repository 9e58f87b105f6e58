"""Writes a binary module whose function section declares N functions (argv[1])
of type () -> () and that has no code section: enough to hit the importer's
function-count limit, which is checked at the function section."""
import sys


def leb(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


count = int(sys.argv[1])
functions = leb(count) + b"\0" * count
module = (b"\0asm\1\0\0\0"
          + b"\1\4\1\x60\0\0"  # type section: one type, () -> ()
          + b"\3" + leb(len(functions)) + functions)
sys.stdout.buffer.write(module)
