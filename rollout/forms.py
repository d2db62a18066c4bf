import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rollout.reports import default_period
from rollout.steps import Period
from units.validators import PRIVACY_HELP_TEXT, validate_no_personal_data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Anledning"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_no_personal_data],
        help_text=PRIVACY_HELP_TEXT,
    )


class ReportPeriodForm(forms.Form):
    """The period a board report is written for. Left empty (a hand-made request), a day is
    taken from the last twelve months, as the form offers."""

    period_start = forms.DateField(
        label=_("Periodens första dag"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Ange ett giltigt datum.")},
    )
    period_end = forms.DateField(
        label=_("Periodens sista dag"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Ange ett giltigt datum.")},
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.default = default_period(today)
        self.fields["period_start"].initial, self.fields["period_end"].initial = self.default

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        start = data.get("period_start") or self.default[0]
        end = data.get("period_end") or self.default[1]
        if end > self.today:
            self.add_error("period_end", _("Perioden kan inte sluta efter i dag."))
        elif start > end:
            self.add_error("period_start", _("Periodens första dag måste vara före den sista."))
        data["period_start"], data["period_end"] = start, end
        return data

    @property
    def period(self) -> Period:
        return self.cleaned_data["period_start"], self.cleaned_data["period_end"]


# The largest id a unit can have (PostgreSQL's bigint); a larger number is no unit's.
_MAX_ID = 2**63 - 1


class UnitIdsField(forms.Field):
    """Unit ids ticked in a list (checkboxes named after the field), distinct, in order. Whose
    units they are is for the view to find out, through units.access."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Välj enheterna i tabellen.")}

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        ids: set[int] = set()
        for item in value:
            text = str(item)
            if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= _MAX_ID:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            ids.add(int(text))
        return sorted(ids)


class StartManyForm(forms.Form):
    """The units of the unit table whose rollouts the coordinator starts at once."""

    units = UnitIdsField(
        error_messages={"required": _("Välj minst en enhet att starta införandet för.")}
    )

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean_units(self) -> list[int]:
        ids: list[int] = self.cleaned_data["units"]
        if len(ids) > self.limit:
            raise forms.ValidationError(
                _("Välj högst %(limit)s enheter åt gången."),
                code="too_many",
                params={"limit": self.limit},
            )
        return ids
