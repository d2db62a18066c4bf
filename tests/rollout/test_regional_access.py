"""A regional observer's grant opens the regional view and nothing else: every URL pattern of the
permission matrix answers a regional observer of both municipalities exactly as it answers a
person with no role at all, and no page shows them more units than it shows such a person (only
what a token opens: an invitation names its unit)."""

from typing import Any

import pytest
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from rollout import regional
from tests.factories import UserFactory
from tests.test_permission_matrix import EXPECTATIONS, World, send
from tests.test_permission_matrix import _fast_passwords as _fast_passwords
from tests.test_permission_matrix import world as world
from units import pagecache
from units.models import RegionalObserver, Unit

# What the grant is for: the start page leads there, and the regional view opens.
OPENED_BY_THE_GRANT = {"home", "rollout:regional"}


@pytest.mark.django_db
def test_a_regional_grant_opens_no_unit_municipality_export_or_pdf(
    client: Client, world: World, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    county, nobody = UserFactory.create(), UserFactory.create()
    granted = RegionalObserver.objects.create(user=county, organisation="Länsstyrelsen")
    granted.municipalities.set(
        [world.municipality("municipality_a"), world.municipality("municipality_x")]
    )
    regional.refresh()
    unit_names = list(Unit.objects.values_list("name", flat=True))
    checked = 0
    for name, spec in EXPECTATIONS.items():
        for method in spec.expect:
            for target in spec.targets:
                # Each case in the state its row prepares, undone afterwards: rows' setups
                # assume a fresh world, as in the matrix.
                case = transaction.savepoint_create()
                spec.setup(world, target)
                url = reverse(name, kwargs=spec.kwargs(world, target))
                if query := spec.query(world, target):
                    url += f"?{urlencode(query)}"
                data = spec.data(world, target) if method == "POST" else {}
                answers = []
                for user in (county, nobody):
                    request = transaction.savepoint_create()
                    client.force_login(user)
                    pagecache.clear()
                    response = send(client, method, url, data)
                    body = (
                        response.getvalue()
                        if isinstance(response, HttpResponse | StreamingHttpResponse)
                        else b""
                    )
                    page = body.decode(errors="replace")
                    shown = [unit for unit in unit_names if unit in page]
                    answers.append((response.status_code, response.get("Location", ""), shown))
                    transaction.savepoint_rollback(request)
                transaction.savepoint_rollback(case)
                label = f"{method} {url}"
                if name in OPENED_BY_THE_GRANT:
                    assert answers[0] != answers[1], label
                else:
                    assert answers[0] == answers[1], label
                checked += 1
    assert checked > 200  # every row of the matrix, not an empty loop
