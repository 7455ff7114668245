"""Detection quality over several seeds of the randomised generator: per seed, then all seeds pooled.

Each seed's data set is generated once into bench/data/quality-SIZE-seedN (gitignored) and scored
with `cli.evaluate` at the settings of `--config` (default: the defaults). Seeds 1-5 are the
ones detection was tuned on; report on others (the default, 101-105), which it has never seen.

    python bench/quality.py [--seeds 101 102 103 104 105] [--posts 100000] [--config FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.evaluate import Evaluation, evaluate, format_report, pooled, read_labels, read_truth
from cli.scan import read_posts
from cli.synthetic import generate, write
from service.config import load_config

DATA = Path(__file__).resolve().parent / "data"


def data_set(posts: int, seed: int) -> Path:
    """The cached generated data set (posts file) of `posts` posts for `seed`."""
    folder = DATA / f"quality-{posts}-seed{seed}"
    if not (folder / "truth.json").exists():
        write(folder, generate(posts, seed))
    return folder / "posts.jsonl.gz"


def main(argv: list[str] | None = None) -> int:
    """Score each seed and print the per-seed lines, then the pooled report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    parser.add_argument("--posts", type=int, default=100000)
    parser.add_argument("--config", help="TOML settings file (its [detection] section is used)")
    args = parser.parse_args(argv)
    settings = load_config(args.config).detection
    results: dict[int, Evaluation] = {}
    for seed in args.seeds:
        path = data_set(args.posts, seed)
        labels_path = path.with_name("labels.csv")
        posts, _ = read_posts(path)
        result = results[seed] = evaluate(posts, read_labels(labels_path), settings, read_truth(labels_path))
        findable = sum(f for f, _ in result.findable.values())
        found = sum(g for _, g in result.findable.values())
        lookalikes = sum(a for a, _ in result.hard_negatives.values())
        quiet = sum(f for _, f in result.hard_negatives.values())
        print(f"seed {seed}: {len(posts):,} posts, precision {result.precision:.3f}, recall {result.recall:.3f} "
              f"(findable {found / max(1, findable):.3f}), look-alike accounts flagged {quiet}/{lookalikes} "
              f"({quiet / max(1, lookalikes):.1%}), {result.clusters} cards", flush=True)
    print(f"\nall {len(results)} seeds pooled:")
    print(format_report(pooled(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
