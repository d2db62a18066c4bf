"""Forms for units, roles and invitations. Validation messages are Swedish first."""

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from units import imports
from units.models import (
    Invitation,
    Municipality,
    PreventionLevel,
    Role,
    Sector,
    Unit,
    UnitKind,
    validate_followup_offsets,
)
from units.validators import validate_no_personal_data

LEVEL_FIELDS = {
    PreventionLevel.UNIVERSAL: "works_universal",
    PreventionLevel.SELECTIVE: "works_selective",
    PreventionLevel.INDICATED: "works_indicated",
}


def name_taken(queryset: QuerySet[Any], name: str) -> bool:
    """Case-insensitive, also for å, ä and ö (SQLite's LOWER only folds ASCII); the database
    constraint on Lower(name) is the last line on PostgreSQL."""
    candidates = queryset.annotate(name_length=Length("name")).filter(name_length=len(name))
    wanted = name.casefold()
    return any(other.casefold() == wanted for other in candidates.values_list("name", flat=True))


def _levels(cleaned: dict[str, Any]) -> dict[str, bool]:
    chosen = set(cleaned.get("prevention_levels") or [])
    return {field: level in chosen for level, field in LEVEL_FIELDS.items()}


class UnitForm(forms.ModelForm):
    """What the coordinator edits about a unit."""

    prevention_levels = forms.MultipleChoiceField(
        label=_("Preventionsnivåer som enheten arbetar på"),
        choices=PreventionLevel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    duty_to_report = forms.ChoiceField(
        label=_("Anmälningsskyldighet"),
        choices=[
            ("auto", _("Enligt typ (kommunal verksamhet: ja, övriga: nej)")),
            ("yes", _("Ja, personalen är skyldig att anmäla oro för barn")),
            ("no", _("Nej")),
        ],
        widget=forms.RadioSelect,
        initial="auto",
        help_text=Unit._meta.get_field("duty_to_report").help_text,
    )

    class Meta:
        model = Unit
        fields = ("name", "sector", "kind", "headcount", "functional_email")

    def __init__(self, *args: Any, municipality: Municipality, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.municipality = municipality
        self.fields["sector"].queryset = Sector.objects.filter(  # type: ignore[attr-defined]
            municipality=municipality, is_active=True
        ) | Sector.objects.filter(pk=self.instance.sector_id or 0)
        self.fields["headcount"].widget.attrs["min"] = 0
        self.fields["name"].validators.append(validate_no_personal_data)
        if self.instance.pk:
            self.initial["prevention_levels"] = self.instance.prevention_levels
            self.initial["duty_to_report"] = "yes" if self.instance.duty_to_report else "no"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Unit.objects.filter(municipality=self.municipality).exclude(pk=self.instance.pk)
        if name_taken(others, name):
            raise forms.ValidationError(
                _("Det finns redan en enhet med det namnet i kommunen."), code="duplicate"
            )
        return name

    def unit_fields(self) -> dict[str, Any]:
        data = {field: self.cleaned_data[field] for field in self.Meta.fields}
        duty = self.cleaned_data["duty_to_report"]
        data["duty_to_report"] = (
            Unit.default_duty_to_report(data["kind"]) if duty == "auto" else duty == "yes"
        )
        return data | _levels(self.cleaned_data)

    def _post_clean(self) -> None:
        # Uniqueness and the municipality are handled by the service; skip the model's
        # full_clean on a half-built instance.
        pass


class CsvUploadForm(forms.Form):
    """Step 1 of an import: the file, read into rows with file_spec()'s columns (units.imports)
    or refused with a reason. Subclasses declare the ``file`` field with their own label."""

    def file_spec(self) -> "imports.FileSpec":
        raise NotImplementedError

    def clean_file(self) -> "imports.ParsedFile":
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("Filen är större än 1 MB. Dela upp den i flera filer."), code="too_big"
            )
        try:
            return imports.parse(upload.read(), self.file_spec())
        except imports.ImportFileError as error:
            raise forms.ValidationError(str(error), code="unreadable") from None


def _csv_field(label: Any, help_text: Any) -> forms.FileField:
    return forms.FileField(
        label=label,
        help_text=help_text,
        # Our own message for an empty file, with the other reasons a file cannot be used.
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )


class UnitImportForm(CsvUploadForm):
    file = _csv_field(
        _("CSV-fil med enheter"),
        _(
            "Semikolon- eller kommaavgränsad, till exempel sparad från Excel. Högst 1 MB och "
            "3 000 enheter."
        ),
    )

    def file_spec(self) -> "imports.FileSpec":
        # Looked up when used: units.imports imports this module while it is being read.
        return imports.UNITS


class InviteImportForm(CsvUploadForm):
    file = _csv_field(
        _("CSV-fil med enhetschefer"),
        _(
            "Semikolon- eller kommaavgränsad, till exempel sparad från Excel. Högst 1 MB och "
            "3 000 rader."
        ),
    )

    def file_spec(self) -> "imports.FileSpec":
        # Imported here: units.invitation_imports reads this module's InviteForm, and both
        # are imported while units.imports is being read.
        from units import invitation_imports

        return invitation_imports.SPEC


class ManagerUnitForm(forms.ModelForm):
    """What a unit manager may keep up to date about their own unit."""

    prevention_levels = UnitForm.base_fields["prevention_levels"]

    class Meta:
        model = Unit
        fields = ("headcount", "functional_email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["headcount"].widget.attrs["min"] = 0
        self.initial["prevention_levels"] = self.instance.prevention_levels

    def unit_fields(self) -> dict[str, Any]:
        data = {field: self.cleaned_data[field] for field in self.Meta.fields}
        return data | _levels(self.cleaned_data)

    def _post_clean(self) -> None:
        pass


class UnitFilterForm(forms.Form):
    q = forms.CharField(label=_("Sök på namn"), required=False)
    sector = forms.ModelChoiceField(
        label=_("Sektor"), queryset=Sector.objects.none(), required=False, empty_label=_("Alla")
    )
    kind = forms.ChoiceField(
        label=_("Typ"), choices=[("", _("Alla")), *UnitKind.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Visa"),
        choices=[("active", _("Aktiva")), ("archived", _("Arkiverade")), ("all", _("Alla"))],
        required=False,
    )

    def __init__(self, *args: Any, sectors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sector"].queryset = sectors  # type: ignore[attr-defined]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-postadress"),
        help_text=_(
            "Personens egen arbetsadress. Inbjudan gäller i sju dagar och kan användas en gång."
        ),
        # What an invitation and an account store (the form field alone allows 320): a longer
        # address would pass the form, or a file's preview, and fail in the database.
        max_length=Invitation._meta.get_field("email").max_length,
    )

    def __init__(
        self, *args: Any, roles: list[tuple[str, Any]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if roles:
            self.fields["role"] = forms.ChoiceField(
                label=_("Roll"), choices=roles, widget=forms.RadioSelect, initial=roles[0][0]
            )


MUNICIPAL_ROLE_CHOICES = [
    (Role.COORDINATOR.value, _("Samordnare – kan ändra allt i kommunen")),
    (Role.OBSERVER.value, _("Observatör – kan läsa och se sammanställningar")),
]


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(
        label=_("Välj lösenord"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Minst 12 tecken. Använd gärna en lösenordsfras."),
    )
    password2 = forms.CharField(
        label=_("Upprepa lösenordet"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Lösenorden är inte likadana."))
        elif first:
            try:
                from units.models import User

                validate_password(first, User(email=self.email))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class SectorForm(forms.ModelForm):
    class Meta:
        model = Sector
        fields = ("name",)
        labels = {"name": _("Ny sektor")}

    def __init__(self, *args: Any, municipality: Municipality, **kwargs: Any) -> None:
        # Shown on the same page as the municipality's own form, which also has a "name": its
        # own ids keep the labels and the error summary's links pointing at the right input.
        kwargs.setdefault("auto_id", "id_sector_%s")
        super().__init__(*args, **kwargs)
        self.municipality = municipality
        self.fields["name"].validators.append(validate_no_personal_data)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Sector.objects.filter(municipality=self.municipality).exclude(pk=self.instance.pk)
        if name_taken(others, name):
            raise forms.ValidationError(_("Sektorn finns redan."), code="duplicate")
        return name

    def _post_clean(self) -> None:
        pass


class MunicipalityForm(forms.ModelForm):
    followup_offsets_months = forms.CharField(
        label=_("Uppföljning efter (månader)"),
        help_text=_("Månader efter att rutinen införts, åtskilda med komma, t.ex. 6, 12."),
    )

    class Meta:
        model = Municipality
        fields = (
            "name",
            "model_name",
            "web_course_url",
            "facilitator_guide_url",
            "web_course_threshold_percent",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "model_name"):
            self.fields[name].validators.append(validate_no_personal_data)
        # The model's range, here too: _post_clean is skipped, and the service's full_clean
        # would otherwise fail with a server error instead of a message next to the field.
        threshold = self.fields["web_course_threshold_percent"]
        threshold.validators.extend([MinValueValidator(1), MaxValueValidator(100)])
        threshold.widget.attrs.update(min=1, max=100)
        self.initial["followup_offsets_months"] = ", ".join(
            str(months) for months in self.instance.followup_offsets_months
        )

    def clean_followup_offsets_months(self) -> list[int]:
        raw = self.cleaned_data["followup_offsets_months"]
        try:
            months = sorted(
                {int(part) for part in raw.replace(";", ",").split(",") if part.strip()}
            )
        except ValueError:
            raise forms.ValidationError(
                _("Skriv hela antal månader åtskilda med komma, t.ex. 6, 12."), code="invalid"
            ) from None
        validate_followup_offsets(months)  # the model's rule, also for the admin
        return months

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name_taken(Municipality.objects.exclude(pk=self.instance.pk), name):
            raise forms.ValidationError(
                _("Det finns redan en kommun med det namnet."), code="duplicate"
            )
        return name

    def _post_clean(self) -> None:
        # The service applies and audits the change; the instance must keep its old values
        # until then so that the difference can be recorded.
        pass

    def municipality_fields(self) -> dict[str, Any]:
        return {
            field: self.cleaned_data[field]
            for field in (*self.Meta.fields, "followup_offsets_months")
        }
