"""Runs a WASI program's _start under Wasmtime (the pip embedding) as
`twasm run` would: argv[0] is the file's name, the environment only what
--env gives; prints nothing of its own and exits with the program's status.

usage: wasmtime-run.py PROGRAM.wasm [--env NAME=VALUE]... [--] ARGS...
"""
import os
import sys

import wasmtime


def main():
    path, rest = sys.argv[1], sys.argv[2:]
    env, args = [], []
    while rest:
        item = rest.pop(0)
        if item == "--env":
            name, _, value = rest.pop(0).partition("=")
            env.append((name, value))
        elif item == "--":
            args.extend(rest)
            rest = []
        else:
            args.append(item)
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [os.path.basename(path)] + args
    wasi.env = env
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    module = wasmtime.Module.from_file(engine, path)
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as exit_trap:
        sys.stdout.flush()
        sys.exit(exit_trap.code)
    sys.exit(0)


if __name__ == "__main__":
    main()
