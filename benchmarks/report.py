#!/usr/bin/env python3
"""Turn a saved pytest-benchmark JSON of this suite into a Markdown report and a bar chart.

    python benchmarks/report.py results.json --markdown out.md --png out.png

The Markdown has: the machine, Python and commit the run was made on; the target table
(from the interleaved measurement of ``test_targets.py``, when the run included it, and the
same ratios from the suite's own numbers); an overview with one row per group (time per call
of each implementation, and the key ratios); and the details of every group
(median, mean, min, standard deviation, rounds, ratio to the floor and speed-up over
ticket_auth 0.1.4). The PNG shows six slices of the results on a log scale.

The time per call used for the overview, the ratios and the chart is each benchmark's fastest
round by default (``--stat min``; ``median`` and ``mean`` are there too): on a shared machine
the minimum is the statistic that other processes disturb least.

Only the standard library is needed for the Markdown; the PNG needs matplotlib.
"""

import argparse
import gzip
import json
import sys
from pathlib import Path

IMPLS = ("floor-b", "floor-a", "compiled", "compiled-hashlib", "pure", "0.1.4", "itsdangerous", "pyramid")
OPS = ("validate", "new", "parse", "authtkt-validate", "authtkt-new")
ORDER = {
    "hashalg": ("md5", "sha256", "sha512"),
    "size": ("minimal", "typical", "4kb"),
    "ip": ("none", "ipv4", "ipv6"),
    "outcome": ("valid", "bad_digest", "expired", "malformed"),
}
COLORS = {
    "floor-b": "#404040",
    "floor-a": "#a0a0a0",
    "compiled": "#1f77b4",
    "compiled-hashlib": "#17becf",
    "pure": "#2ca02c",
    "0.1.4": "#d62728",
    "itsdangerous": "#9467bd",
    "pyramid": "#ff7f0e",
}
TYPICAL = {"hashalg": "sha512", "size": "typical", "ip": "ipv4"}
STAT_WORDS = {"min": "the fastest round", "median": "the median round", "mean": "the mean of the rounds"}
STAT_WHY = (
    "The fastest round is the least disturbed one: on a shared machine, another process can slow "
    "down every round of a benchmark for the whole of its 0.2 s, which moves the median and the "
    "mean but not the minimum (`--stat median` shows the medians). "
)

# (name, numerator (op, impl, fields), denominator, op, limit): the targets, as
# computed from the suite's own numbers (test_targets.py measures the same ones interleaved).
STAT_TARGETS = []
for _alg in ("sha512", "sha256", "md5"):
    STAT_TARGETS += [
        (
            f"{_alg}: compiled validate / floor B",
            ("validate", "compiled", {"hashalg": _alg}),
            ("validate", "floor-b", {"hashalg": _alg}),
            "<=",
            2.0,
        ),
        (
            f"{_alg}: 0.1.4 validate / compiled validate",
            ("validate", "0.1.4", {"hashalg": _alg}),
            ("validate", "compiled", {"hashalg": _alg}),
            ">=",
            12.0,
        ),
    ]
STAT_TARGETS += [
    ("compiled new / floor B", ("new", "compiled", {}), ("new", "floor-b", {}), "<=", 1.8),
    ("0.1.4 new / compiled new", ("new", "0.1.4", {}), ("new", "compiled", {}), ">=", 9.0),
    ("0.1.4 validate / pure validate", ("validate", "0.1.4", {}), ("validate", "pure", {}), ">=", 2.5),
    (
        "hashlib path: validate / floor A (before: 1.60)",
        ("validate", "compiled-hashlib", {}),
        ("validate", "floor-a", {}),
        "<=",
        1.63,
    ),
    (
        "hashlib path: new / floor A (before: 1.28)",
        ("new", "compiled-hashlib", {}),
        ("new", "floor-a", {}),
        "<=",
        1.31,
    ),
    (
        "4 KB user data: compiled validate / floor B",
        ("validate", "compiled", {"size": "4kb"}),
        ("validate", "floor-b", {"size": "4kb"}),
        "<=",
        1.1,
    ),
]
for _core in ("compiled", "pure"):
    for _outcome, _limit in (("bad_digest", 1.0), ("expired", 1.0), ("malformed", 0.5)):
        STAT_TARGETS.append(
            (
                f"{_core}: {_outcome.replace('_', ' ')} / accepted",
                ("validate", _core, {"outcome": _outcome}),
                ("validate", _core, {}),
                "<=",
                _limit,
            )
        )


# --------------------------------------------------------------------------- loading


def load(path, stat="min"):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    rows, targets = [], None
    for bench in data.get("benchmarks", []):
        info = dict(bench.get("extra_info") or {})
        if info.get("op") == "targets":
            targets = info
            continue
        if "op" not in info or "impl" not in info:
            continue  # not one of this suite's benchmarks
        stats = bench["stats"]
        rows.append(
            {
                "group": bench.get("group"),
                "op": info["op"],
                "impl": info["impl"],
                "hashalg": info.get("hashalg"),
                "size": info.get("size"),
                "ip": info.get("ip"),
                "outcome": info.get("outcome"),
                "value": stats[stat],  # the statistic the overview, ratios and chart use
                "median": stats["median"],
                "mean": stats["mean"],
                "min": stats["min"],
                "stddev": stats["stddev"],
                "rounds": stats["rounds"],
                "iterations": stats.get("iterations", 1),
            }
        )
    return data, rows, targets


def group_key(row):
    def rank(field):
        value = row.get(field)
        order = ORDER[field]
        return (order.index(value), "") if value in order else (len(order), str(value))

    op_rank = OPS.index(row["op"]) if row["op"] in OPS else len(OPS)
    return (op_rank, rank("hashalg"), rank("size"), rank("ip"), rank("outcome"), row["group"])


def by_group(rows):
    groups = {}
    for row in sorted(rows, key=group_key):
        groups.setdefault(row["group"], {})[row["impl"]] = row
    return groups


def find(rows, op, impl, **fields):
    """The row of ``op``/``impl`` at the typical point, with ``fields`` overriding it."""
    want = dict(TYPICAL)
    if op == "validate":
        want["outcome"] = "valid"
    if op == "parse":
        want.pop("ip")
    want.update(fields)
    for row in rows:
        if row["op"] == op and row["impl"] == impl and all(row.get(k) == v for k, v in want.items()):
            return row
    return None


# --------------------------------------------------------------------------- formatting


def fmt_time(seconds):
    if seconds is None:
        return "–"
    ns = seconds * 1e9
    if ns < 1000:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e6:.2f} ms"


def fmt_ratio(value):
    return "–" if value is None else f"{value:.2f}×"


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def caption(data):
    m = data.get("machine_info") or {}
    c = data.get("commit_info") or {}
    cpu = (m.get("cpu") or {}).get("brand_raw") or m.get("processor") or "unknown CPU"
    count = (m.get("cpu") or {}).get("count")
    parts = [
        f"{cpu}{f' ({count} CPUs)' if count else ''}, {m.get('system', '?')} {m.get('release', '')} {m.get('machine', '')}".strip(),
        f"Python {m.get('python_version', '?')} ({m.get('python_implementation', '?')}, {m.get('python_compiler', '?')})",
        f"pytest-benchmark {data.get('version', '?')}",
    ]
    if c.get("id"):
        commit = f"commit {c['id'][:10]}{' + uncommitted changes' if c.get('dirty') else ''}"
        if c.get("branch"):
            commit += f" on {c['branch']}"
        parts.append(commit)
    if data.get("datetime"):
        parts.append(f"run {data['datetime'][:19].replace('T', ' ')} UTC")
    return "; ".join(parts)


def table(header, rows, align=None):
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def stat_targets(rows):
    out = []
    for name, (op_n, impl_n, f_n), (op_d, impl_d, f_d), op, limit in STAT_TARGETS:
        num, den = find(rows, op_n, impl_n, **f_n), find(rows, op_d, impl_d, **f_d)
        value = ratio(num and num["value"], den and den["value"])
        if value is None:
            result = "not measured"
        else:
            result = "PASS" if (value <= limit if op == "<=" else value >= limit) else "FAIL"
        out.append((name, value, op, limit, result))
    return out


def markdown(data, rows, targets, stat="min"):
    groups = by_group(rows)
    impls = [i for i in IMPLS if any(i in g for g in groups.values())]
    impls += sorted({r["impl"] for r in rows} - set(impls))
    lines = [
        "# ticket_auth benchmarks",
        "",
        f"*Machine:* {caption(data)}.",
        "",
        f"Times are per call: {STAT_WORDS[stat]} pytest-benchmark ran of each benchmark (each round "
        "is many calls), unless a column says otherwise. "
        f"{STAT_WHY if stat == 'min' else ''}"
        "**Floor B** (`floor-b`) is the two digests that validating (or minting) the ticket must "
        "compute, through OpenSSL's EVP functions from C in one call (algorithm fetched once, "
        "context reused); **floor A** (`floor-a`) is the same two digests through hashlib from "
        "Python. `× floor B` is an implementation's time divided by floor B's, and `0.1.4 ÷` is how "
        "many times faster than ticket_auth 0.1.4 it is. `compiled-hashlib` is the compiled core "
        "kept on its hashlib hash path. The typical ticket is sha512, a 16-character user id, two "
        "tokens, short user data, bound to an IPv4 address. Compare ratios, not absolute times: "
        "the machine may be shared.",
        "",
        "## Targets",
        "",
    ]
    if targets and targets.get("targets"):
        lines += [
            f"Measured by `test_targets.py` in the same run: every statement timed in interleaved, "
            f"shuffled samples ({targets.get('repeats')} repeats of about "
            f"{targets.get('sample_ns', 0) / 1e6:g} ms each); the ratio of the minima, with the ratio "
            "of the medians as a check on the noise.",
            "",
        ]
        lines += table(
            ["target", "measured", "(median-based)", "target", "result"],
            [
                (
                    t["target"],
                    fmt_ratio(t["ratio"]),
                    fmt_ratio(t.get("ratio_median")),
                    f"{'≤' if t['op'] == '<=' else '≥'} {t['limit']:g}×" if t["op"] else "(reported)",
                    "PASS" if t["passed"] else "**FAIL**",
                )
                for t in targets["targets"]
            ],
            ["---", "---:", "---:", "---:", "---"],
        )
        lines.append("")
    else:
        lines += ["*This run did not include `test_targets.py`.*", ""]
    lines += [
        f"The same ratios from the suite's own numbers ({stat}; each benchmark timed at a different "
        "moment, so noisier):",
        "",
    ]
    lines += table(
        ["target", "measured", "target", "result"],
        [
            (
                name,
                fmt_ratio(value),
                f"{'≤' if op == '<=' else '≥'} {limit:g}×",
                result if result != "FAIL" else "**FAIL**",
            )
            for name, value, op, limit, result in stat_targets(rows)
        ],
        ["---", "---:", "---:", "---"],
    )
    lines.append("")

    if not rows:
        lines += ["*No timed benchmarks in this file (a `--benchmark-disable` run times nothing).*", ""]
        return "\n".join(lines) + "\n"

    lines += [
        "## Overview",
        "",
        f"Time per call ({stat}); `compiled × floor B` and the speed-ups over 0.1.4 are ratios of these.",
        "",
    ]
    for op in OPS:
        op_groups = [(name, g) for name, g in groups.items() if next(iter(g.values()))["op"] == op]
        if not op_groups:
            continue
        present = [i for i in impls if any(i in g for _, g in op_groups)]
        header = ["group", *present]
        extra = []
        if "floor-b" in present and "compiled" in present:
            extra.append(("compiled × floor B", lambda g: ratio(_med(g, "compiled"), _med(g, "floor-b"))))
        if "0.1.4" in present:
            for impl in ("compiled", "pure"):
                if impl in present:
                    extra.append((f"0.1.4 ÷ {impl}", lambda g, i=impl: ratio(_med(g, "0.1.4"), _med(g, i))))
        header += [name for name, _ in extra]
        body = []
        for name, g in op_groups:
            body.append(
                [f"`{name}`"]
                + [fmt_time(_med(g, i)) for i in present]
                + [fmt_ratio(fn(g)) for _, fn in extra]
            )
        lines += [f"### {op}", ""]
        lines += table(header, body, ["---"] + ["---:"] * (len(header) - 1))
        lines.append("")

    lines += [
        "## Details",
        "",
        "Per group and implementation: median, mean, min and standard deviation per call, the number "
        f"of rounds (each of `iterations` calls), the ratio to floor B and the speed-up over 0.1.4 "
        f"(ratios of the {stat}).",
        "",
    ]
    body = []
    for name, g in groups.items():
        floor, old = _med(g, "floor-b"), _med(g, "0.1.4")
        first = True
        for impl in impls:
            row = g.get(impl)
            if row is None:
                continue
            body.append(
                [
                    f"`{name}`" if first else "",
                    impl,
                    fmt_time(row["median"]),
                    fmt_time(row["mean"]),
                    fmt_time(row["min"]),
                    fmt_time(row["stddev"]),
                    f"{row['rounds']} × {row['iterations']}",
                    fmt_ratio(ratio(row["value"], floor)),
                    fmt_ratio(ratio(old, row["value"])),
                ]
            )
            first = False
    lines += table(
        ["group", "implementation", "median", "mean", "min", "stddev", "rounds", "× floor B", "0.1.4 ÷"],
        body,
        ["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"],
    )
    return "\n".join(lines) + "\n"


def _med(group, impl):
    row = group.get(impl)
    return row["value"] if row else None


# --------------------------------------------------------------------------- chart

PANELS = [
    ("validate (typical, IPv4, valid) by hash algorithm", "validate", "hashalg", {}),
    ("validate (sha512, IPv4, valid) by ticket size", "validate", "size", {}),
    ("validate (sha512, typical, IPv4) by outcome", "validate", "outcome", {}),
    ("new (typical, IPv4) by hash algorithm", "new", "hashalg", {}),
    ("mod_auth_tkt validate (typical, IPv4) by digest", "authtkt-validate", "hashalg", {}),
    ("mod_auth_tkt new (typical, IPv4) by digest", "authtkt-new", "hashalg", {}),
]


def chart(data, rows, path, stat="min"):
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    matplotlib.use("Agg")  # files only, no display

    fig, axes = plt.subplots(2, 3, figsize=(18, 10.5))
    handles = {}
    for ax, (title, op, axis, fixed) in zip(axes.flat, PANELS, strict=False):
        categories = list(ORDER[axis])
        impls = [i for i in IMPLS if any(find(rows, op, i, **{axis: c}, **fixed) for c in categories)]
        if not impls:
            ax.set_visible(False)
            continue
        width = 0.8 / len(impls)
        lowest = min(
            row["value"]
            for c in categories
            for i in impls
            if (row := find(rows, op, i, **{axis: c}, **fixed))
        )
        for k, impl in enumerate(impls):
            xs, ys = [], []
            for x, cat in enumerate(categories):
                row = find(rows, op, impl, **{axis: cat}, **fixed)
                if row:
                    xs.append(x - 0.4 + width * (k + 0.5))
                    ys.append(row["value"] * 1e6)
            handles[impl] = ax.bar(xs, ys, width, label=impl, color=COLORS.get(impl))
            if impl == "compiled":
                measured = [c for c in categories if find(rows, op, impl, **{axis: c}, **fixed)]
                for x, cat in zip(xs, measured, strict=True):
                    floor = find(rows, op, "floor-b", **{axis: cat}, **fixed)
                    mine = find(rows, op, impl, **{axis: cat}, **fixed)
                    if floor:
                        ax.annotate(
                            f"{mine['value'] / floor['value']:.2f}×\nfloor B",
                            (x, mine["value"] * 1e6),
                            textcoords="offset points",
                            xytext=(0, 3),
                            ha="center",
                            fontsize=7,
                        )
        ax.set_yscale("log")
        ax.set_ylim(bottom=lowest * 1e6 / 2)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels(categories)
        ax.set_ylabel(f"µs per call ({stat}, log scale)")
        ax.set_title(title, fontsize=11)
        ax.grid(axis="y", which="both", alpha=0.3)
    order = [i for i in IMPLS if i in handles] + [i for i in handles if i not in IMPLS]
    fig.legend(
        [handles[i] for i in order],
        order,
        loc="upper center",
        ncol=len(order),
        bbox_to_anchor=(0.5, 0.955),
        fontsize=10,
        frameon=False,
    )
    fig.suptitle(
        "ticket_auth: time per call (lower is better); floor B = the two digests through OpenSSL's EVP from C, "
        "floor A = through hashlib",
        fontsize=14,
    )
    fig.text(0.5, 0.01, caption(data), ha="center", fontsize=9, wrap=True)
    fig.tight_layout(rect=(0, 0.03, 1, 0.93))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a pytest-benchmark JSON file (--benchmark-json=...), or .json.gz")
    parser.add_argument("--markdown", metavar="OUT.md", help="write the Markdown report here")
    parser.add_argument("--png", metavar="OUT.png", help="write the bar chart here (needs matplotlib)")
    parser.add_argument(
        "--stat",
        choices=sorted(STAT_WORDS),
        default="min",
        help="the per-call time the overview, the ratios and the chart use (default: min)",
    )
    args = parser.parse_args(argv)
    data, rows, targets = load(args.results, args.stat)
    text = markdown(data, rows, targets, args.stat)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.png:
        if not rows:
            print("report.py: no timed benchmarks, no chart", file=sys.stderr)
        else:
            chart(data, rows, args.png, args.stat)
    if not args.markdown:
        sys.stdout.write(text)
    summary = [f"{len(rows)} benchmarks in {len(by_group(rows))} groups"]
    if targets:
        summary.append(
            f"{sum(t['passed'] for t in targets['targets'])}/{len(targets['targets'])} targets met"
        )
    print("report.py: " + ", ".join(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
