"""Forms of the intervention map (insatskedjor): the intervention itself and the list's filter."""

from typing import Any

from django import forms
from django.db.models import Q
from django.forms.boundfield import BoundWidget
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from jarfalla.collation import swedish
from rollout.interventions import (
    END_BEFORE_START,
    LEVEL_DESCRIPTIONS,
    NO_SECTOR,
    OWNER_REQUIRED,
    SectorFilter,
)
from rollout.models import Intervention
from units.models import Municipality, PreventionLevel, Sector, Unit
from units.validators import PRIVACY_HELP_TEXT


def _unit_label(unit: Unit) -> str:
    if unit.is_active:
        return unit.name
    return str(_("%(name)s (arkiverad)") % {"name": unit.name})


class InterventionForm(forms.ModelForm):
    """What the coordinator registers about an intervention.

    A municipality may have 2,000 units: the owner unit is a select grouped by sector (type-ahead
    works without JavaScript), the participating units are checkboxes grouped by sector, each
    group folded away in a <details> unless it has chosen units."""

    level = forms.ChoiceField(
        label=_("Preventionsnivå"),
        choices=PreventionLevel.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = Intervention
        fields = (
            "name",
            "level",
            "owner_sector",
            "owner_unit",
            "target_group",
            "starts_on",
            "ends_on",
            "description",
            "participating_units",
        )
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
            "participating_units": forms.CheckboxSelectMultiple(
                attrs={"class": "form-check-input"}
            ),
        }
        help_texts = {
            "name": PRIVACY_HELP_TEXT,
            "target_group": PRIVACY_HELP_TEXT,
            "description": PRIVACY_HELP_TEXT,
            "owner_sector": _("Avgör insatsens rad i kartan. Tomt: den ansvariga enhetens sektor."),
            "starts_on": _("Lämna tomt om insatsen redan pågår sedan tidigare."),
            "ends_on": _("Lämna tomt om insatsen pågår tills vidare."),
        }

    def __init__(
        self,
        *args: Any,
        municipality: Municipality,
        preset: QueryDict | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("instance", Intervention(municipality=municipality))
        super().__init__(*args, **kwargs)
        self.municipality = municipality
        instance = self.instance
        chosen = (
            set(instance.participating_units.values_list("pk", flat=True)) if instance.pk else set()
        )
        owner_id = instance.owner_unit_id
        units = list(
            Unit.objects.filter(municipality=municipality)
            .filter(Q(is_active=True) | Q(pk__in=chosen) | Q(pk=owner_id or 0))
            .select_related("sector")
            .order_by(swedish("sector__name"), "sector_id", swedish("name"), "pk")
        )
        mine = Unit.objects.filter(municipality=municipality)
        sectors = Sector.objects.filter(municipality=municipality).filter(
            Q(is_active=True) | Q(pk=instance.owner_sector_id or 0)
        )
        self.fields["owner_sector"].queryset = sectors  # type: ignore[attr-defined]
        self.fields["owner_sector"].empty_label = _("Ingen sektor vald")  # type: ignore[attr-defined]

        owner = self.fields["owner_unit"]
        owner.queryset = mine.filter(Q(is_active=True) | Q(pk=owner_id or 0))  # type: ignore[attr-defined]
        owner.choices = [  # type: ignore[attr-defined]
            ("", _("Ingen enhet vald")),
            *self._grouped(u for u in units if u.is_active or u.pk == owner_id),
        ]

        participants = self.fields["participating_units"]
        self._participant_units = [u for u in units if u.is_active or u.pk in chosen]
        participants.queryset = mine.filter(Q(is_active=True) | Q(pk__in=chosen))  # type: ignore[attr-defined]
        participants.choices = [(u.pk, _unit_label(u)) for u in self._participant_units]  # type: ignore[attr-defined]

        if preset is not None and not self.is_bound and not instance.pk:
            self._apply_preset(preset, sectors)

    @staticmethod
    def _grouped(units: Any) -> list[tuple[str, list[tuple[int, str]]]]:
        groups: dict[str, list[tuple[int, str]]] = {}
        for unit in units:
            groups.setdefault(unit.sector.name, []).append((unit.pk, _unit_label(unit)))
        return list(groups.items())

    def _apply_preset(self, preset: QueryDict, sectors: Any) -> None:
        """The map's "Lägg till insats" in a gap cell pre-fills its sector and level; anything
        unknown is ignored."""
        sector = preset.get("sektor", "")
        if sector.isdigit() and sectors.filter(pk=int(sector)).exists():
            self.initial["owner_sector"] = int(sector)
        if preset.get("niva") in PreventionLevel.values:
            self.initial["level"] = preset["niva"]

    def level_choices(self) -> list[tuple[BoundWidget, str, str]]:
        """The level's radio buttons, each described by what the level means:
        (radio, the description's id, the description)."""
        choices = []
        for radio in self["level"].subwidgets:
            description_id = f"{radio.data['attrs']['id']}_description"
            radio.data["attrs"]["aria-describedby"] = description_id
            description = LEVEL_DESCRIPTIONS[PreventionLevel(radio.data["value"])]
            choices.append((radio, description_id, str(description)))
        return choices

    def unit_groups(self) -> list[tuple[str, list[BoundWidget], int]]:
        """The participating units' checkboxes by sector: (sector, checkboxes, how many chosen)."""
        groups: dict[str, list[BoundWidget]] = {}
        for unit, checkbox in zip(
            self._participant_units, self["participating_units"].subwidgets, strict=True
        ):
            groups.setdefault(unit.sector.name, []).append(checkbox)
        return [
            (sector, checkboxes, sum(1 for c in checkboxes if c.data["selected"]))
            for sector, checkboxes in groups.items()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        owner_errors = "owner_sector" in self.errors or "owner_unit" in self.errors
        if not (cleaned.get("owner_sector") or cleaned.get("owner_unit") or owner_errors):
            self.add_error("owner_sector", OWNER_REQUIRED)
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", END_BEFORE_START)
        return cleaned

    def validate_constraints(self) -> None:
        # The one constraint (the period in order) is checked in clean(), with the error on the
        # end date instead of the model's generic message.
        pass

    def intervention_fields(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in self.Meta.fields}


class InterventionFilterForm(forms.Form):
    """The cell list's GET parameters. An unknown sector or level means "all" (no error): the
    addresses are shared and bookmarked, and sectors come and go."""

    sektor = forms.ChoiceField(label=_("Sektor"), required=False)
    niva = forms.ChoiceField(
        label=_("Preventionsnivå"),
        required=False,
        choices=[("", _("Alla")), *PreventionLevel.choices],
    )

    def __init__(self, *args: Any, sectors: list[Sector], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sectors = {str(sector.pk): sector for sector in sectors}
        self.fields["sektor"].choices = [  # type: ignore[attr-defined]
            ("", _("Alla")),
            *((key, sector.name) for key, sector in self.sectors.items()),
            (NO_SECTOR, _("Utan sektor")),
        ]

    def filters(self) -> tuple[SectorFilter, str, bool]:
        """(sector, level, include ended and future ones), each falling back to its default."""
        self.is_valid()
        key = self.cleaned_data.get("sektor", "")
        sector: SectorFilter = NO_SECTOR if key == NO_SECTOR else self.sectors.get(key)
        return sector, self.cleaned_data.get("niva", ""), self.data.get("alla") == "1"

    def for_display(self) -> "InterventionFilterForm":
        """The same filter as an unbound form: a bad parameter shows as "Alla", not as an error."""
        sector, level, _include = self.filters()
        key = NO_SECTOR if sector == NO_SECTOR else str(sector.pk) if sector else ""
        return InterventionFilterForm(
            initial={"sektor": key, "niva": level}, sectors=list(self.sectors.values())
        )
