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
