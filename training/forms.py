import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator, MaxValueValidator, URLValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jarfalla.forms import ConfirmWarnings
from training.models import KNOWLEDGE_LEVELS, CourseMode, Theme, WebCourseReport
from units.models import Municipality, Unit, User
from units.validators import PRIVACY_HELP_TEXT, validate_no_personal_data

# The largest count a form takes (staff, participants, group meetings): far above any unit, and
# far below what the database's integer columns hold, whose overflow would otherwise surface as a
# server error instead of a message next to the field.
MAX_COUNT = 100_000
# The longest free text a form takes: a few paragraphs. The columns are unlimited text.
MAX_TEXT = 2000


def _limit_count(field: forms.Field) -> None:
    """Give a model form's generated number field the common maximum (the widget too)."""
    assert isinstance(field, forms.IntegerField)
    field.max_value = MAX_COUNT
    field.validators.append(MaxValueValidator(MAX_COUNT))
    field.widget.attrs["max"] = MAX_COUNT


def _limit_text(field: forms.Field) -> None:
    """Give a model form's generated text field the common length limit (the widget too)."""
    assert isinstance(field, forms.CharField)
    field.max_length = MAX_TEXT
    field.validators.append(MaxLengthValidator(MAX_TEXT))
    field.widget.attrs["maxlength"] = str(MAX_TEXT)


class WebCourseReportForm(forms.ModelForm):
    new_headcount = forms.IntegerField(
        label=_("Uppdatera antal anställda (valfritt)"),
        required=False,
        min_value=0,
        max_value=MAX_COUNT,
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

    def __init__(
        self, *args: Any, unit: Unit | None, already_completed: int | None, **kwargs: Any
    ) -> None:
        """Without the unit and what it has reported so far (``None``), the total is left to the
        service, which checks it under the rollout's lock anyway."""
        super().__init__(*args, **kwargs)
        self.unit, self.already_completed = unit, already_completed
        self.fields["reported_on"].initial = timezone.localdate()
        self.fields["completed_count"].widget.attrs["min"] = 0
        self.fields["group_sessions"].widget.attrs["min"] = 0
        _limit_count(self.fields["completed_count"])
        _limit_count(self.fields["group_sessions"])
        _limit_text(self.fields["reflections"])
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
        if count is None or self.unit is None or self.already_completed is None:
            return data
        headcount = data.get("new_headcount")
        if headcount is None:
            headcount = self.unit.headcount
        if self.already_completed + count > headcount:
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


class WishForm(forms.Form):
    themes = forms.ModelMultipleChoiceField(
        label=_("Teman ni önskar"),
        queryset=Theme.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    suggested_dates = forms.CharField(
        label=_("Förslag på datum och tider"),
        required=False,
        max_length=300,
        validators=[validate_no_personal_data],
        help_text=_('T.ex. "tisdagar efter 15, vecka 5–7".'),
    )
    note = forms.CharField(
        label=_("Övrigt"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_no_personal_data],
        help_text=PRIVACY_HELP_TEXT,
    )

    def __init__(self, *args: Any, themes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = themes  # type: ignore[attr-defined]


class SessionForm(ConfirmWarnings):
    date = forms.DateField(label=_("Datum"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label=_("Starttid"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label=_("Längd (minuter)"), min_value=15, max_value=480, initial=120
    )
    place = forms.CharField(
        help_text=PRIVACY_HELP_TEXT,
        label=_("Plats"),
        required=False,
        max_length=200,
        validators=[validate_no_personal_data],
    )
    # A CharField with one validator, so the person gets one message that says what to fix.
    video_url = forms.CharField(
        label=_("Videolänk"),
        required=False,
        max_length=200,
        validators=[
            URLValidator(
                schemes=["http", "https"],
                message=_(
                    "Videolänken måste vara en hel adress som börjar med https:// eller http://."
                ),
            )
        ],
    )
    themes = forms.ModelMultipleChoiceField(
        label=_("Teman"),
        queryset=Theme.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    expected_participants = forms.IntegerField(
        label=_("Väntat antal deltagare"), min_value=1, max_value=MAX_COUNT
    )
    leader = forms.ModelChoiceField(
        label=_("Ansvarig"), queryset=User.objects.none(), empty_label=None
    )
    confirm = forms.BooleanField(
        label=_("Jag har sett varningarna och vill boka ändå"), required=False
    )
    confirm_error = _("Kontrollera varningarna och kryssa i rutan för att boka ändå.")

    def __init__(
        self,
        *args: Any,
        unit: Unit,
        themes: Any,
        leaders: Any,
        exclude_session: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.unit, self.exclude_session = unit, exclude_session
        self.fields["themes"].queryset = themes  # type: ignore[attr-defined]
        self.fields["leader"].queryset = leaders  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, time = data.get("date"), data.get("time")
        if day and time:
            wall = dt.datetime.combine(day, time)
            starts = timezone.make_aware(wall)
            data["starts_at"] = starts
            # Through UTC: converting to its own zone would give the same wall time back.
            if timezone.localtime(starts.astimezone(dt.UTC)).replace(tzinfo=None) != wall:
                # The night summer time begins, the clock jumps from 02:00 to 03:00: the time
                # given does not exist, and would silently become an hour later. (The autumn
                # hour that comes twice is taken the first time, in summer time.)
                self.add_error(
                    "time",
                    _(
                        "Klockan %(time)s finns inte den %(date)s, eftersom klockan ställs fram "
                        "en timme till sommartid den natten. Välj en annan tid."
                    )
                    % {"time": time.strftime("%H:%M"), "date": day.isoformat()},
                )
            elif starts <= timezone.now():
                self.add_error("date", _("Tillfället kan inte bokas bakåt i tiden."))
        if self.errors:
            return data
        from training.selectors import overlapping

        starts = data["starts_at"]
        wall = starts.replace(tzinfo=None)
        if timezone.make_aware(wall.replace(fold=1)).utcoffset() != starts.utcoffset():
            # The night summer time ends the clock goes from 03:00 back to 02:00: the hour comes
            # twice, and the booking takes the first (summer time). Said, so nobody who meant
            # the second is an hour early.
            self.warnings.append(
                str(
                    _(
                        "Klockan %(time)s kommer två gånger den %(date)s, eftersom klockan "
                        "ställs tillbaka till vintertid den natten. Tillfället bokas den första "
                        "gången, i sommartid."
                    )
                    % {"time": wall.strftime("%H:%M"), "date": wall.date().isoformat()}
                )
            )
        ends = starts + dt.timedelta(minutes=data["duration_minutes"])
        clashes = overlapping(
            leader=data["leader"], starts_at=starts, ends_at=ends, exclude=self.exclude_session
        )
        for clash in clashes:
            if clash.rollout.unit.municipality_id != self.unit.municipality_id:
                # A leader who works for several municipalities: say that they are busy, not
                # where, which would show another municipality's units and calendar.
                self.warnings.append(
                    str(
                        _("%(leader)s har ett annat åtagande vid den tiden.")
                        % {"leader": data["leader"]}
                    )
                )
                continue
            self.warnings.append(
                str(
                    _("%(leader)s har redan ett tillfälle då: %(unit)s %(start)s.")
                    % {
                        "leader": data["leader"],
                        "unit": clash.rollout.unit.name,
                        "start": timezone.localtime(clash.starts_at).strftime("%Y-%m-%d %H:%M"),
                    }
                )
            )
        if data["expected_participants"] > self.unit.headcount:
            self.warnings.append(
                str(
                    _("Fler deltagare (%(count)s) än enheten har anställda (%(headcount)s).")
                    % {"count": data["expected_participants"], "headcount": self.unit.headcount}
                )
            )
        self.ask_to_confirm(data)
        return data


class HeldForm(forms.Form):
    participants = forms.IntegerField(label=_("Antal deltagare"), min_value=0, max_value=MAX_COUNT)
    exercises = forms.CharField(
        help_text=PRIVACY_HELP_TEXT,
        label=_("Övningar som användes"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_no_personal_data],
    )
    rating = forms.TypedChoiceField(
        label=_("Deltagarnas samlade betyg"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("1 = mycket dåligt, 5 = mycket bra. Bara gruppens samlade betyg."),
    )
    notes = forms.CharField(
        label=_("Anteckningar"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_no_personal_data],
        help_text=PRIVACY_HELP_TEXT,
    )


class ThemeForm(forms.Form):
    name = forms.CharField(label=_("Namn"), max_length=120, validators=[validate_no_personal_data])
    description = forms.CharField(
        help_text=PRIVACY_HELP_TEXT,
        label=_("Kort beskrivning"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_no_personal_data],
    )
    is_active = forms.BooleanField(label=_("Används"), required=False, initial=True)

    def __init__(
        self, *args: Any, municipality: Municipality, theme: Theme | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.municipality, self.theme = municipality, theme

    def clean_name(self) -> str:
        from units.forms import name_taken

        name = self.cleaned_data["name"].strip()
        others = Theme.objects.filter(municipality=self.municipality)
        if self.theme is not None:
            others = others.exclude(pk=self.theme.pk)
        if name_taken(others, name):
            raise forms.ValidationError(
                _("Det finns redan ett tema med det namnet."), code="duplicate"
            )
        return name
