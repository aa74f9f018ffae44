#!/usr/bin/env python3
"""Regenerates .expected files with the reference interpreter (lua5.1).

usage: regen_expected.py [corpus|bench|all] [NAME_REGEX]
Scripts named NNN_err_*.lua must fail: their expected file records the exit code and
the first stderr line (see run_lua_test.py). Read the diffs before accepting them.
"""
import os
import re
import subprocess
import sys

kHere = os.path.dirname(os.path.abspath(__file__))
kReference = os.environ.get("LUA_REFERENCE", "lua5.1")


def expected_text(directory, script, args):
    r = subprocess.run([kReference, script] + args, cwd=directory, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    out = r.stdout.decode("latin-1")
    err = r.stderr.decode("latin-1")
    if os.path.basename(script).split("_", 2)[1:2] == ["err"]:
        if r.returncode == 0:
            raise SystemExit(f"{script}: expected a failure, exited 0")
        first = (re.sub(r"^[^\s:]+: ", "LUA: ", err.splitlines()[0], count=1)
                 if err else "<no stderr>")
        return f"exit {r.returncode}\nstderr {first}\n--- stdout\n{out}"
    if r.returncode != 0:
        raise SystemExit(f"{script}: exit {r.returncode}\n{err}")
    return out


def write(path, text):
    with open(path, "w", encoding="latin-1", newline="") as f:
        f.write(text)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    pattern = re.compile(sys.argv[2] if len(sys.argv) > 2 else ".")
    if which in ("corpus", "all"):
        d = os.path.join(kHere, "corpus")
        for s in sorted(os.listdir(d)):
            if s.endswith(".lua") and pattern.search(s):
                write(os.path.join(d, s[:-4] + ".expected"), expected_text(d, s, []))
    if which in ("bench", "all"):
        d = os.path.join(kHere, "bench")
        with open(os.path.join(d, "test_sizes.txt")) as f:
            for line in f:
                fields = line.split()
                if not fields or not line[0].isalpha() or not pattern.search(fields[0]):
                    continue
                write(os.path.join(d, fields[0] + ".expected"),
                      expected_text(d, fields[0] + ".lua", fields[1:2]))


if __name__ == "__main__":
    main()
