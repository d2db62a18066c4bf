"""What the database itself holds to: the model rules as constraints, history that outlives the
people and units it is about, and the privacy guard on every free-text field."""

import datetime as dt

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import services as outbox
from followup.models import FollowUp, Reminder, ReminderStatus
from rollout import services as rollout_services
from rollout.models import Rollout, TimelineEvent
from routines.models import ReferenceEntry, RoutineTemplate, RoutineVersion
from tests.factories import (
    MunicipalityFactory,
    UnitFactory,
    UserFactory,
    make_coordinator,
    make_manager,
)
from training.models import TrainingSession
from units import services as unit_services
from units.models import AuditEvent, Municipality, MunicipalRole, Role, Unit, UnitManager, User
from units.validators import validate_no_personal_data

pytestmark = pytest.mark.django_db

PNR = "811218-9876"  # a valid personnummer (Luhn-checked)


# --- Constraints ----------------------------------------------------------------------------


def _session(rollout: Rollout, leader: User, **fields: object) -> TrainingSession:
    values: dict[str, object] = {
        "starts_at": timezone.now(),
        "duration_minutes": 60,
        "expected_participants": 10,
    }
    return TrainingSession.objects.create(rollout=rollout, leader=leader, **(values | fields))


@pytest.mark.parametrize("percent", [0, 101])
def test_the_database_refuses_a_web_course_threshold_outside_1_to_100(
    municipality: Municipality, percent: int
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Municipality.objects.filter(pk=municipality.pk).update(web_course_threshold_percent=percent)


@pytest.mark.parametrize(
    "fields", [{"duration_minutes": 10}, {"duration_minutes": 481}, {"rating": 0}, {"rating": 6}]
)
def test_the_database_refuses_a_session_outside_the_forms_ranges(
    unit_a: Unit, coordinator: User, fields: dict[str, int]
) -> None:
    rollout = rollout_services.rollout_start(actor=coordinator, unit=unit_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        _session(rollout, coordinator, **fields)


@pytest.mark.parametrize("fields", [{"offset_months": 0}, {"offset_months": 61}, {"effect": 6}])
def test_the_database_refuses_a_follow_up_outside_the_forms_ranges(
    unit_a: Unit, coordinator: User, fields: dict[str, int]
) -> None:
    rollout = rollout_services.rollout_start(actor=coordinator, unit=unit_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(rollout=rollout, **({"offset_months": 6} | fields))


def test_values_inside_the_ranges_are_kept(unit_a: Unit, coordinator: User) -> None:
    rollout = rollout_services.rollout_start(actor=coordinator, unit=unit_a)
    _session(rollout, coordinator, duration_minutes=480, rating=5)
    FollowUp.objects.create(rollout=rollout, offset_months=60, effect=1)
    Municipality.objects.filter(pk=unit_a.municipality_id).update(web_course_threshold_percent=100)
    assert TrainingSession.objects.filter(rollout=rollout).count() == 1


@pytest.mark.parametrize(
    "offsets", [[], [0, 6], [6, 61], [12, 6], [6, 6], "6, 12", [1, 2, 3, 4, 5, 6, 7]]
)
def test_the_admin_cannot_store_a_follow_up_rhythm_the_settings_page_would_refuse(
    municipality: Municipality, offsets: object
) -> None:
    municipality.followup_offsets_months = offsets
    with pytest.raises(ValidationError) as refused:
        municipality.full_clean()
    assert "followup_offsets_months" in refused.value.message_dict


# --- History outlives people and units ------------------------------------------------------


def test_the_timeline_still_names_a_person_whose_account_was_deleted(
    client: Client, unit_a: Unit, coordinator: User
) -> None:
    leaver = make_coordinator(unit_a.municipality, email="slutat@kommun.example")
    rollout_services.rollout_start(actor=leaver, unit=unit_a)
    leaver.delete()
    event = TimelineEvent.objects.get(unit=unit_a, kind="rollout.started")
    assert event.actor is None
    client.force_login(coordinator)
    page = client.get(reverse("rollout:timeline", args=[unit_a.pk])).content.decode()
    assert "slutat@kommun.example" in page


def test_a_managers_account_deleted_keeps_the_units_rounds_reports_and_timeline(
    unit_a: Unit, coordinator: User, manager_a: User
) -> None:
    rollout = rollout_services.rollout_start(actor=coordinator, unit=unit_a)
    rollout_services.checkin_nothing_new(actor=manager_a, rollout=rollout)
    manager_a.delete()
    assert Rollout.objects.filter(unit=unit_a).count() == 1
    assert TimelineEvent.objects.filter(unit=unit_a).count() == 2


def test_a_unit_with_history_is_archived_not_deleted(unit_a: Unit, coordinator: User) -> None:
    rollout_services.rollout_start(actor=coordinator, unit=unit_a)
    with pytest.raises(ProtectedError), transaction.atomic():
        unit_a.delete()
    assert TimelineEvent.objects.filter(unit=unit_a).exists()
    # A unit created by mistake, with nothing recorded, can still go.
    mistake = UnitFactory.create(municipality=unit_a.municipality)
    mistake.delete()


def test_the_admin_refuses_to_delete_a_unit_with_history(
    client: Client, superuser: User, unit_a: Unit, coordinator: User
) -> None:
    rollout_services.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(superuser)
    response = client.post(reverse("admin:units_unit_delete", args=[unit_a.pk]), {"post": "yes"})
    assert response.status_code == 200  # the admin's "cannot delete" page, not a server error
    assert Unit.objects.filter(pk=unit_a.pk).exists()
    assert Rollout.objects.filter(unit=unit_a).exists()


def test_deleting_a_municipality_keeps_its_audit_trail(superuser: User) -> None:
    municipality = MunicipalityFactory.create()
    unit_services.audit_record(
        actor=superuser,
        action="municipality.deleted_in_admin",
        target=municipality,
        municipality=municipality,
        changes={},
    )
    municipality.delete()
    event = AuditEvent.objects.get(action="municipality.deleted_in_admin")
    assert event.municipality_id is None
    assert event.target_repr == str(municipality)


# --- A person who leaves gets no more reminders about the unit ------------------------------


def _remind(user: User, unit: Unit | None, key: str) -> Reminder:
    reminder, _created = outbox.schedule(
        recipient=user,
        kind="meeting_soon",
        subject_key=key,
        due_on=dt.date(2027, 5, 1),
        subject="Uppföljning om två dagar",
        body="…",
        unit=unit,
        send_at=timezone.now() + dt.timedelta(days=150),
    )
    return reminder


def _status(reminder: Reminder) -> str:
    reminder.refresh_from_db()
    return reminder.status


def test_a_manager_removed_from_a_unit_gets_no_more_reminders_about_it(
    unit_a: Unit, unit_b: Unit, coordinator: User
) -> None:
    manager = make_manager(unit_a, unit_b)
    about_a, about_b = _remind(manager, unit_a, "a"), _remind(manager, unit_b, "b")
    unit_services.manager_remove(
        actor=coordinator, membership=UnitManager.objects.get(user=manager, unit=unit_a)
    )
    assert _status(about_a) == ReminderStatus.CANCELLED
    assert _status(about_b) == ReminderStatus.PENDING


def test_a_coordinator_whose_role_is_removed_gets_no_more_reminders_or_digests(
    unit_a: Unit, coordinator: User
) -> None:
    leaver = make_coordinator(unit_a.municipality)
    escalation, digest = _remind(leaver, unit_a, "escalation"), _remind(leaver, None, "digest")
    kept = _remind(coordinator, unit_a, "kept")
    unit_services.municipal_role_remove(
        actor=coordinator, membership=MunicipalRole.objects.get(user=leaver)
    )
    assert _status(escalation) == ReminderStatus.CANCELLED
    assert _status(digest) == ReminderStatus.CANCELLED
    assert _status(kept) == ReminderStatus.PENDING


def test_a_coordinator_lowered_to_observer_gets_no_more_reminders_or_digests(
    unit_a: Unit, coordinator: User
) -> None:
    leaver = make_coordinator(unit_a.municipality)
    escalation, digest = _remind(leaver, unit_a, "escalation"), _remind(leaver, None, "digest")
    # The role is changed in place (update_or_create): a save, not a delete.
    unit_services.municipal_role_set(
        actor=coordinator, municipality=unit_a.municipality, user=leaver, role=Role.OBSERVER
    )
    assert _status(escalation) == ReminderStatus.CANCELLED
    assert _status(digest) == ReminderStatus.CANCELLED


def test_a_manager_moved_to_another_unit_gets_no_more_reminders_about_the_first(
    unit_a: Unit, unit_b: Unit, manager_a: User
) -> None:
    about_a = _remind(manager_a, unit_a, "a")
    membership = UnitManager.objects.get(user=manager_a, unit=unit_a)
    membership.unit = unit_b
    membership.save()  # as the admin's change form does
    assert _status(about_a) == ReminderStatus.CANCELLED


def test_a_deactivated_account_gets_no_more_reminders(unit_a: Unit, manager_a: User) -> None:
    reminder = _remind(manager_a, unit_a, "a")
    manager_a.is_active = False
    manager_a.save()  # as the admin does
    assert _status(reminder) == ReminderStatus.CANCELLED


def test_deleting_a_membership_in_the_admin_cancels_the_reminders_too(
    client: Client, superuser: User, unit_a: Unit, manager_a: User
) -> None:
    reminder = _remind(manager_a, unit_a, "a")
    membership = UnitManager.objects.get(user=manager_a)
    client.force_login(superuser)
    client.post(reverse("admin:units_unitmanager_delete", args=[membership.pk]), {"post": "yes"})
    assert not UnitManager.objects.filter(pk=membership.pk).exists()
    assert _status(reminder) == ReminderStatus.CANCELLED


# --- No data about individuals at risk ------------------------------------------------------

# Written by the system, never typed by a person: names of staff (users) are not about
# individuals at risk, and the outbox, audit trail, tokens and files hold what services made.
SYSTEM_WRITTEN = {
    "units.User.password",
    "units.User.first_name",
    "units.User.last_name",
    "units.Invitation.token_hash",
    "units.Invitation.send_error",
    "units.AuditEvent.action",
    "units.AuditEvent.target_type",
    "units.AuditEvent.target_repr",
    "units.AuditEvent.changes",
    "units.Municipality.followup_offsets_months",
    "rollout.TimelineEvent.kind",
    "rollout.TimelineEvent.params",
    "rollout.BoardReport.language",
    "rollout.BoardReport.file",
    "rollout.BoardReport.error",
    "rollout.Certificate.file",
    "rollout.MunicipalitySummary.data",
    "training.CalendarFeed.token_hash",
    *(
        f"followup.Reminder.{name}"
        for name in (
            [
                "kind",
                "subject_key",
                "subject",
                "body",
                "html",
                "ics",
                "ics_method",
                "last_error",
                "message_id",
            ]
        )
    ),
}


def _free_text_fields() -> list[str]:
    found = []
    for app in ("units", "rollout", "training", "routines", "followup"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.EmailField | models.URLField | models.SlugField):
                    continue
                if field.choices or not isinstance(
                    field, models.CharField | models.TextField | models.JSONField
                ):
                    continue
                name = f"{app}.{model.__name__}.{field.name}"
                if name not in SYSTEM_WRITTEN and validate_no_personal_data not in field.validators:
                    found.append(name)
    return found


def test_every_free_text_field_carries_the_privacy_validator_on_the_model() -> None:
    assert _free_text_fields() == []


def test_routine_text_kept_as_json_is_checked_too(municipality: Municipality) -> None:
    template = RoutineTemplate(
        municipality=municipality,
        name="Mall",
        for_duty_to_report=True,
        sections={"purpose": f"Eleven {PNR} har berättat", "signs": ""},
    )
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert list(refused.value.message_dict) == ["sections"]
    version = RoutineVersion(sections={"actions": ["Ring", PNR]})
    with pytest.raises(ValidationError):
        version.clean_fields(exclude=["routine", "number"])


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Municipality, {"name": f"Kommun {PNR}", "slug": "k"}),
        (Municipality, {"name": "Kommun", "slug": "k", "model_name": PNR}),
        (ReferenceEntry, {"key": "tel", "label": PNR, "value": ""}),
        (RoutineTemplate, {"name": PNR, "for_duty_to_report": True}),
    ],
)
def test_the_admin_cannot_store_a_personnummer_in_names_and_labels(
    municipality: Municipality, model: type[models.Model], fields: dict[str, object]
) -> None:
    if model is not Municipality:
        fields = fields | {"municipality": municipality}
    with pytest.raises(ValidationError) as refused:
        model(**fields).full_clean()
    assert any(field in refused.value.message_dict for field in ("name", "model_name", "label"))


def test_memberships_moved_to_someone_else_stop_the_previous_holders_reminders(
    unit_a: Unit, manager_a: User, coordinator: User
) -> None:
    # The admin's change form can give a membership or a role to another person in place: for
    # the person who had it that is a loss, as when it is removed.
    successor, heir = make_manager(unit_a), UserFactory.create(email="arvtagare@example.se")
    about_a = _remind(manager_a, unit_a, "a")
    digest = _remind(coordinator, None, "digest")
    membership = UnitManager.objects.get(user=manager_a, unit=unit_a)
    membership.user = heir
    membership.save()
    role = MunicipalRole.objects.get(user=coordinator, municipality=unit_a.municipality)
    role.user = successor
    role.save()
    assert _status(about_a) == ReminderStatus.CANCELLED
    assert _status(digest) == ReminderStatus.CANCELLED
