from types import SimpleNamespace

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from units import access
from units.access import AnyUser
from units.models import Municipality

# The dashboard's pages, for aria-current on the "Översikt" menu item.
BOARD_PAGES = frozenset(
    {
        "dashboard_home",
        "dashboard",
        "unit_table",
        "indicators",
        "interventions",
        "intervention_list",
        "reports",
        "report",
    }
)


def site(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "SITE_URL": settings.SITE_URL,
        "LANGUAGES": settings.LANGUAGES,
        "board_pages": BOARD_PAGES,
        # Lazy: only pages that show role-dependent navigation pay for the queries.
        "nav_roles": SimpleLazyObject(lambda: access.roles_of(user)) if user else None,
        "nav_municipalities": SimpleLazyObject(lambda: _nav_municipalities(user)) if user else [],
    }


def _nav_municipalities(user: AnyUser) -> list[Municipality] | list[SimpleNamespace]:
    """The municipalities whose people pages the menu links to. With only one the menu shows no
    name, so its id (from the roles already read) is enough: no query on every page."""
    roles = access.roles_of(user)
    if not roles.superuser and len(roles.coordinator_of) <= 1:
        return [SimpleNamespace(pk=pk) for pk in roles.coordinator_of]
    return list(access.coordinated_municipalities(user)[:5])
