"""The admin: useful lists for superusers, changes audited, the audit trail read-only."""

import pytest
from django.test import Client
from django.urls import reverse

from units.models import AuditEvent, Unit, User


@pytest.mark.django_db
def test_admin_lists_load_for_superuser(
    client: Client, superuser: User, unit_a: Unit, manager_a: User
) -> None:
    client.force_login(superuser)
    for model in (
        "unit",
        "municipality",
        "municipalrole",
        "unitmanager",
        "invitation",
        "auditevent",
        "user",
    ):
        response = client.get(reverse(f"admin:units_{model}_changelist"))
        assert response.status_code == 200, model


@pytest.mark.django_db
def test_admin_changes_are_audited(client: Client, superuser: User, unit_a: Unit) -> None:
    client.force_login(superuser)
    url = reverse("admin:units_unit_change", args=[unit_a.pk])
    response = client.post(
        url,
        {
            "municipality": unit_a.municipality_id,
            "name": unit_a.name,
            "sector": unit_a.sector_id,
            "kind": unit_a.kind,
            "duty_to_report": "on",
            "headcount": "99",
            "functional_email": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="unit.changed_in_admin")
    assert event.actor == superuser
    assert event.unit == unit_a
    assert event.changes["headcount"][1] == 99


@pytest.mark.django_db
def test_audit_trail_cannot_be_edited_in_admin(
    client: Client, superuser: User, unit_a: Unit
) -> None:
    client.force_login(superuser)
    event = AuditEvent.objects.first()
    assert event is not None
    assert client.get(reverse("admin:units_auditevent_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:units_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_admin_pages_name_the_sites_icon(client: Client, superuser: User) -> None:
    """Without it the browser asks for /favicon.ico on every admin page, a 404 in its console."""
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert 'id="site-name"' in page
