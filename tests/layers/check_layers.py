#!/usr/bin/env python3
"""The layer table of docs/architecture.md, checked: each folder of src/ includes only the folders it may.

A quoted include names its folder first ("transport/stream.hpp"); public headers (<sentinel/...>) are
open to every layer. Usage: check_layers.py <src dir>. Prints every include that breaks the table.
"""
import pathlib
import re
import sys

# folder -> the folders its files may include (besides its own). Bottom-up, as in the doc.
ALLOWED = {
    "wire": set(),
    "transport": set(),
    "session": {"transport"},
    "http1": {"session", "transport", "wire"},
    "http2": {"session", "transport", "wire"},
    "protocols": {"http1", "http2", "session", "transport"},
    "pool": {"session", "transport"},
    "client": {"protocols", "pool", "session", "transport", "wire"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/', re.M)


def main() -> int:
    src = pathlib.Path(sys.argv[1])
    bad = []
    seen = set()
    for path in sorted(src.rglob("*")):
        parts = path.relative_to(src).parts
        if path.suffix not in (".hpp", ".cpp") or parts[0] == "wire_guard":  # the wire layer's Asio trap
            continue
        layer = parts[0] if len(parts) > 1 else "(src/ itself)"
        if layer not in ALLOWED:
            bad.append(f"{path.relative_to(src)}: folder {layer!r} is not in the layer table")
            continue
        seen.add(layer)
        for used in INCLUDE.findall(path.read_text()):
            if used != layer and used not in ALLOWED[layer]:
                bad.append(f"{path.relative_to(src)}: includes {used}/ (a {layer} file may include "
                           f"{', '.join(sorted(ALLOWED[layer] | {layer}))})")
    missing = set(ALLOWED) - seen
    if missing:
        bad.append(f"no files found for {sorted(missing)}: is {src} the source folder?")
    for line in bad:
        print(line)
    print(f"{len(bad)} include(s) break the layer table" if bad else "layers: every include points down")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
