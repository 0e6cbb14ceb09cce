"""NLU benchmark: this project's pipeline against Rasa's default, on data never trained on.

    python bench/nlu_bench.py [--configs config.yml bench/configs/rasa_default.yml]

Each config is trained cold (an empty training cache) on data/nlu, then evaluated on
(a) bench/heldout/{fr,en}.yml, the project's held-out set, and (b) ../shared/eval/external.csv,
real user utterances from public data sets. Prints a table per language and writes
bench/out/report.json and one confusion-matrix PNG per config, set and language.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
HELDOUT = ROOT / "bench" / "heldout"  # written with the training data, used for error analysis
FRESH = ROOT / "bench" / "fresh"  # written last by another author, never looked at while tuning
EXTERNAL = ROOT.parent / "shared" / "eval" / "external.csv"
OOS = "out_of_scope"
FALLBACK = "nlu_fallback"
REJECTED = {OOS, FALLBACK}


@dataclass
class Example:
    lang: str
    text: str
    gold: Sequence[str]  # accepted intents ("a|b" in the external set accepts either)


def load_heldout(folder: Path = HELDOUT) -> List[Example]:
    """Reads the held-out YAML files, one per language (fr.yml, en.yml)."""
    import yaml

    examples = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].strip().splitlines():
                examples.append(Example(path.stem, line.strip()[2:].strip(), (block["intent"],)))
    return examples


# Small talk around a request ("merci ! et il me reste combien de jours ?"): the held-out requests, each
# wrapped in one of these (chosen in turn), make the "mixed" set that measures components/request_splitter.py.
WRAPPERS = {
    "fr": ["bonjour, {}", "merci ! et {}", "salut ! {}", "{} merci d'avance", "coucou, {}", "ok merci. {}"],
    "en": ["hi, {}", "thanks! and {}", "hello there. {}", "{} thanks in advance", "hey, {}", "ok thank you. {}"],
}
SMALL_TALK = {"greet", "goodbye", "thank", "how_are_you", "affirm", "deny", OOS}


def mixed(examples: Sequence[Example]) -> List[Example]:
    """The in-scope requests of a set wrapped in small talk."""
    requests = [e for e in examples if not set(e.gold) & SMALL_TALK]
    wrapped = []
    for number, example in enumerate(requests):
        wrappers = WRAPPERS[example.lang]
        wrapped.append(Example(example.lang, wrappers[number % len(wrappers)].format(example.text), example.gold))
    return wrapped


def load_external(path: Path = EXTERNAL) -> List[Example]:
    with path.open(encoding="utf-8") as handle:
        return [Example(r["lang"], r["text"], tuple(r["intent"].split("|"))) for r in csv.DictReader(handle)]


def train(config: Path, nlu_data: Path, workdir: Path, name: str) -> tuple[Path, float]:
    """Trains an NLU model cold (own empty cache) in a subprocess; returns (model, seconds)."""
    cache = tempfile.mkdtemp(prefix=f"rasa-cache-{name}-")  # cold: nothing reused from earlier trainings
    env = {**os.environ, "RASA_CACHE_DIRECTORY": cache, "RASA_TELEMETRY_ENABLED": "false"}
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(nlu_data),
        "--out",
        str(workdir),
        "--fixed-model-name",
        name,
        "--quiet",
    ]
    started = time.perf_counter()
    try:
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return workdir / f"{name}.tar.gz", time.perf_counter() - started


def parse_all(model: Path, texts: Sequence[str]) -> tuple[List[dict], List[float]]:
    """Parses every text with the trained model; returns parse data and per-message milliseconds."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no per-message debug lines
    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    results, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        results.append(loop.run_until_complete(agent.parse_message(text)))
        latencies.append((time.perf_counter() - started) * 1000)
    loop.close()
    return results, latencies


def predicted_intent(parse: dict) -> str:
    return (parse.get("intent") or {}).get("name") or FALLBACK


def is_right(gold: Sequence[str], predicted: str) -> bool:
    if OOS in gold:
        return predicted in REJECTED
    return predicted in gold


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def score(examples: Sequence[Example], parses: Sequence[dict]) -> Dict[str, Optional[float]]:
    """Accuracy, macro-F1, out-of-scope rejection, wrong-answer rate, language detection."""
    from sklearn.metrics import f1_score

    gold_labels, predicted_labels = [], []
    right = oos_total = oos_rejected = in_scope = wrong_answers = 0
    lang_decided = lang_right = 0
    for example, parse in zip(examples, parses):
        predicted = predicted_intent(parse)
        ok = is_right(example.gold, predicted)
        right += ok
        predicted_label = OOS if predicted in REJECTED else predicted
        gold_labels.append(predicted_label if ok else example.gold[0])
        predicted_labels.append(predicted_label)
        if OOS in example.gold:
            oos_total += 1
            oos_rejected += predicted in REJECTED
        else:
            in_scope += 1
            wrong_answers += (not ok) and predicted not in REJECTED
        detected = (parse.get("language") or {}).get("code")
        if detected:
            lang_decided += 1
            lang_right += detected == example.lang
    has_language = any("language" in parse for parse in parses)
    return {
        "n": len(examples),
        "accuracy": right / len(examples),
        "macro_f1": f1_score(gold_labels, predicted_labels, average="macro", labels=sorted(set(gold_labels))),
        "oos_rejection": oos_rejected / oos_total if oos_total else None,
        "wrong_answer_rate": wrong_answers / in_scope if in_scope else None,
        "language_accuracy": lang_right / lang_decided if has_language and lang_decided else None,
        "language_abstained": 1 - lang_decided / len(examples) if has_language else None,
    }


def confusion_png(examples: Sequence[Example], parses: Sequence[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    gold = [e.gold[0] for e in examples]
    predicted = [OOS if predicted_intent(p) in REJECTED else predicted_intent(p) for p in parses]
    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels)
    figure, axes = plt.subplots(figsize=(12, 11))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    axes.set_yticks(range(len(labels)), labels, fontsize=7)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                axes.text(
                    j,
                    i,
                    matrix[i, j],
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                )
    axes.set_xlabel("predicted (nlu_fallback counted as out_of_scope)")
    axes.set_ylabel("expected")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def evaluate(config: Path, workdir: Path, sets: Dict[str, List[Example]], retrain: bool = True) -> dict:
    name = config.stem
    model, seconds = workdir / f"{name}.tar.gz", float("nan")
    if retrain or not model.exists():
        model, seconds = train(config, ROOT / "data" / "nlu", workdir, name)
    report: dict = {"config": os.path.relpath(config, ROOT), "training_seconds": round(seconds, 1), "sets": {}}
    for set_name, examples in sets.items():
        parses, latencies = parse_all(model, [e.text for e in examples])
        for lang in ("fr", "en"):
            picked = [(e, p, t) for e, p, t in zip(examples, parses, latencies) if e.lang == lang]
            if not picked:
                continue
            subset, subset_parses, subset_ms = map(list, zip(*picked))
            figures = score(subset, subset_parses)
            figures["errors"] = [
                {"text": e.text, "gold": "|".join(e.gold), "predicted": predicted_intent(p)}
                for e, p in zip(subset, subset_parses)
                if not is_right(e.gold, predicted_intent(p))
            ]
            figures["parse_ms_p50"] = statistics.median(subset_ms)
            figures["parse_ms_p95"] = percentile(subset_ms, 0.95)
            report["sets"][f"{set_name}/{lang}"] = figures
            confusion_png(
                subset, subset_parses, OUT / f"confusion-{name}-{set_name}-{lang}.png", f"{name}: {set_name} ({lang})"
            )
    return report


def print_table(reports: List[dict]) -> None:
    columns = [
        "accuracy",
        "macro_f1",
        "oos_rejection",
        "wrong_answer_rate",
        "language_accuracy",
        "parse_ms_p50",
        "parse_ms_p95",
    ]
    print(f"{'config':<16}{'set/lang':<18}{'n':>5} " + " ".join(f"{c[:12]:>12}" for c in columns))
    for report in reports:
        for key, figures in report["sets"].items():
            cells = [f"{figures[c]:>12.3f}" if figures[c] is not None else f"{'-':>12}" for c in columns]
            print(f"{Path(report['config']).stem:<16}{key:<18}{figures['n']:>5} " + " ".join(cells))
        print(f"{Path(report['config']).stem:<16}training time: {report['training_seconds']} s (cold cache)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--configs",
        nargs="+",
        type=Path,
        default=[
            ROOT / "config.yml",
            ROOT / "bench" / "configs" / "rasa_default.yml",
            ROOT / "bench" / "configs" / "with_spacy.yml",
        ],
    )
    parser.add_argument(
        "--reuse-models",
        action="store_true",
        help="evaluate the models a previous run left in bench/out/models (no training)",
    )
    args = parser.parse_args()
    models = OUT / "models"
    models.mkdir(parents=True, exist_ok=True)
    heldout = load_heldout()
    sets = {"heldout": heldout, "fresh": load_heldout(FRESH), "external": load_external(), "mixed": mixed(heldout)}
    reports = []
    for config in args.configs:
        reports.append(evaluate(config.resolve(), models, sets, retrain=not args.reuse_models))
        print_table(reports[-1:])
    (OUT / "report.json").write_text(json.dumps(reports, indent=2), encoding="utf-8")
    print("\nAll configurations:")
    print_table(reports)
    print(f"report: {OUT / 'report.json'}; confusion matrices: {OUT}/confusion-*.png")


if __name__ == "__main__":
    main()
