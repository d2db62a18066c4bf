import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jarfalla.forms import ConfirmWarnings
from routines.models import SECTIONS
from units.validators import PRIVACY_HELP_TEXT, validate_no_personal_data

FORMAT_HELP = _(
    'Tomrad mellan stycken. Rader som börjar med "- " blir punktlista, "1. " numrerad lista, '
    "**text** blir fetstil. [[nyckel]] ersätts med kommunens referensuppgifter."
)


class RoutineForm(forms.Form):
    base_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, title in SECTIONS:
            self.fields[key] = forms.CharField(
                label=title,
                required=False,
                widget=forms.Textarea(attrs={"rows": 5}),
                validators=[validate_no_personal_data],
                help_text=FORMAT_HELP if key == "purpose" else "",
            )

    def sections(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key, "") for key, _title in SECTIONS}


# An implementation date further back than this (or before the approval) is asked about.
EARLIEST_WITHOUT_WARNING_DAYS = 365


class ImplementForm(ConfirmWarnings):
    implemented_on = forms.DateField(
        label=_("Införd från och med"), widget=forms.DateInput(attrs={"type": "date"})
    )
    business_plan_location = forms.CharField(
        label=_("Var i verksamhetsplanen rutinen står"),
        max_length=200,
        validators=[validate_no_personal_data],
        help_text=_('T.ex. "Verksamhetsplan 2027, avsnitt 4.2 Trygghet".'),
    )
    staff_informed_on = forms.DateField(
        label=_("Personalen informerades"), widget=forms.DateInput(attrs={"type": "date"})
    )
    confirm = forms.BooleanField(
        label=_("Datumet stämmer, registrera ändå"),
        required=False,
    )

    confirm_error = _("Kontrollera varningen och kryssa i rutan för att registrera ändå.")

    def __init__(self, *args: Any, approved_on: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.approved_on = approved_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        for field in ("implemented_on", "staff_informed_on"):
            if data.get(field) and data[field] > today:
                self.add_error(field, _("Datumet kan inte ligga i framtiden."))
        implemented_on = data.get("implemented_on")
        if self.errors or implemented_on is None:
            return data
        # The follow-ups are due counted from this date: a date far back (a typo for the year,
        # say) makes them overdue at once. It may be true (a routine in force before it was
        # recorded here), so it is asked, not refused.
        if self.approved_on and implemented_on < self.approved_on:
            self.warnings.append(
                str(
                    _(
                        "Införandedatumet %(date)s ligger före godkännandet (%(approved)s). "
                        "Uppföljningarna räknas från införandedatumet och kan bli försenade "
                        "direkt."
                    )
                    % {"date": implemented_on.isoformat(), "approved": self.approved_on.isoformat()}
                )
            )
        if implemented_on < today - dt.timedelta(days=EARLIEST_WITHOUT_WARNING_DAYS):
            self.warnings.append(
                str(
                    _(
                        "Införandedatumet %(date)s ligger mer än ett år bakåt i tiden. "
                        "Uppföljningarna räknas från införandedatumet och kan bli försenade "
                        "direkt."
                    )
                    % {"date": implemented_on.isoformat()}
                )
            )
        self.ask_to_confirm(data)
        return data


class ReferenceForm(forms.Form):
    def __init__(self, *args: Any, entries: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for entry in entries:
            self.fields[entry.key] = forms.CharField(
                label=f"{entry.label} [[{entry.key}]]",
                required=False,
                max_length=300,
                initial=entry.value,
                validators=[validate_no_personal_data],
                help_text=PRIVACY_HELP_TEXT if entry.key == "samordnare" else "",
            )
