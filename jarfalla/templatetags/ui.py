"""Small template helpers for accessible Bootstrap forms."""

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()

_CHECK_WIDGETS = (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_choice_list(field: BoundField) -> bool:
    return isinstance(field.field.widget, (forms.RadioSelect, forms.CheckboxSelectMultiple))


@register.filter
def described_by(field: BoundField) -> str:
    """The ids of the field's help text and error message, for aria-describedby."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    return " ".join(ids)


@register.filter
def error_target(field: BoundField) -> str:
    """The id that the error summary links to. For a group of radio buttons or checkboxes it is
    the first one, so that following the link puts the keyboard focus inside the group; an empty
    group falls back to its fieldset, which carries the field's id."""
    if is_choice_list(field):
        for choice in field.subwidgets:
            return str(choice.id_for_label)
    return str(field.id_for_label or field.auto_id)


@register.simple_tag
def widget(field: BoundField) -> SafeString:
    """Render the widget with Bootstrap's class; Django adds aria-describedby/aria-invalid."""
    w = field.field.widget
    if isinstance(w, _CHECK_WIDGETS):
        css = "form-check-input"
    elif isinstance(w, (forms.Select, forms.SelectMultiple)):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    attrs: dict[str, str | bool] = {"class": f"{w.attrs.get('class', '')} {css}".strip()}
    if field.errors:
        attrs["aria-invalid"] = "true"
    if ids := described_by(field):
        attrs["aria-describedby"] = ids
    return field.as_widget(attrs=attrs)
