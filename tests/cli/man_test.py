#!/usr/bin/env python3
"""docs/sentinel.1 and the tool's --help cannot drift: the options each OPTIONS section of the man page
lists (its .TP tags) must be exactly those `sentinel --help` and `sentinel bench --help` print.

Usage: man_test.py SENTINEL_BINARY MAN_PAGE"""
import re
import subprocess
import sys

tool, page = sys.argv[1:3]
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)")


def help_options(args):
    out = subprocess.run([tool] + args, stdout=subprocess.PIPE, text=True, check=True).stdout
    opts = set()
    in_options = False
    for line in out.splitlines():
        if line.startswith("Options:"):
            in_options = True
        elif in_options and line.strip() and not line.startswith(" "):
            in_options = False
        elif in_options:
            head = re.match(r"^\s{2}(\S+)", line)  # "  -s,--silent   text": the option column
            if head:
                opts.update(OPTION.findall(head.group(1).replace(",", " ")))
    return opts


def man_options(section):
    text = open(page, encoding="utf-8").read().splitlines()
    opts = set()
    current = None
    for i, line in enumerate(text):
        if line.startswith(".SH "):
            current = line[4:].strip().strip('"')
        elif current == section and line == ".TP" and i + 1 < len(text):
            tag = text[i + 1].replace("\\-", "-").split("\\fI")[0]  # before the argument's name
            opts.update(OPTION.findall(tag))
    return opts


failures = 0
for args, section in ((["--help"], "OPTIONS"), (["bench", "--help"], "BENCH OPTIONS")):
    h, m = help_options(args), man_options(section)
    if not h:
        print("FAIL: no options parsed from `sentinel %s`" % " ".join(args))
        failures += 1
    for missing in sorted(h - m):
        print("FAIL: `sentinel %s` has %s, the man page's %s does not" % (" ".join(args), missing, section))
        failures += 1
    for extra in sorted(m - h):
        print("FAIL: the man page's %s has %s, `sentinel %s` does not" % (section, extra, " ".join(args)))
        failures += 1
    print("%s: %d options, %s" % (section, len(h), "same in both" if h == m else "different"))
sys.exit(1 if failures else 0)
