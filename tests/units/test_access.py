"""units.access's written-out SQL matches the models it reads."""

from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import Client
from django.urls import reverse

from units import access, backends
from units.models import MunicipalRole, Role, Unit, UnitManager, User


def test_the_written_out_sql_names_the_models_tables() -> None:
    assert f"FROM {MunicipalRole._meta.db_table} " in access._ROLES_SQL
    assert f"FROM {UnitManager._meta.db_table} " in access._ROLES_SQL
    assert f"'{Role.MANAGER.value}'" in access._ROLES_SQL
    assert f"FROM {Unit._meta.db_table} " in access._UNIT_MUNICIPALITY_SQL
    assert f"FROM {User._meta.db_table} u " in access._USER_WITH_ROLES_SQL
    assert f"FROM {MunicipalRole._meta.db_table} " in access._USER_WITH_ROLES_SQL
    assert f"FROM {UnitManager._meta.db_table}" in access._USER_WITH_ROLES_SQL


@pytest.mark.django_db
def test_roles_and_the_session_user_come_back_as_the_orm_would_read_them(
    coordinator: User, manager_a: User, unit_a: Unit, superuser: User
) -> None:
    roles = access.roles_of(coordinator)
    assert roles.coordinator_of == (unit_a.municipality_id,)
    assert roles.manager_of == ()
    assert access.roles_of(manager_a).manager_of == (unit_a.pk,)
    backend = backends.ModelBackend()
    found = backend.get_user(str(coordinator.pk))
    assert found == coordinator
    assert found is not None
    assert found.last_login == User.objects.get(pk=coordinator.pk).last_login
    assert backend.get_user("not a number") is None
    coordinator.is_active = False
    coordinator.save()
    assert backend.get_user(coordinator.pk) is None


@pytest.mark.django_db
def test_the_session_user_comes_with_every_role_read_in_the_same_statement(
    coordinator: User, unit_a: Unit, unit_b: Unit, unit_x: Unit, django_assert_num_queries: Any
) -> None:
    UnitManager.objects.create(user=coordinator, unit=unit_b)
    UnitManager.objects.create(user=coordinator, unit=unit_x)
    MunicipalRole.objects.create(
        user=coordinator, municipality=unit_x.municipality, role=Role.OBSERVER
    )
    with django_assert_num_queries(1):
        user = backends.ModelBackend().get_user(coordinator.pk)
        assert user is not None
        roles = access.roles_of(user)
    assert roles == access.roles_of(User.objects.get(pk=coordinator.pk))
    assert roles.coordinator_of == (unit_a.municipality_id,)
    assert roles.observer_of == (unit_x.municipality_id,)
    assert roles.manager_of == tuple(sorted((unit_b.pk, unit_x.pk)))


@pytest.mark.django_db
def test_a_unit_number_past_the_database_range_is_not_found(
    client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    assert client.get(f"/units/{2**64}/").status_code == 404


@pytest.mark.django_db
def test_a_session_from_before_the_backends_were_renamed_stays_logged_in(
    client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.save()
    response = client.get(reverse("my_account"))
    assert response.status_code == 200
    assert response.wsgi_request.user == coordinator
    assert client.session[BACKEND_SESSION_KEY] == "units.backends.ModelBackend"
