#!/usr/bin/env python3
"""Summarises `wasm-split-cli -v` (RUST_LOG=trace): for each WASM output (the main module, each
island's own file, each chunk shared by a set of islands), its size before optimisation by crate,
and with --top N the N largest functions of the outputs whose name contains --only."""
import argparse
import collections
import re

FUNCTION = re.compile(r'func\[\d+\] <Some\("(.*)"\)> size=(\d+)')
SECTION = re.compile(r"SPLIT: =+ (.*)")


def crate_of(symbol: str) -> str:
    if symbol.startswith("__wbindgen_describe"):
        return "(wasm-bindgen descriptors, removed later)"
    legacy = re.match(r"_ZN(\d+)(.*)", symbol)
    if legacy:
        path = legacy.group(2)[: int(legacy.group(1))]
        path = path.replace("$LT$", "<").replace("$u20$", " ").replace("$RF$", "&")
        path = path.replace("..", "::").lstrip("_<&").replace("mut ", "")
        return path.split("::")[0].split("<")[0].split(" ")[0]
    v0 = re.search(r"Cs[0-9A-Za-z]*_(\d+)([a-z_0-9]+)", symbol)
    if v0:
        return v0.group(2)[: int(v0.group(1))]
    return symbol[:30]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    by_output: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    functions: dict[str, list] = collections.defaultdict(list)
    output = None
    with open(args.log, encoding="utf-8", errors="replace") as log:
        for line in log:
            section = SECTION.search(line)
            if section:
                output = re.sub(r"_loader_\d+", "", section.group(1).strip())
                continue
            function = FUNCTION.search(line)
            if function and output:
                size = int(function.group(2))
                by_output[output][crate_of(function.group(1))] += size
                functions[output].append((size, function.group(1)))
    for output, crates in sorted(by_output.items(), key=lambda o: -sum(o[1].values())):
        total = sum(crates.values())
        top = ", ".join(f"{crate} {size}" for crate, size in crates.most_common(8))
        print(f"{total:>8}  {output}\n          {top}")
        if args.top and args.only in output:
            for size, name in sorted(functions[output], reverse=True)[: args.top]:
                print(f"            {size:>6} {name[:140]}")


if __name__ == "__main__":
    main()
