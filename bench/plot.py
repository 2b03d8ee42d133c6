#!/usr/bin/env python3
"""Draws the ratio columns of a bench/run.sh results table (each engine's time divided by
gcc -O2's, per kernel) as a grouped bar chart in SVG, on a log scale: 1 is gcc's speed.

usage: python3 bench/plot.py bench/results.md bench/results.svg
"""
import math
import sys

COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"]


def table(path):
    rows = [l for l in open(path) if l.startswith("| ") and "---" not in l]
    head = [c.strip() for c in rows[0].strip().strip("|").split("|")]
    cols = [i for i, h in enumerate(head) if h.endswith("/gcc")]
    engines = [head[i][: -len("/gcc")] for i in cols]
    data = []
    for r in rows[1:]:
        cells = [c.strip() for c in r.strip().strip("|").split("|")]
        vals = []
        for i in cols:
            try:
                vals.append(float(cells[i]))
            except (ValueError, IndexError):
                vals.append(None)
        data.append((cells[0], vals))
    return engines, data


def main():
    src, out = sys.argv[1], sys.argv[2]
    engines, data = table(src)
    lo, hi = 0.25, 128.0
    w_bar, gap, left, top, height = 9, 18, 60, 40, 300
    width = left + len(data) * (len(engines) * w_bar + gap) + 170
    y = lambda v: top + height * (1 - (math.log2(v) - math.log2(lo)) / (math.log2(hi) - math.log2(lo)))
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 60}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="20" font-size="13">time / gcc -O2 time (log scale; lower is faster)</text>',
    ]
    v = lo
    while v <= hi:
        svg.append(f'<line x1="{left}" x2="{width - 170}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   f'stroke="{"#888" if v == 1 else "#ddd"}"/>')
        svg.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
        v *= 2
    x = left + gap / 2
    for kernel, vals in data:
        for j, val in enumerate(vals):
            if val is not None and val > 0:
                vv = min(max(val, lo), hi)
                base = y(lo)
                svg.append(f'<rect x="{x + j * w_bar:.1f}" y="{y(vv):.1f}" width="{w_bar - 1}" '
                           f'height="{base - y(vv):.1f}" fill="{COLORS[j % len(COLORS)]}">'
                           f'<title>{kernel} {engines[j]}: {val:g}</title></rect>')
        mid = x + len(vals) * w_bar / 2
        svg.append(f'<text x="{mid:.1f}" y="{top + height + 16}" text-anchor="middle">{kernel}</text>')
        x += len(vals) * w_bar + gap
    for j, e in enumerate(engines):
        ly = top + 14 * j
        svg.append(f'<rect x="{width - 160}" y="{ly}" width="10" height="10" fill="{COLORS[j % len(COLORS)]}"/>')
        svg.append(f'<text x="{width - 144}" y="{ly + 9}">{e}</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
