from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from training.models import KNOWLEDGE_LEVELS, CourseMode, WebCourseReport
from units.models import Unit
from units.validators import validate_no_personal_data


class WebCourseReportForm(forms.ModelForm):
    new_headcount = forms.IntegerField(
        label=_("Uppdatera antal anställda (valfritt)"),
        required=False,
        min_value=0,
        help_text=_("Fyll i om personalstyrkan har ändrats sedan förra gången."),
    )

    class Meta:
        model = WebCourseReport
        fields = (
            "reported_on",
            "completed_count",
            "mode",
            "group_sessions",
            "knowledge_level",
            "reflections",
        )
        widgets = {
            "reported_on": forms.DateInput(attrs={"type": "date"}),
            "mode": forms.RadioSelect,
            "knowledge_level": forms.RadioSelect,
            "reflections": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, unit: Unit, already_completed: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit, self.already_completed = unit, already_completed
        self.fields["reported_on"].initial = timezone.localdate()
        self.fields["completed_count"].widget.attrs["min"] = 0
        self.fields["group_sessions"].widget.attrs["min"] = 0
        mode = self.fields["mode"]
        assert isinstance(mode, forms.TypedChoiceField)
        mode.choices = CourseMode.choices  # radio buttons need no empty choice
        level = self.fields["knowledge_level"]
        assert isinstance(level, forms.TypedChoiceField)
        level.choices = [(value, label) for value, label in KNOWLEDGE_LEVELS.items()]
        self.fields["reflections"].validators.append(validate_no_personal_data)

    def clean_reported_on(self) -> Any:
        day = self.cleaned_data["reported_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("Datumet kan inte ligga i framtiden."), code="future")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        count = data.get("completed_count")
        headcount = data.get("new_headcount")
        if headcount is None:
            headcount = self.unit.headcount
        if count is not None and self.already_completed + count > headcount:
            self.add_error(
                "completed_count",
                _(
                    "Totalt %(total)s skulle ha gått kursen men enheten har %(headcount)s anställda. "
                    "Uppdatera antalet anställda i samma formulär om det har ändrats."
                )
                % {"total": self.already_completed + count, "headcount": headcount},
            )
        return data

    def _post_clean(self) -> None:
        # The service builds and validates the report.
        pass
