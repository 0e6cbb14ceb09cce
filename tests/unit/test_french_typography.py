"""French typography in every text shown to customers or agents, and none of it in the English texts.

French: a narrow no-break space (U+202F) before ? ! ; and a no-break space (U+00A0) before : and inside
« guillemets » (after « and before »), never a plain space, another space or no space there. URLs
(https://...), times (09:00) and {placeholders} are not prose and are left alone.
English: no narrow no-break space and no French guillemets.

The texts: every response variation of every domain/*.yml file (merged as tests.helpers.domain does),
every msgstr of the gettext catalogues (support/locale/<fr|en>/LC_MESSAGES/messages.po, read with Babel),
and the labels of the web pages: the `fr: {...}` / `en: {...}` label tables of web/**/*.js, the text
and labelling attributes of web/**/*.html (French or English by the page's lang), and any label in the
Python modules that serve them (channels/web/pages.py, channels/agent/console.py).
"""

from __future__ import annotations

import ast
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml
from babel.messages.pofile import read_po

from tests.helpers.domain import DOMAIN_DIR, load_domain
from tests.helpers.server import ROOT

NBSP, NNBSP = "\u00a0", "\u202f"
SPACE_BEFORE = {"?": NNBSP, "!": NNBSP, ";": NNBSP, ":": NBSP}
NAMES = {" ": "a plain space", NBSP: "U+00A0", NNBSP: "U+202F", "\t": "a tab", "\n": "a line break"}
FRENCH_LETTERS = re.compile(r"[àâçéèêëîïôûùüÿœæÀÂÇÉÈÊËÎÏÔÛÙÜŸŒÆ«»]")
NOT_PROSE = [
    re.compile(r"\b[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE),  # URLs
    re.compile(r"(?<=\d):(?=\d)"),  # times and ratios: 09:00
    re.compile(r"{\w*}"),  # placeholders
]
FRENCH_IS_FR = {"type": "slot", "name": "language", "value": "fr"}
WEB = ROOT / "web"
SERVING_MODULES = [ROOT / "channels" / "web" / "pages.py", ROOT / "channels" / "agent" / "console.py"]


# ---------- the checks ----------


def _mask(text: str) -> str:
    """The text with what is not prose (URLs, times, placeholders) blanked out, same length."""
    for pattern in NOT_PROSE:
        text = pattern.sub(lambda m: "\0" * len(m.group()), text)
    return text


def _spot(text: str, index: int) -> str:
    """The place of a problem, quoted with its spaces escaped: 'gratuit ⟦?⟧ Vos'."""
    start, end = max(0, index - 30), min(len(text), index + 12)
    window = text[start:index] + "⟦" + text[index] + "⟧" + text[index + 1 : end]
    return ("…" if start else "") + repr(window)[1:-1] + ("…" if end < len(text) else "")


def _name(char: str) -> str:
    return NAMES.get(char, "no space" if not char or not char.isspace() else f"U+{ord(char):04X}")


def french_problems(text: str) -> List[str]:
    """Every place where a French text breaks the typography rules, described with the bad spot."""
    problems = []
    masked = _mask(text)
    for match in re.finditer(r"[?!;:]", masked):
        index, mark = match.start(), match.group()
        before = masked[index - 1] if index else ""
        if before == SPACE_BEFORE[mark] or (mark in "?!" and before in ("?", "!")):
            continue  # "vraiment ?!": the space goes before the first mark only
        wanted = "a narrow no-break space (U+202F)" if mark != ":" else "a no-break space (U+00A0)"
        problems.append(f"{_name(before)} before {mark!r} instead of {wanted}: {_spot(text, index)}")
    for match in re.finditer(r"[«»]", masked):
        index, mark = match.start(), match.group()
        neighbour = masked[index + 1 : index + 2] if mark == "«" else masked[index - 1 : index]
        if neighbour != NBSP:
            side = "after" if mark == "«" else "before"
            problems.append(f"{_name(neighbour)} {side} {mark!r} instead of U+00A0: {_spot(text, index)}")
    return problems


def english_problems(text: str) -> List[str]:
    """Every French typographic character in an English text."""
    return [
        f"{'a narrow no-break space (U+202F)' if char == NNBSP else 'a French guillemet'} in English text: "
        f"{_spot(text, index)}"
        for index, char in enumerate(text)
        if char in (NNBSP, "«", "»")
    ]


def _report(found: List[Tuple[str, str]], check) -> List[str]:
    return [f"{where}: {problem}" for where, text in found for problem in check(text)]


# ---------- the texts: domain ----------

DOMAIN = load_domain()
RESPONSES: Dict[str, list] = DOMAIN.get("responses") or {}


def response_texts(name: str, french: bool) -> List[Tuple[str, str]]:
    """(where, text) of the French variations of a response, or of its English (default) ones."""
    found = []
    for number, variation in enumerate(RESPONSES[name]):
        condition = variation.get("condition") or []
        if (FRENCH_IS_FR in condition) != french or (not french and condition):
            continue
        where = f"{name} ({'French' if french else 'English'} variation {number})"
        if variation.get("text"):
            found.append((f"{where} text", variation["text"]))
        for button in variation.get("buttons") or []:
            found.append((f"{where} button {button.get('title')!r}", button.get("title") or ""))
    return found


def test_every_domain_file_is_read() -> None:
    files = sorted(DOMAIN_DIR.glob("*.yml"))
    assert files, "no domain/*.yml"
    for path in files:
        names = set((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {})
        assert names <= set(RESPONSES), f"{path.name}: responses missing from the merged domain"
    assert RESPONSES, "the merged domain has no responses"
    assert any(response_texts(name, french=True) for name in RESPONSES), "no French variation found"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_french_responses_follow_french_typography(name: str) -> None:
    problems = _report(response_texts(name, french=True), french_problems)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_english_responses_have_no_french_typography(name: str) -> None:
    problems = _report(response_texts(name, french=False), english_problems)
    assert not problems, "\n".join(problems)


# ---------- the texts: gettext catalogues ----------


def catalogue_texts(language: str) -> List[Tuple[str, str]]:
    """(msgid, text) of every translated message of a catalogue, each plural form on its own."""
    path = ROOT / "support" / "locale" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    found = []
    for message in catalog:
        if not message.id:
            continue  # the header
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        found += [
            (f"{language} catalogue {key}" + (f"[{n}]" if len(strings) > 1 else ""), s) for n, s in enumerate(strings)
        ]
    return found


FRENCH_CATALOGUE = catalogue_texts("fr")
ENGLISH_CATALOGUE = catalogue_texts("en")


@pytest.mark.parametrize("where, text", FRENCH_CATALOGUE, ids=[w for w, _ in FRENCH_CATALOGUE])
def test_french_catalogue_follows_french_typography(where: str, text: str) -> None:
    problems = _report([(where, text)], french_problems)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("where, text", ENGLISH_CATALOGUE, ids=[w for w, _ in ENGLISH_CATALOGUE])
def test_english_catalogue_has_no_french_typography(where: str, text: str) -> None:
    problems = _report([(where, text)], english_problems)
    assert not problems, "\n".join(problems)


# ---------- the texts: emails ----------

EMAILS = sorted((ROOT / "support" / "emails" / "templates").glob("*.txt"))


@pytest.mark.parametrize("path", EMAILS, ids=[p.name for p in EMAILS])
def test_emails_follow_their_language_typography(path: Path) -> None:
    check = french_problems if path.name.endswith(".fr.txt") else english_problems
    text = re.sub(r"\{[{%].*?[%}]\}", "", path.read_text(encoding="utf-8"))  # Jinja2 tags are not text
    text = text.removeprefix("Subject: ")  # the header's name, not French text
    problems = _report([(path.name, text)], check)
    assert EMAILS and not problems, "\n".join(problems)


# ---------- the texts: web pages ----------

JS_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`")
JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _js_unescape(raw: str) -> str:
    def one(match: re.Match) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return JS_ESCAPES.get(code, code)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", one, raw)


def _js_label_tables(source: str, language: str) -> Iterator[List[str]]:
    """The string literals of every `<language>: { ... }` object in a script (braces in strings skipped)."""
    for start in re.finditer(rf"(?<![\w$.]){language}\s*:\s*{{", source):
        depth, index, strings = 0, start.end() - 1, []
        while index < len(source):
            literal = JS_STRING.match(source, index)
            if literal:
                strings.append(_js_unescape(next(g for g in literal.groups() if g is not None)))
                index = literal.end()
                continue
            depth += {"{": 1, "}": -1}.get(source[index], 0)
            index += 1
            if depth == 0:
                break
        yield strings


class _PageText(HTMLParser):
    """The text and the labelling attributes of an HTML page, and its lang."""

    LABELS = ("title", "aria-label", "placeholder", "alt", "label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang, self.texts, self._skip = "", [], 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = (attributes.get("lang") or "").lower()
        if tag in ("script", "style"):
            self._skip += 1
        self.texts += [unescape(value) for name, value in attrs if name in self.LABELS and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip(" \n\t"))  # not str.strip(): no-break spaces count


def _python_labels(path: Path) -> Iterator[str]:
    """The string constants of a module, docstrings left out (they are not shown to anyone)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value


def web_texts() -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    """(French, English) labels of the widget, the demo page and the agent console, as (where, text)."""
    french: List[Tuple[str, str]] = []
    english: List[Tuple[str, str]] = []
    files = sorted(p for p in WEB.rglob("*") if "node_modules" not in p.parts and p.suffix in (".js", ".html"))
    for path in files:
        where = str(path.relative_to(ROOT))
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".js":
            for language, bucket in (("fr", french), ("en", english)):
                for table in _js_label_tables(source, language):
                    bucket += [(f"{where} ({language} labels)", text) for text in table]
        else:
            page = _PageText()
            page.feed(source)
            bucket = french if page.lang.startswith("fr") else english
            bucket += [(f"{where} (lang={page.lang or '?'})", text) for text in page.texts]
    for path in SERVING_MODULES:
        where = str(path.relative_to(ROOT))
        for text in _python_labels(path):
            (french if FRENCH_LETTERS.search(text) else english).append((where, text))
    return french, english


def test_web_labels_follow_french_typography() -> None:
    french, english = web_texts()
    assert any("chat-widget.js" in where for where, _ in french), "the widget's French labels were not found"
    assert any(where.endswith(".html (lang=fr)") for where, _ in french), "no French page found"
    problems = _report(french, french_problems) + _report(english, english_problems)
    assert not problems, "\n".join(problems)


# ---------- the checks themselves catch what they are meant to catch ----------


@pytest.mark.parametrize(
    "text, problem",
    [
        ("Bonjour !", "a plain space before '!'"),
        ("Bonjour!", "no space before '!'"),
        ("Pourquoi\u00a0?", "U+00A0 before '?'"),
        ("stockage ;", "a plain space before ';'"),
        ("Votre référence : {reference}", "a plain space before ':'"),
        ("Votre référence: {reference}", "no space before ':'"),
        ("Votre référence\u202f: {reference}", "U+202F before ':'"),
        ("envoyez « lier\u00a0»", "a plain space after '«'"),
        ("envoyez «\u00a0lier»", "no space before '»'"),
        ("sur https://example.com/a?b=1 : voilà", "a plain space before ':'"),
    ],
)
def test_the_french_check_catches_bad_typography(text: str, problem: str) -> None:
    problems = french_problems(text)
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    assert "⟦" in problems[0], "the message shows the bad spot"


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour\u202f! Que puis-je faire pour vous\u202f?",
        "Vraiment\u202f?!",
        "Votre référence\u00a0: {reference}\u202f; la suite",
        "Écrivez «\u00a0lier K7Q4M2\u00a0».",
        "du lundi au vendredi, 09:00–18:00, sur https://helpdesk.example.com/a?b=1",
        "{date}\u202f?",
    ],
)
def test_the_french_check_accepts_good_typography(text: str) -> None:
    assert french_problems(text) == []


def test_the_english_check_catches_french_typography() -> None:
    assert english_problems('Hi! Send "link" at 09:00: https://example.com/?a=1') == []
    assert len(english_problems("Hi\u202f!")) == 1
    assert len(english_problems("send «\u00a0link\u00a0»")) == 2
