#!/usr/bin/env python3
"""Mistakes a user makes must fail to compile with our message, not pages of Asio's: compiles each
fail/*.cpp with -fsyntax-only and checks that it fails and that its *first* error carries the text of
the file's `// expect:` line. A `// flags:` line adds flags (after the default ones, so it can override).

Usage: compile_fail.py COMPILER... -- FLAGS... -- FILES..."""
import subprocess
import sys

args = sys.argv[1:]
first = args.index("--")
second = args.index("--", first + 1)
compiler, flags, files = args[:first], args[first + 1:second], args[second + 1:]

failures = 0
for path in files:
    text = open(path, encoding="utf-8").read()
    expect = [l[len("// expect:"):].strip() for l in text.splitlines() if l.startswith("// expect:")]
    extra = [f for l in text.splitlines() if l.startswith("// flags:") for f in l[len("// flags:"):].split()]
    if len(expect) != 1:
        print("FAIL %s: needs exactly one `// expect:` line" % path)
        failures += 1
        continue
    cmd = compiler + flags + extra + ["-fsyntax-only", "-fdiagnostics-color=never", path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_error = next((l for l in p.stdout.splitlines() if " error: " in l or l.startswith("error:")), "")
    if p.returncode == 0:
        print("FAIL %s: compiled, but must not" % path)
        failures += 1
    elif expect[0] not in first_error:
        print("FAIL %s: the first error is not ours (expected it to contain %r):\n%s" %
              (path, expect[0], "\n".join(p.stdout.splitlines()[:40])))
        failures += 1
    else:
        print("ok %s: %s" % (path.rsplit("/", 1)[-1], first_error.strip()))
sys.exit(1 if failures else 0)
