from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from units import access

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
        "nav_municipalities": SimpleLazyObject(
            lambda: list(access.coordinated_municipalities(user)[:5])
        )
        if user
        else [],
    }
