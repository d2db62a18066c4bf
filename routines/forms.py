from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


class ImplementForm(forms.Form):
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

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        for field in ("implemented_on", "staff_informed_on"):
            if data.get(field) and data[field] > today:
                self.add_error(field, _("Datumet kan inte ligga i framtiden."))
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
