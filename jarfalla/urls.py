from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from jarfalla import views

# The admin logs in through allauth: same rate limits, same second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Järfällamodellen"

urlpatterns = [
    path("", views.home, name="home"),
    path("konto/", views.my_account, name="my_account"),
    path("healthz/", views.healthz, name="healthz"),
    path("tillganglighet/", views.accessibility, name="accessibility"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("units.urls")),
    path("", include("rollout.urls")),
    path("", include("training.urls")),
    path("", include("routines.urls")),
    path("", include("followup.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCH:  # `make bench`: the baseline view, never mounted otherwise
    urlpatterns.append(path("bench/", include("jarfalla.bench.urls")))

handler400 = "jarfalla.views.bad_request"
handler403 = "jarfalla.views.permission_denied"
handler404 = "jarfalla.views.page_not_found"
handler500 = "jarfalla.views.server_error"
