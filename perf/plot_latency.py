#!/usr/bin/env python3
"""Latency against offered load, from ScaleBenchmark's fanout lines in perf/results/.

    python3 perf/plot_latency.py [--out perf/results/fanout-latency.svg] [--series a,b,...]
                                 [--label SERIES=TEXT ...] [FILE.jsonl ...]

One curve per series: a run's series is its runId without the trailing "-r<rate>" (and an optional
"-<n>" repetition), e.g. "g1-17-r200-2" belongs to "g1-17" at 200 msg/s. Every point is the
median over the runs of one series at one rate (medians, because this machine is shared and
noisy); x is deliveries per second, y delivery latency p50 (dashed) and p99 (solid), log scale.
Only the standard library: the SVG is written by hand, so the script runs on any machine.
"""
import argparse
import glob
import json
import math
import os
import re
import statistics
import sys
from collections import defaultdict

SERIES = re.compile(r"^(?P<series>.+?)-r(?P<rate>\d+)(?:-\d+)?$")
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]


def load(files):
    runs = defaultdict(lambda: defaultdict(list))  # series -> rate -> [line]
    for name in files:
        with open(name, encoding="utf-8") as f:
            for text in f:
                text = text.strip()
                if not text:
                    continue
                line = json.loads(text)
                if line.get("scenario") != "fanout" or not line.get("deliveriesPerSec"):
                    continue
                match = SERIES.match(line.get("runId", ""))
                if match:
                    runs[match["series"]][int(match["rate"])].append(line)
    return runs


def points(by_rate):
    out = []
    for rate, lines in sorted(by_rate.items()):
        out.append({
            "rate": rate,
            "runs": len(lines),
            "x": statistics.median(l["deliveriesPerSec"] for l in lines),
            "p50": statistics.median(l["deliveryP50Ms"] for l in lines),
            "p99": statistics.median(l["deliveryP99Ms"] for l in lines),
            "cpuUs": statistics.median(l.get("nodeCpuUsPerDelivery", 0) for l in lines),
        })
    return out


def svg(curves, title):
    right = 60 + 7 * max([len(name) for name in curves] + [24])  # room for the legend
    width, height, left, top, bottom = 620 + right, 520, 70, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [p["x"] for c in curves.values() for p in c]
    x_max = max(xs) * 1.08 if xs else 1
    y_min, y_max = 1.0, 100000.0

    def px(x):
        return left + plot_w * x / x_max

    def py(ms):
        ms = min(max(ms, y_min), y_max)
        return top + plot_h * (1 - (math.log10(ms) - math.log10(y_min)) / (math.log10(y_max) - math.log10(y_min)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15">{title}</text>']
    for exp in range(0, 6):
        ms = 10 ** exp
        y = py(ms)
        label = f"{ms:g} ms" if ms < 1000 else f"{ms / 1000:g} s"
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    y100 = py(100)
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y100:.1f}" y2="{y100:.1f}" stroke="#999" stroke-dasharray="2,3"/>')
    step = 5000 if x_max <= 60000 else 10000
    for x in range(0, int(x_max) + 1, step):
        out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>')
        out.append(f'<text x="{px(x):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{x // 1000}k</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">deliveries per second (one node, 5,000 sockets)</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    for i, (name, pts) in enumerate(curves.items()):
        colour = COLOURS[i % len(COLOURS)]
        for key, dash in (("p99", ""), ("p50", ' stroke-dasharray="5,4"')):
            path = " ".join(f'{px(p["x"]):.1f},{py(p[key]):.1f}' for p in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            for p in pts:
                out.append(f'<circle cx="{px(p["x"]):.1f}" cy="{py(p[key]):.1f}" r="3" fill="{colour}">'
                           f'<title>{name} {key} {p[key]:.0f} ms at {p["x"]:.0f}/s (median of {p["runs"]})</title></circle>')
        ly = top + 14 + 18 * i
        out.append(f'<line x1="{left + plot_w + 14}" x2="{left + plot_w + 34}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + plot_w + 40}" y="{ly}">{name}</text>')
    ly = top + 14 + 18 * len(curves) + 10
    out.append(f'<text x="{left + plot_w + 14}" y="{ly}" fill="#555">solid p99, dashed p50</text>')
    out.append(f'<text x="{left + plot_w + 14}" y="{ly + 16}" fill="#555">dotted line: 100 ms</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="jsonl files (default: perf/results/fanout-*.jsonl)")
    parser.add_argument("--out", default=os.path.join(here, "results", "fanout-latency.svg"))
    parser.add_argument("--series", help="comma-separated series to draw, in this order (default: all)")
    parser.add_argument("--label", action="append", default=[], metavar="SERIES=TEXT",
                        help="legend text for a series (repeatable), e.g. --label 'c-g1-17=G1, Java 17'")
    parser.add_argument("--title", default="Pulse fan-out: delivery latency against load")
    args = parser.parse_args()
    files = args.files or sorted(glob.glob(os.path.join(here, "results", "fanout-*.jsonl")))
    runs = load(files)
    names = args.series.split(",") if args.series else sorted(runs)
    labels = dict(item.split("=", 1) for item in args.label)
    curves = {labels.get(name, name): points(runs[name]) for name in names if name in runs}
    if not curves:
        sys.exit(f"no fanout runs with a runId like <series>-r<rate> in {files}")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(svg(curves, args.title))
    for name, pts in curves.items():  # the figures behind the plot, machine-readable
        for p in pts:
            print(json.dumps({"series": name, **p}))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
