"""units.access's written-out SQL matches the models it reads."""

import pytest

from units import access, backends
from units.models import MunicipalRole, Role, Unit, UnitManager, User


def test_the_written_out_sql_names_the_models_tables() -> None:
    assert f"FROM {MunicipalRole._meta.db_table} " in access._ROLES_SQL
    assert f"FROM {UnitManager._meta.db_table} " in access._ROLES_SQL
    assert f"'{Role.MANAGER.value}'" in access._ROLES_SQL
    assert f"FROM {Unit._meta.db_table} " in access._UNIT_MUNICIPALITY_SQL
    assert f"FROM {User._meta.db_table} WHERE {User._meta.pk.column} = " in backends._USER_SQL


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
