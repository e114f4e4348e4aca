#!/usr/bin/env python3
"""Folds `perf script` output into stacks and draws them as an SVG flame
graph (standard library only).

  perf record -F 999 -g -p PID -o perf.data -- sleep 5
  perf script -i perf.data | tools/bench/flamegraph.py --title "..." > out.svg

Each rectangle is a function in a call stack; its width is the share of
samples in which it was on the stack, callers below callees (the root at
the bottom). Hovering shows the name, samples and percentage (SVG <title>).
`--folded FILE` also writes the folded stacks ("a;b;c 12" per line), the
format other flame graph tools read.
"""

import argparse
import hashlib
import html
import re
import sys

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def clean(symbol, dso):
    """A frame's name: the symbol without its offset and argument list, or
    the library when perf has no symbol."""
    if symbol in ("[unknown]", ""):
        return "[" + dso.rsplit("/", 1)[-1] + "]"
    symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
    # Drop a C++ signature's parameter list, keep templates and scopes.
    depth, cut = 0, None
    for i, ch in enumerate(symbol):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0 and i > 0 and not symbol.startswith("operator", i - 8):
            cut = i
            break
    return symbol[:cut] if cut else symbol


def fold(lines, by_thread=False):
    """{stack tuple (root first): samples} from perf script text."""
    stacks = {}
    head, frames = None, []

    def flush():
        if head is None:
            return
        key = tuple([head] + list(reversed(frames)))
        stacks[key] = stacks.get(key, 0) + 1

    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            head, frames = None, []
            continue
        if not line[0].isspace():
            flush()
            frames = []
            comm = line.split()[0]
            if by_thread:
                tid = line.split()[1]
                head = f"{comm}/{tid}"
            else:
                head = comm
            continue
        m = FRAME.match(line)
        if m and head is not None:
            frames.append(clean(m.group(1), m.group(2)))
    flush()
    return stacks


class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name, self.count, self.children = name, 0, {}


def tree_of(stacks, root_name):
    root = Node(root_name)
    for stack, n in stacks.items():
        root.count += n
        node = root
        for name in stack:
            node = node.children.setdefault(name, Node(name))
            node.count += n
    return root


def color(name):
    """A warm colour that stays the same for a name across graphs."""
    h = int(hashlib.md5(name.encode()).hexdigest()[:6], 16)
    r = 205 + h % 50
    g = 80 + (h >> 8) % 130
    b = (h >> 16) % 60
    return f"rgb({r},{g},{b})"


def svg(root, title, width=1200, row=16, min_px=0.5):
    total = max(root.count, 1)
    depth = [0]

    def max_depth(node, d):
        depth[0] = max(depth[0], d)
        for c in node.children.values():
            if c.count * width / total >= min_px:
                max_depth(c, d + 1)

    max_depth(root, 0)
    top = 40
    height = top + (depth[0] + 1) * row + 20
    out = [f'<?xml version="1.0" standalone="no"?>',
           f'<svg version="1.1" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
           '<style>text { font-family: monospace; font-size: 11px; fill: #000; } '
           'rect:hover { stroke: #000; stroke-width: 0.5; }</style>',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fdfdf5"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" '
           f'style="font-size:15px">{html.escape(title)}</text>',
           f'<text x="10" y="{height - 6}">{total:,} samples; width = share '
           'of samples with the function on the stack; hover for details</text>']

    def draw(node, x, d):
        w = node.count * width / total
        if w < min_px:
            return
        y = height - 30 - d * row
        pct = 100.0 * node.count / total
        label = html.escape(node.name)
        out.append(f'<g><title>{label} ({node.count:,} samples, {pct:.2f}%)</title>'
                   f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{row - 1}" '
                   f'fill="{color(node.name)}" rx="1"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[:chars - 2] + ".."
            out.append(f'<text x="{x + 3:.2f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        cx = x
        for c in sorted(node.children.values(), key=lambda n: n.name):
            draw(c, cx, d + 1)
            cx += c.count * width / total

    draw(root, 0.0, 0)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="?", help="perf script output (default: stdin)")
    ap.add_argument("--title", default="Flame graph")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--folded", help="also write the folded stacks here")
    ap.add_argument("--min-width", type=float, default=0.5,
                    help="leave out frames narrower than this many pixels")
    ap.add_argument("--from-folded", action="store_true",
                    help="the input is folded stacks, not perf script output")
    ap.add_argument("--threads", action="store_true",
                    help="split the root by thread id, not only by thread name")
    args = ap.parse_args()
    src = open(args.input, errors="replace") if args.input else sys.stdin
    if args.from_folded:
        stacks = {}
        for line in src:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if stack:
                key = tuple(stack.split(";"))
                stacks[key] = stacks.get(key, 0) + int(n)
    else:
        stacks = fold(src, args.threads)
    if not stacks:
        sys.exit("no samples in the input (was perf record run with -g?)")
    if args.folded:
        with open(args.folded, "w") as f:
            for stack, n in sorted(stacks.items()):
                f.write(";".join(stack) + f" {n}\n")
    sys.stdout.write(svg(tree_of(stacks, "all"), args.title, args.width,
                         min_px=args.min_width))


if __name__ == "__main__":
    main()
