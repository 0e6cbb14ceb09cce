"""An email of the outbox in its reader's language: the subject, the plain text and the HTML.

Each email is one Jinja2 text template per language in templates/ (`<name>.<language>.txt`): its first line
is `Subject: ...`, the rest the plain-text body. The HTML part is built from the same text (paragraphs,
"- " lists, links), so the two parts always say the same thing. Values are formatted before rendering
(support/emails/worker.py); a missing value is an error, never a blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT = "Subject: "
_TEXT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined, autoescape=False
)
_HTML = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True).from_string(
    """<!doctype html>
<html lang="{{ language }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: Arial, sans-serif; font-size: 15px; line-height: 1.5; color: #1f2933; max-width: 600px">
{%- for block in blocks %}
{%- if block.bullets %}
<ul>{% for item in block.bullets %}<li>{{ item }}</li>{% endfor %}</ul>
{%- elif block.link %}
<p><a href="{{ block.link }}">{{ block.link }}</a></p>
{%- else %}
<p>{% for line in block.lines %}{{ line }}{% if not loop.last %}<br>{% endif %}{% endfor %}</p>
{%- endif %}
{%- endfor %}
</body></html>
"""
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def template_names() -> List[str]:
    """The emails there are (each must exist in French and English)."""
    return sorted({path.name.split(".")[0] for path in TEMPLATES.glob("*.txt")})


def _blocks(text: str) -> List[Dict[str, Any]]:
    blocks: List[Dict[str, Any]] = []
    for paragraph in text.split("\n\n"):
        lines = [line.strip() for line in paragraph.strip().splitlines() if line.strip()]
        if not lines:
            continue
        block: Dict[str, Any] = {"bullets": [], "link": "", "lines": []}
        if all(line.startswith("- ") for line in lines):
            block["bullets"] = [line[2:] for line in lines]
        elif len(lines) == 1 and lines[0].startswith("https://"):
            block["link"] = lines[0]
        else:
            block["lines"] = lines
        blocks.append(block)
    return blocks


def render(template: str, language: str, values: Dict[str, Any]) -> Rendered:
    """The email `template` in `language` with `values`; jinja2 errors for a missing template or value."""
    first, _, body = _TEXT.get_template(f"{template}.{language}.txt").render(**values).partition("\n")
    if not first.startswith(SUBJECT):
        raise ValueError(f"{template}.{language}.txt must start with '{SUBJECT}'")
    subject, text = first[len(SUBJECT) :].strip(), body.strip() + "\n"
    return Rendered(subject, text, _HTML.render(language=language, subject=subject, blocks=_blocks(text)))
