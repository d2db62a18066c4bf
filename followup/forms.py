import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup.followups import NOT_HELD_YET
from followup.models import FollowUp, FollowUpMode, NotificationSettings, SupportNeed, Usage
from units.validators import PRIVACY_HELP_TEXT, validate_no_personal_data


class BookForm(forms.Form):
    date = forms.DateField(label=_("Datum"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label=_("Tid"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    mode = forms.ChoiceField(
        label=_("Form"), choices=FollowUpMode.choices, widget=forms.RadioSelect
    )
    place = forms.CharField(
        help_text=PRIVACY_HELP_TEXT,
        label=_("Plats, telefonnummer eller länk"),
        required=False,
        max_length=200,
        validators=[validate_no_personal_data],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and data.get("time"):
            data["starts_at"] = timezone.make_aware(dt.datetime.combine(data["date"], data["time"]))
            if data["starts_at"] <= timezone.now():
                self.add_error("date", _("Uppföljningen kan inte bokas bakåt i tiden."))
        return data


class RecordForm(forms.ModelForm):
    held_on = forms.DateField(
        label=_("Genomförd den"),
        help_text=_("Dagen då uppföljningen hölls, i dag eller tidigare."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        # Prefilled; a post without it (an older form still open) means the prefilled day.
        required=False,
    )

    class Meta:
        model = FollowUp
        fields = (
            "held_on",
            "routine_in_use",
            "times_used",
            "consultations",
            "reports_of_concern",
            "support_needed",
            "effect",
            "effect_text",
            "lessons",
            "share_lessons",
        )
        widgets = {
            "routine_in_use": forms.RadioSelect,
            "support_needed": forms.RadioSelect,
            "effect_text": forms.Textarea(attrs={"rows": 3}),
            "lessons": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        # The booked day, unless the follow-up is recorded before it (held earlier than booked).
        booked = self.instance.starts_at
        booked_on = timezone.localdate(booked) if booked else None
        self.fields["held_on"].initial = booked_on if booked_on and booked_on <= today else today
        self.fields["held_on"].widget.attrs["max"] = f"{today:%Y-%m-%d}"
        for name, choices in (
            ("routine_in_use", Usage.choices),
            ("support_needed", SupportNeed.choices),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
            field.required = True
        for name in ("times_used", "consultations", "reports_of_concern", "effect"):
            self.fields[name].required = True
            self.fields[name].widget.attrs["min"] = 1 if name == "effect" else 0
        self.fields["effect"].widget.attrs["max"] = 5
        # The model's range, checked here: the service's full_clean would otherwise fail with a
        # server error instead of a message next to the field.
        self.fields["effect"].validators.extend([MinValueValidator(1), MaxValueValidator(5)])
        for name in ("effect_text", "lessons"):
            self.fields[name].validators.append(validate_no_personal_data)
            self.fields[name].help_text = PRIVACY_HELP_TEXT

    def clean_held_on(self) -> dt.date:
        held_on: dt.date | None = self.cleaned_data["held_on"]
        if held_on is None:
            initial = self.fields["held_on"].initial
            assert isinstance(initial, dt.date)
            return initial
        if held_on > timezone.localdate():
            raise forms.ValidationError(NOT_HELD_YET)
        return held_on

    def _post_clean(self) -> None:
        # The service applies and validates the answers.
        pass


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = ("digest", "nudges", "language")
        widgets = {
            "digest": forms.RadioSelect(attrs={"class": "form-check-input"}),
            "language": forms.RadioSelect(
                choices=[("sv", "Svenska"), ("en", "English")],
                attrs={"class": "form-check-input"},
            ),
        }

    def __init__(self, *args: Any, coordinator: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not coordinator:
            # Only coordinators get the digest (followup.sweep); asking anyone else how often
            # they want it leaves them wondering what they will be sent. Their choice is kept.
            del self.fields["digest"]
