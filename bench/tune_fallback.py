"""Chooses the FallbackClassifier thresholds on a development split of data/nlu.

    python bench/tune_fallback.py [--config config.yml] [--dev-share 0.2]

Trains the pipeline (fallback disabled) on the rest of data/nlu, parses the development
split, and replays every (threshold, ambiguity_threshold) pair on the raw intent ranking.
Never looks at bench/heldout or the external set: those stay for the benchmark.
Prints the best pairs by balanced accuracy (mean of in-scope accuracy and out-of-scope rejection).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from bench.nlu_bench import FALLBACK, OOS, ROOT, parse_all, train


def split_data(dev_share: float, seed: int = 7) -> Tuple[Dict, List[Tuple[str, str]]]:
    """Returns (train blocks per (lang, intent), dev examples as (text, intent)), stratified."""
    rng = random.Random(seed)
    train_blocks: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    dev: List[Tuple[str, str]] = []
    for path in sorted((ROOT / "data" / "nlu").glob("*/*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            lines = [line.strip()[2:].strip() for line in block["examples"].strip().splitlines()]
            rng.shuffle(lines)
            cut = int(len(lines) * dev_share)
            dev += [(text, block["intent"]) for text in lines[:cut]]
            train_blocks[(path.parent.name, block["intent"])] += lines[cut:]
    return train_blocks, dev


def write_nlu(blocks: Dict[Tuple[str, str], List[str]], path: Path) -> None:
    nlu = [
        {"intent": intent, "metadata": {"language": lang}, "examples": "".join(f"- {text}\n" for text in texts)}
        for (lang, intent), texts in sorted(blocks.items())
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, width=10000), encoding="utf-8")


def without_fallback(config: Path, target: Path) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["pipeline"] = [c for c in data["pipeline"] if c["name"] != "FallbackClassifier"]
    target.write_text(yaml.safe_dump(data), encoding="utf-8")


def replay(parses: List[dict], dev: List[Tuple[str, str]], threshold: float, ambiguity: float) -> Dict[str, float]:
    in_right = in_total = oos_right = oos_total = 0
    for parse, (_, gold) in zip(parses, dev):
        ranking = parse.get("intent_ranking") or [parse["intent"]]
        top = ranking[0]
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        predicted = top["name"]
        if top["confidence"] < threshold or top["confidence"] - second < ambiguity:
            predicted = FALLBACK
        if gold == OOS:
            oos_total += 1
            oos_right += predicted in (OOS, FALLBACK)
        else:
            in_total += 1
            in_right += predicted == gold
    in_accuracy, rejection = in_right / in_total, oos_right / oos_total
    return {"in_scope_accuracy": in_accuracy, "oos_rejection": rejection, "balanced": (in_accuracy + rejection) / 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--dev-share", type=float, default=0.2)
    args = parser.parse_args()
    blocks, dev = split_data(args.dev_share)
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        (work / "nlu").mkdir()
        write_nlu(blocks, work / "nlu" / "train.yml")
        without_fallback(args.config, work / "config.yml")
        model, seconds = train(work / "config.yml", work / "nlu", work, "tuning")
        parses, _ = parse_all(model, [text for text, _ in dev])
    import collections

    confusions = collections.Counter(
        (gold, p["intent"]["name"]) for p, (_, gold) in zip(parses, dev) if p["intent"]["name"] != gold
    )
    print(confusions.most_common(15))
    results = []
    for threshold in [x / 20 for x in range(0, 19)]:
        for ambiguity in [0.0, 0.02, 0.05, 0.1, 0.15, 0.2]:
            results.append((replay(parses, dev, threshold, ambiguity), threshold, ambiguity))
    results.sort(key=lambda r: (-round(r[0]["balanced"], 4), -r[1]))
    print(f"trained in {seconds:.0f} s; {len(dev)} development messages")
    print(f"{'threshold':>10}{'ambiguity':>10}{'in-scope acc':>14}{'oos reject':>12}{'balanced':>10}")
    for figures, threshold, ambiguity in results[:10]:
        print(
            f"{threshold:>10.2f}{ambiguity:>10.2f}{figures['in_scope_accuracy']:>14.3f}"
            f"{figures['oos_rejection']:>12.3f}{figures['balanced']:>10.3f}"
        )


if __name__ == "__main__":
    main()
