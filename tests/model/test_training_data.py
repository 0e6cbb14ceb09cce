"""The training data is valid, large enough, bilingual, and never overlaps evaluation data."""

from __future__ import annotations

import csv
import re
import subprocess
from collections import Counter

import pytest
import yaml
from rapidfuzz import fuzz, process

from tests.helpers.domain import load_domain
from tests.helpers.server import ROOT
from tests.unit.test_domain import CONTRACT

MIN_EXAMPLES = 30
DOMAIN_RESPONSES = load_domain()["responses"]


def _examples(path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (block["intent"], line.strip()[2:].strip())
        for block in data.get("nlu", [])
        for line in block["examples"].strip().splitlines()
    ]


def _conversation_messages() -> list[str]:
    """What customers say in the conversation benchmarks (bench/conversations/, bench/conversations_blind/)."""
    return [
        turn["say"]
        for path in sorted((ROOT / "bench").glob("conversations*/*.yml"))
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]
        for turn in conversation["turns"]
    ]


def _normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


TRAIN = {
    lang: [e for p in sorted((ROOT / "data" / "nlu" / lang).glob("*.yml")) for e in _examples(p)]
    for lang in ("fr", "en")
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_intent_has_enough_examples_in_each_language(lang: str) -> None:
    counts = Counter(intent for intent, _ in TRAIN[lang])
    too_few = {intent: counts[intent] for intent in CONTRACT if counts[intent] < MIN_EXAMPLES}
    assert not too_few, f"{lang}: fewer than {MIN_EXAMPLES} examples: {too_few}"


def test_no_example_is_labelled_twice() -> None:
    seen: dict[str, str] = {}
    for intent, text in TRAIN["fr"] + TRAIN["en"]:
        key = _normalise(text)
        assert seen.setdefault(key, intent) == intent, f"{text!r} is both {seen[key]} and {intent}"


def test_training_data_never_contains_evaluation_messages() -> None:
    """No training sentence equals or nearly equals (80% similar) a held-out or external one."""
    heldout = [_normalise(t) for p in (ROOT / "bench").glob("*/??.yml") for _, t in _examples(p)]
    heldout += [_normalise(t) for t in _conversation_messages()]
    external_file = ROOT.parent / "shared" / "eval" / "external.csv"
    assert external_file.exists(), "../shared/eval/external.csv is missing"
    with external_file.open(encoding="utf-8") as handle:
        external = [_normalise(row["text"]) for row in csv.DictReader(handle)]
    # two-word messages ("bonjour toi", "merci beaucoup") are bound to coincide; sentences must not
    evaluation = [t for t in heldout + external if len(t.split()) > 2]
    leaked = []
    for lang in TRAIN:
        for _, text in TRAIN[lang]:
            match = process.extractOne(_normalise(text), evaluation, scorer=fuzz.ratio, score_cutoff=80)
            if match and len(_normalise(text).split()) > 2:
                leaked.append((text, match[0]))
    assert not leaked, f"evaluation messages (or near copies) found in data/: {leaked[:10]}"


DECLARED = yaml.safe_load((ROOT / "actions" / "responses.yml").read_text(encoding="utf-8"))
SENT_BY_CODE = {"actions": DECLARED["sent_by_actions"], "channels": DECLARED["sent_by_channels"]}


def _names_in_code(folder: str) -> list:
    """Response names in a folder's code: literals, and f-string families as patterns (utter_reason_\\w+)."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / folder).rglob("*.py"))
    literals = re.findall(r'"(utter_\w+)"', source)
    families = [prefix + r"\w+" for prefix in re.findall(r'f"(utter_\w*)\{', source)]
    return literals + families


def _in_rules_or_stories() -> set:
    used = set()
    for path in (ROOT / "data").rglob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in (data.get("rules") or []) + (data.get("stories") or []):
            used |= {step["action"] for step in block.get("steps", []) if "action" in step}
    return used


@pytest.mark.parametrize("folder", sorted(SENT_BY_CODE))
def test_responses_declared_as_sent_by_code_are_sent_by_it(folder: str) -> None:
    names = _names_in_code(folder)
    for response in SENT_BY_CODE[folder]:
        assert response in DOMAIN_RESPONSES, f"{response} is not in domain/"
        assert any(re.fullmatch(name, response) for name in names), f"{folder}/ never sends {response}"


def test_every_response_is_in_a_rule_or_declared_as_sent_by_code() -> None:
    declared = {name for names in SENT_BY_CODE.values() for name in names}
    used = _in_rules_or_stories()
    assert sorted(set(DOMAIN_RESPONSES) - used - declared) == []  # never sent by anything
    assert sorted(declared & used) == []  # a rule names it: not "only code"


def test_rasa_data_validate_is_clean() -> None:
    """No error and no warning, except responses declared as sent only by code (Rasa cannot see those)."""
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--domain", "domain"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = re.findall(r"UserWarning: (.*)", output)
    declared = {name for names in SENT_BY_CODE.values() for name in names}
    unexplained = [
        w
        for w in warnings
        if not (m := re.fullmatch(r"The utterance '(\w+)' is not used in any story or rule\.", w))
        or m.group(1) not in declared
    ]
    assert not unexplained, unexplained
