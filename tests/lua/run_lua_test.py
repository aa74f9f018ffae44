#!/usr/bin/env python3
"""Runs one Lua script under an interpreter and compares it with its .expected file.

Plain tests: the expected file is the exact stdout and the exit code must be 0.
Error tests (expected file starts with "exit N"): the format is
    exit N
    stderr LUA: <first line of stderr>
    --- stdout
    <exact stdout>
where "LUA:" stands for whatever program name the interpreter prefixes its
messages with, because lua5.1 says "lua5.1:" and jitvm says its own name.
Only the first stderr line is compared: tracebacks differ between VMs.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

# ctest's SKIP_RETURN_CODE for tests whose interpreter is absent.
kSkipCode = 77
kDefaultTimeout = 60


def parse_expected(text):
    if not text.startswith("exit "):
        return 0, None, text
    head, sep, stdout = text.partition("--- stdout\n")
    lines = head.splitlines()
    code = int(lines[0].split()[1])
    stderr_line = None
    for line in lines[1:]:
        if line.startswith("stderr "):
            stderr_line = line[len("stderr "):]
    return code, stderr_line, stdout


def normalize_stderr(first_line):
    # "lua5.1: x.lua:3: boom" and "jitvm: x.lua:3: boom" both become "LUA: x.lua:3: boom".
    return re.sub(r"^[^\s:]+: ", "LUA: ", first_line, count=1)


def first_diff(expected, actual):
    e_lines = expected.splitlines()
    a_lines = actual.splitlines()
    for i in range(max(len(e_lines), len(a_lines))):
        e = e_lines[i] if i < len(e_lines) else "<end of output>"
        a = a_lines[i] if i < len(a_lines) else "<end of output>"
        if e != a:
            return i + 1, e, a
    return 0, "<trailing newline differs>", ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--interp", required=True, help="interpreter path or name on PATH")
    p.add_argument("--interp-arg", action="append", default=[],
                   help="extra flag placed before the script (repeatable)")
    p.add_argument("--skip-if-missing", action="store_true",
                   help="exit 77 (skipped) when the interpreter is absent")
    p.add_argument("--dir", required=True, help="working directory for the script")
    p.add_argument("--script", required=True)
    p.add_argument("--expected", required=True)
    p.add_argument("--timeout", type=float, default=kDefaultTimeout)
    p.add_argument("args", nargs="*", help="arguments passed to the script")
    a = p.parse_args()

    interp = a.interp
    if os.sep not in interp:
        found = shutil.which(interp)
        if found is None:
            if a.skip_if_missing:
                print(f"SKIP: interpreter '{interp}' not found on PATH")
                return kSkipCode
            print(f"FAIL: interpreter '{interp}' not found on PATH")
            return 1
        interp = found
    elif not os.access(interp, os.X_OK):
        if a.skip_if_missing:
            print(f"SKIP: interpreter '{interp}' not executable")
            return kSkipCode
        print(f"FAIL: interpreter '{interp}' not executable")
        return 1

    with open(a.expected, "r", encoding="latin-1", newline="") as f:
        want_code, want_stderr, want_stdout = parse_expected(f.read())

    cmd = [interp] + a.interp_arg + [a.script] + a.args
    try:
        r = subprocess.run(cmd, cwd=a.dir, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=a.timeout)
    except subprocess.TimeoutExpired:
        print(f"FAIL: timed out after {a.timeout:g} s: {' '.join(cmd)}")
        return 1
    out = r.stdout.decode("latin-1")
    err = r.stderr.decode("latin-1")
    ok = True
    if r.returncode != want_code:
        print(f"FAIL: exit code {r.returncode}, expected {want_code}")
        ok = False
    if want_stderr is not None:
        got = normalize_stderr(err.splitlines()[0]) if err else "<no stderr>"
        if got != want_stderr:
            print(f"FAIL: stderr first line differs\n  expected: {want_stderr}\n  actual:   {got}")
            ok = False
    if out != want_stdout:
        line, e, g = first_diff(want_stdout, out)
        print(f"FAIL: stdout differs at line {line}\n  expected: {e}\n  actual:   {g}")
        ok = False
    if not ok:
        print("command: " + " ".join(cmd) + f"   (cwd {a.dir})")
        if err and want_stderr is None:
            print("stderr:\n" + err[:2000])
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
