"""Routine text: a tiny, safe formatting language, reference data and version comparison.

Authors write plain text: blank lines separate paragraphs, lines starting with "- " are bullet
points, "1. " numbered steps, **text** is bold. Everything is HTML-escaped first, so no markup,
script or remote resource can get through; [[key]] is replaced with the municipality's reference
data (escaped too)."""

import difflib
import re
from collections.abc import Mapping

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_REFERENCE = re.compile(r"\[\[([a-z0-9_-]+)\]\]")
_BULLET = re.compile(r"^\s*[-•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def fill_references(text: str, references: Mapping[str, str]) -> str:
    """Replace [[key]] with its value; unknown keys stay visible so that they get noticed."""
    return _REFERENCE.sub(lambda m: references.get(m.group(1), m.group(0)), text)


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escape(text))


def render(text: str, references: Mapping[str, str] | None = None) -> SafeString:
    if references is not None:
        text = fill_references(text, references)
    html: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(_BULLET.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_BULLET.match(line).group(1))}</li>" for line in lines)  # type: ignore[union-attr]
            html.append(f"<ul>{items}</ul>")
        elif all(_NUMBERED.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_NUMBERED.match(line).group(1))}</li>" for line in lines)  # type: ignore[union-attr]
            html.append(f"<ol>{items}</ol>")
        else:
            html.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
    return mark_safe("".join(html))  # noqa: S308 - every piece above was escaped


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def diff(old: str, new: str) -> SafeString:
    """Word-level comparison: removed words in <del>, added in <ins>, each with a hidden text
    label so the change is not told by colour or line style alone."""
    # Words keep their trailing space, so a rewritten phrase shows as one removal and one addition
    # instead of alternating word by word.
    before, after = _words(old), _words(new)
    out: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(
        a=before, b=after, autojunk=False
    ).get_opcodes():
        if op == "equal":
            out.append(escape("".join(before[a1:a2])))
            continue
        if op in ("delete", "replace"):
            out.append(
                f'<del><span class="visually-hidden">[{escape(_("borttaget"))}: </span>'
                + escape("".join(before[a1:a2]))
                + '<span class="visually-hidden">]</span></del>'
            )
        if op in ("insert", "replace"):
            out.append(
                f'<ins><span class="visually-hidden">[{escape(_("tillagt"))}: </span>'
                + escape("".join(after[b1:b2]))
                + '<span class="visually-hidden">]</span></ins>'
            )
    return mark_safe("".join(out).replace("\n", "<br>"))  # noqa: S308 - escaped above
