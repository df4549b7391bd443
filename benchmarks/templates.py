"""Template mining on Loghub-2k: recoup's miner beside drain3, grouping accuracy and lines/s from one run.

Usage: .venv/bin/python benchmarks/templates.py [--data DIR] [--repeat N] [--loo] [--extra-dir DIR]

GA (grouping accuracy) as ../shared/data/README.md defines it: a line is correct when its predicted group
holds exactly the lines of its true group. Measured on the message content (`Content` of the structured
CSV, as the Loghub papers do) and on the raw lines (header included; recoup sets it aside itself, drain3
mines the whole line). Every miner runs with ONE configuration for all datasets:
  recoup          TemplateMiner() defaults
  drain3          drain3.TemplateMiner() as shipped (no masks)
  drain3+masks    the masking and [DRAIN] settings of drain3's examples/drain3.ini (profiling off)
Throughput: all datasets' lines through a fresh miner per dataset, best of --repeat interleaved passes,
lines per CPU second (process time: the machine is shared, and wall time would measure the neighbours).
--loo: leave-one-dataset-out choice of the two settings (similarity threshold, agreement guard): pick the
best mean on seven datasets, score the eighth, to show the defaults are not fitted to any one file.
--extra-dir DIR: also score every Loghub-format dataset found under DIR (``NAME/NAME*_structured.csv``
with ``Content`` and ``EventId`` columns; ``NAME/NAME_2k.log`` beside it adds the raw-line score when
its lines match the rows), in a table of their own beside drain3: logs the defaults were never chosen on.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from recoup.analytics.templates import DEFAULT_AGREEMENT, DEFAULT_SIMILARITY, TemplateMiner

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "loghub2k"
DATASETS = ["HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Linux"]
SIMILARITY_GRID = [0.6, 0.7, 0.75, 0.8, 0.85, 0.9]
AGREEMENT_GRID = [0.0, 0.5, 0.6, 2 / 3, 0.75]  # 0.0: no guard, plain Drain-style similarity

# The masks of drain3's examples/drain3.ini (github.com/logpai/Drain3), restated as configuration data.
DRAIN3_EXAMPLE_MASKS = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]

Labeller = Callable[[Sequence[str]], list[str]]


def load(data: Path, name: str) -> tuple[list[str], list[str], list[str]]:
    """Raw lines, content lines and true event ids of one dataset, aligned by line."""
    with (data / name / f"{name}_2k.log_structured.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    raw = (data / name / f"{name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    if len(raw) != len(rows):
        raise SystemExit(f"{name}: {len(raw)} raw lines but {len(rows)} structured rows")
    return raw, [r["Content"] for r in rows], [r["EventId"] for r in rows]


Dataset = tuple[list[str] | None, list[str], list[str]]


def load_extra(root: Path) -> dict[str, Dataset]:
    """Every Loghub-format dataset under ``root``: raw lines (None when absent or misaligned), content, truth."""
    found: dict[str, Dataset] = {}
    for structured in sorted(root.glob("*/*_structured.csv")):
        with structured.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"Content", "EventId"} - set(reader.fieldnames or ())
            if missing:
                print(f"{structured}: left out, no column {', '.join(sorted(missing))}", file=sys.stderr)
                continue
            rows = list(reader)
        raw_path = structured.with_name(structured.name.removesuffix("_structured.csv"))
        raw: list[str] | None = None
        if raw_path.is_file():
            raw = raw_path.read_text(encoding="utf-8", errors="replace").splitlines()
            if len(raw) != len(rows):
                print(f"{raw_path}: {len(raw)} lines but {len(rows)} rows, raw score left out", file=sys.stderr)
                raw = None
        name = structured.parent.name if structured.parent.name not in found else str(structured.relative_to(root))
        found[name] = (raw, [r["Content"] for r in rows], [r["EventId"] for r in rows])
    return found


def grouping_accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    """Share of lines whose predicted group is exactly their true group."""
    true_sizes = Counter(truth)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(predicted):
        groups[p].append(i)
    correct = 0
    for members in groups.values():
        events = {truth[i] for i in members}
        if len(events) == 1 and true_sizes[truth[members[0]]] == len(members):
            correct += len(members)
    return correct / len(truth)


def recoup_labeller(similarity: float = DEFAULT_SIMILARITY, agreement: float = DEFAULT_AGREEMENT) -> Labeller:
    def run(lines: Sequence[str]) -> list[str]:
        miner = TemplateMiner(similarity, agreement=agreement)
        return [miner.add(line).template_id for line in lines]

    return run


def drain3_labeller(example_config: bool) -> Labeller | None:
    try:
        from drain3 import TemplateMiner as Drain3Miner  # type: ignore[import-untyped]
        from drain3.masking import MaskingInstruction  # type: ignore[import-untyped]
        from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-untyped]
    except ImportError:
        return None

    def run(lines: Sequence[str]) -> list[str]:
        config = TemplateMinerConfig()
        config.profiling_enabled = False
        if example_config:
            config.masking_instructions = [MaskingInstruction(p, m) for p, m in DRAIN3_EXAMPLE_MASKS]
            config.mask_prefix, config.mask_suffix = "<:", ":>"
            config.drain_sim_th, config.drain_depth, config.drain_max_children = 0.4, 4, 100
            config.drain_max_clusters, config.drain_extra_delimiters = 1024, ["_"]
        miner = Drain3Miner(config=config)
        return [str(miner.add_log_message(line)["cluster_id"]) for line in lines]

    return run


def ga_table(title: str, data: Mapping[str, Dataset], miners: dict[str, Labeller]) -> None:
    """Print GA per dataset, miner and input kind (raw shown as '-' where a dataset has no raw log), and means."""
    columns = [f"{m} {kind}" for m in miners for kind in ("content", "raw")]
    print(title)
    print(f"{'dataset':12} {'lines':>6} " + " ".join(f"{c:>20}" for c in columns))
    scores: dict[str, list[float]] = {c: [] for c in columns}
    for name, (raw, content, truth) in data.items():
        cells = []
        for m, label in miners.items():
            for kind, lines in (("content", content), ("raw", raw)):
                if lines is None:
                    cells.append(f"{'-':>20}")
                    continue
                ga = grouping_accuracy(label(lines), truth)
                scores[f"{m} {kind}"].append(ga)
                cells.append(f"{ga:20.3f}")
        print(f"{name:12} {len(truth):6} " + " ".join(cells))
    means = [f"{sum(v) / len(v):20.3f}" if v else f"{'-':>20}" for v in scores.values()]
    print(f"{'mean':12} {'':6} " + " ".join(means))


def cpu_seconds(label: Labeller, corpora: list[list[str]]) -> float:
    """CPU seconds to label every corpus with a fresh miner each."""
    start = time.process_time()
    for lines in corpora:
        label(lines)
    return time.process_time() - start


def leave_one_out(data: dict[str, tuple[list[str], list[str], list[str]]]) -> None:
    """Choose (similarity, agreement) on seven datasets by mean GA over content and raw; score the eighth."""
    configs = [(st, ag) for st in SIMILARITY_GRID for ag in AGREEMENT_GRID]
    scores: dict[tuple[float, float], dict[str, tuple[float, float]]] = {}
    for st, ag in configs:
        label = recoup_labeller(st, ag)
        scores[(st, ag)] = {
            n: (grouping_accuracy(label(d[1]), d[2]), grouping_accuracy(label(d[0]), d[2])) for n, d in data.items()
        }
    default = (DEFAULT_SIMILARITY, DEFAULT_AGREEMENT)
    print("\nLeave-one-dataset-out choice of (similarity, agreement), by mean content+raw GA on the other seven")
    print(
        f"{'held out':12} {'chosen':>12} {'content GA':>11} {'raw GA':>8} {'default content':>16} {'default raw':>12}"
    )
    held: list[tuple[float, float]] = []
    for name in data:

        def others(config: tuple[float, float], name: str = name) -> float:
            return sum(c + r for n, (c, r) in scores[config].items() if n != name)

        chosen = max(configs, key=others)
        content, raw = scores[chosen][name]
        held.append((content, raw))
        d_content, d_raw = scores[default][name]
        print(f"{name:12} {chosen[0]:5.2f}/{chosen[1]:.2f} {content:11.3f} {raw:8.3f} {d_content:16.3f} {d_raw:12.3f}")
    print(f"{'mean':12} {'':12} {sum(h[0] for h in held) / len(held):11.3f} {sum(h[1] for h in held) / len(held):8.3f}")
    print("\nmean GA content/raw per (similarity, agreement):")
    for st in SIMILARITY_GRID:
        cells = []
        for ag in AGREEMENT_GRID:
            values = scores[(st, ag)].values()
            cells.append(
                f"{ag:.2f}: {sum(v[0] for v in values) / len(data):.3f}/{sum(v[1] for v in values) / len(data):.3f}"
            )
        print(f"  similarity {st:.2f}  " + "  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--loo", action="store_true")
    parser.add_argument("--extra-dir", type=Path, default=None, help="more Loghub-format datasets, scored apart")
    args = parser.parse_args(argv)
    if args.extra_dir is not None and not args.extra_dir.is_dir():
        print(f"--extra-dir {args.extra_dir}: not a directory", file=sys.stderr)
        return 2
    miners: dict[str, Labeller] = {"recoup": recoup_labeller()}
    for title, example in (("drain3", False), ("drain3+masks", True)):
        labeller = drain3_labeller(example)
        if labeller is None:
            print(f"{title}: not installed (pip install drain3), left out", file=sys.stderr)
        else:
            miners[title] = labeller
    if (args.data / "HDFS").is_dir():
        local(args, miners)
    else:
        print(f"skipped: Loghub-2k data not found at {args.data} (see ../shared/data/README.md)")
    if args.extra_dir is not None:
        extra = load_extra(args.extra_dir)
        if not extra:
            print(f"\n--extra-dir {args.extra_dir}: no NAME/NAME*_structured.csv found")
        else:
            title = f"Grouping accuracy on the datasets in {args.extra_dir} (scored apart from the eight above)"
            ga_table("\n" + title, extra, miners)
    return 0


def local(args: argparse.Namespace, miners: dict[str, Labeller]) -> None:
    """The eight local datasets: GA, throughput beside the peers, and (--loo) the leave-one-out choice."""
    names = [n for n in DATASETS if (args.data / n).is_dir()]
    data = {n: load(args.data, n) for n in names}
    ga_table("Grouping accuracy on Loghub-2k (one configuration per miner for every dataset)", data, miners)
    print(
        f"\nThroughput, lines/s of CPU time (best of {args.repeat} interleaved passes over "
        f"{sum(len(d[0]) for d in data.values())} lines; CPU time, as other jobs share the machine)"
    )
    rates: dict[str, list[float]] = {m: [float("inf"), float("inf")] for m in miners}
    for _ in range(args.repeat):  # interleaved, so a busy moment on the machine hits every miner alike
        for m, label in miners.items():
            for k, column in enumerate((1, 0)):  # content, then raw
                rates[m][k] = min(rates[m][k], cpu_seconds(label, [d[column] for d in data.values()]))
    total = sum(len(d[0]) for d in data.values())
    base = rates.get("drain3")
    print(f"{'miner':14} {'content':>10} {'raw':>10} {'vs drain3 (content, raw)':>26}")
    for m, (content_s, raw_s) in rates.items():
        ratio = f"{base[0] / content_s:.2f}x, {base[1] / raw_s:.2f}x" if base else "-"
        print(f"{m:14} {total / content_s:10.0f} {total / raw_s:10.0f} {ratio:>26}")
    if args.loo:
        leave_one_out(data)


if __name__ == "__main__":
    raise SystemExit(main())
