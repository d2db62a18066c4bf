"""Routine text: a tiny, safe formatting language, reference data and version comparison.

Authors write plain text: blank lines separate paragraphs, lines starting with "- " are bullet
points, "1. " numbered steps, **text** is bold. Everything is HTML-escaped first, so no markup,
script or remote resource can get through; [[key]] is replaced with the municipality's reference
data (escaped too). A reference not filled in yet shows as a marker that says so, never as the raw
[[key]]."""

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_REFERENCE = re.compile(r"\[\[([a-z0-9_-]+)\]\]")
_BULLET = re.compile(r"^\s*[-•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


# Where a reference without a value stands until the text is escaped (private-use characters,
# taken out of the author's text first), then replaced by its marker.
_GAP_START, _GAP_END = "\ue000", "\ue001"
_GAP = re.compile(f"{_GAP_START}([a-z0-9_-]+){_GAP_END}")


@dataclass(frozen=True)
class References:
    """A municipality's reference data: the values filled in, the labels of every key it knows,
    and the page where they are filled in (only for someone who may fill them in)."""

    values: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None


def fill_references(text: str, references: Mapping[str, str]) -> str:
    """Replace [[key]] with its value; unknown keys stay visible so that they get noticed."""
    return _REFERENCE.sub(lambda m: references.get(m.group(1), m.group(0)), text)


def _mark_gaps(text: str, references: References) -> str:
    text = text.replace(_GAP_START, "").replace(_GAP_END, "")
    return _REFERENCE.sub(
        lambda m: references.values.get(m.group(1)) or f"{_GAP_START}{m.group(1)}{_GAP_END}", text
    )


def _gap(key: str, references: References) -> str:
    label = references.labels.get(key)
    text = (
        _("[ej ifylld: %(label)s]") % {"label": label}
        if label
        else _("[okänd referensuppgift: %(key)s]") % {"key": key}
    )
    if label and references.url:
        return format_html('<a class="reference-missing" href="{}">{}</a>', references.url, text)
    return format_html('<span class="reference-missing">{}</span>', text)


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escape(text))


def render(text: str, references: Mapping[str, str] | References | None = None) -> SafeString:
    if isinstance(references, References):
        text = _mark_gaps(text, references)
    elif references is not None:
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
    out = "".join(html)
    if isinstance(references, References):
        out = _GAP.sub(lambda m: _gap(m.group(1), references), out)
    return mark_safe(out)  # noqa: S308 - every piece above was escaped


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
