"""The message catalogue (support/i18n.py): both languages complete, plurals right, French typography,
and every key the code uses present with the values its text needs."""

from __future__ import annotations

import ast
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest
from babel.messages.pofile import read_po

from components.language_detector import LanguageDetector
from support import i18n
from support.handoff.hours import reply_expectation
from support.settings import product
from tests.helpers.server import ROOT

FR, EN = i18n.catalogue("fr"), i18n.catalogue("en")
KEYS = i18n.keys()
PLURALS = sorted(key for key in KEYS if len(EN.get(key, ())) == 2)
DETECTOR = LanguageDetector(LanguageDetector.get_default_config())
NO_BREAK = "\u00a0\u202f"  # no-break space, narrow no-break space
CODE_FOLDERS = ("support", "actions", "channels")


def placeholders(forms: Tuple[str, ...]) -> Set[str]:
    return {name for form in forms for name in re.findall(r"{(\w+)}", form)}


def sample_values(key: str) -> Dict[str, str]:
    return {name: f"<{name}>" for name in placeholders(EN[key]) | placeholders(FR[key]) if name != "count"}


def test_both_catalogues_have_exactly_the_same_keys() -> None:
    assert KEYS, "the catalogue is empty"
    assert sorted(FR) == sorted(EN), (
        f"only in French: {sorted(set(FR) - set(EN))}; only in English: {sorted(set(EN) - set(FR))}"
    )


@pytest.mark.parametrize("language, rule", [("fr", "(n > 1)"), ("en", "(n != 1)")])
def test_plural_forms_header(language: str, rule: str) -> None:
    path = i18n.po_path(language)
    assert f'"Plural-Forms: nplurals=2; plural={rule};\\n"' in path.read_text(encoding="utf-8")
    with path.open("rb") as po:
        assert read_po(po).plural_forms == f"nplurals=2; plural={rule};"
    assert not list(i18n.LOCALE_DIR.rglob("*.mo")), "the catalogues are compiled in memory: no .mo file"


@pytest.mark.parametrize("key", KEYS)
def test_every_message_is_written_in_both_languages(key: str) -> None:
    for language, catalogue in (("fr", FR), ("en", EN)):
        assert key in catalogue, f"{key} is missing (or fuzzy, or empty) in {language}"
        assert all(form.strip() for form in catalogue[key]), f"{key} is empty in {language}"
    assert len(FR[key]) == len(EN[key]), f"{key} is a plural in one language only"
    if len(EN[key]) == 2:
        for language, catalogue in (("fr", FR), ("en", EN)):
            assert catalogue[key][0] != catalogue[key][1], f"{key}: same singular and plural in {language}"
    assert placeholders(FR[key]) == placeholders(EN[key]), f"{key}: French and English use different values"


@pytest.mark.parametrize("key", KEYS)
def test_each_language_reads_as_that_language(key: str) -> None:
    """Detected as French or English once the values are taken out; a text that carries no language
    (the same in both, or too short for the detector) is skipped."""
    for language, catalogue, other in (("fr", FR, EN), ("en", EN, FR)):
        for index, form in enumerate(catalogue[key]):
            if form == other[key][index]:
                continue  # "{count} minute" is both French and English
            detected = DETECTOR.detect(re.sub(r"{\w+}", "", form))["code"]
            assert detected in (language, None), f"{key} ({language}) reads as {detected}: {form}"


@pytest.mark.parametrize("key", KEYS)
def test_french_typography(key: str) -> None:
    """A no-break space before : ; ! ? and inside « guillemets », never a plain space there."""
    for form in FR[key]:
        assert not re.search(r" [:;!?»]|« ", form), f"{key}: a plain space where a no-break space belongs: {form}"
        assert not re.search(rf"(?<![{NO_BREAK}])[:;!?](?=\s|$)", form), f"{key}: no no-break space: {form}"
        assert not re.search(rf"«(?![{NO_BREAK}])|(?<![{NO_BREAK}])»", form), f"{key}: guillemets: {form}"


@pytest.mark.parametrize("key", PLURALS)
def test_plural_forms_follow_each_language_rule(key: str) -> None:
    values = sample_values(key)
    singular_fr, plural_fr = (form.format(count="{count}", **values) for form in FR[key])
    singular_en, plural_en = (form.format(count="{count}", **values) for form in EN[key])
    assert i18n.plural("fr", key, 1, **values) == singular_fr.format(count="1")
    assert i18n.plural("fr", key, 0, **values) == singular_fr.format(count="0")  # 0 is singular in French
    assert i18n.plural("fr", key, 2, **values) == plural_fr.format(count="2")
    assert i18n.plural("en", key, 1, **values) == singular_en.format(count="1")
    assert i18n.plural("en", key, 0, **values) == plural_en.format(count="0")  # and plural in English
    assert i18n.plural("en", key, 2, **values) == plural_en.format(count="2")


def test_plural_examples_and_numbers_written_the_language_way() -> None:
    assert [i18n.plural("fr", "account.days", n) for n in (0, 1, 3)] == ["0 jour", "1 jour", "3 jours"]
    assert [i18n.plural("en", "account.days", n) for n in (0, 1, 3)] == ["0 days", "1 day", "3 days"]
    assert i18n.plural("en", "account.days", 1500) == "1,500 days"
    assert re.fullmatch(rf"1[{NO_BREAK}]500 jours", i18n.plural("fr", "account.days", 1500))
    assert i18n.plural("fr", "link.locked", 1).endswith("pendant encore 1 minute.")
    assert i18n.plural("en", "link.locked", 15).endswith("for another 15 minutes.")


def test_text_formats_values_and_falls_back_to_english() -> None:
    assert (
        i18n.text("fr", "link.not_linked", platform="Telegram")
        == "Votre compte Telegram n'est lié à aucun compte client\u00a0: il n'y a rien à délier."
    )
    english = "Your Slack account isn't linked to any customer account, so there's nothing to unlink."
    assert i18n.text("en", "link.not_linked", platform="Slack") == english
    assert i18n.text("de", "link.not_linked", platform="Slack") == english
    assert i18n.text("fr-CA", "hours.local_time", city="Paris") == "heure de Paris"
    with pytest.raises(KeyError):
        i18n.text("fr", "link.no_such_message")
    with pytest.raises(KeyError):
        i18n.text("fr", "account.days")  # a plural: plural(), with its count
    with pytest.raises(KeyError):
        i18n.plural("fr", "link.linked", 2)


def test_handoff_expectation_renders_its_plural() -> None:
    now = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
    wait = product().expected_wait_minutes
    assert reply_expectation(now, "fr")["wait_minutes"] == i18n.plural("fr", "handoff.wait_minutes", wait)
    assert reply_expectation(now, "en")["wait_minutes"] == f"{wait} minute" + ("" if wait == 1 else "s")


# Every key the code uses: text(language, "key", ...) and plural(language, "key", count, ...) calls.


def _i18n_names(tree: ast.Module) -> Tuple[Set[str], Dict[str, str]]:
    """The names the module gives support.i18n, and its text/plural functions (local name -> function)."""
    modules: Set[str] = set()
    functions: Set[Tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "support":
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "i18n"}
        elif isinstance(node, ast.ImportFrom) and node.module == "support.i18n":
            functions |= {
                (alias.asname or alias.name, alias.name) for alias in node.names if alias.name in ("text", "plural")
            }
        elif isinstance(node, ast.Import):
            modules |= {alias.asname for alias in node.names if alias.name == "support.i18n" and alias.asname}
    return modules, dict(functions)


def _literal_dicts(tree: ast.Module) -> Dict[str, List[ast.expr]]:
    """Module-level NAME = {...} dictionaries: a key may come from one (OUTCOME_KEYS[status])."""
    found: Dict[str, List[ast.expr]] = {}
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(value, ast.Dict):
            found.update({target.id: list(value.values) for target in targets if isinstance(target, ast.Name)})
    return found


def uses() -> Iterator[Tuple[str, str, Optional[str], Set[str], bool]]:
    """(where, function, key or None when not a literal, keyword names, has **values) for every call."""
    for folder in CODE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            modules, functions = _i18n_names(tree)
            dictionaries = _literal_dicts(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id in modules
                    and func.attr in ("text", "plural")
                ):
                    name = func.attr
                elif isinstance(func, ast.Name) and func.id in functions:
                    name = functions[func.id]
                else:
                    continue
                where = f"{Path(path).relative_to(ROOT)}:{node.lineno}"
                key_node = (
                    node.args[1]
                    if len(node.args) > 1
                    else next((k.value for k in node.keywords if k.arg == "key"), None)
                )
                keywords = {k.arg for k in node.keywords if k.arg not in (None, "key", "count", "language")}
                spread = any(k.arg is None for k in node.keywords)
                if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
                    yield where, name, key_node.value, keywords, spread
                elif (
                    isinstance(key_node, ast.Subscript)
                    and isinstance(key_node.value, ast.Name)
                    and key_node.value.id in dictionaries
                ):
                    for value in dictionaries[key_node.value.id]:
                        literal = value.value if isinstance(value, ast.Constant) else None
                        yield where, name, literal if isinstance(literal, str) else None, keywords, spread
                else:
                    yield where, name, None, keywords, spread


USES = list(uses())


def test_the_code_uses_the_catalogue() -> None:
    used = {key for _, _, key, _, _ in USES}
    assert {"link.linked", "link.locked", "hours.day_range", "account.days", "summary.grace_days_left"} <= used


@pytest.mark.parametrize("where, function, key, keywords, spread", USES, ids=[f"{u[0]}:{u[2]}" for u in USES])
def test_every_key_the_code_uses_exists(
    where: str, function: str, key: Optional[str], keywords: Set[str], spread: bool
) -> None:
    assert key is not None, f"{where}: give {function}() a literal key (or one from a module-level dict of keys)"
    assert key in EN and key in FR, f"{where}: {key!r} is not in the catalogue"
    forms = 2 if function == "plural" else 1
    assert len(EN[key]) == forms, (
        f"{where}: {key!r} is {'not ' if forms == 2 else ''}a plural: use {'text' if forms == 2 else 'plural'}()"
    )
    needed = placeholders(EN[key]) - {"count"}
    if not spread:
        assert keywords == needed, f"{where}: {key!r} needs {sorted(needed)}, gets {sorted(keywords)}"
