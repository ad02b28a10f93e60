#!/usr/bin/env python3
"""Extracts the C++ example between the <!-- example:begin --> and <!-- example:end --> markers of
README.md into a .cpp file, so the build proves that the README's example compiles."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- example:begin -->\s*```cpp\n(.*?)```\s*<!-- example:end -->", text, re.S)
if not m:
    sys.exit("README.md: no C++ block between <!-- example:begin --> and <!-- example:end -->")
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("// Extracted from README.md by tools/extract_readme_example.py; do not edit.\n")
    out.write(m.group(1))
