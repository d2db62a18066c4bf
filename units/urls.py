from django.urls import path

from units import views

app_name = "units"

urlpatterns = [
    path("units/", views.unit_list, name="list"),
    path("units/<int:pk>/", views.unit_detail, name="detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="edit"),
    path("units/<int:pk>/archive/", views.unit_archive, name="archive"),
    path("units/<int:pk>/managers/invite/", views.unit_invite_manager, name="invite_manager"),
    path(
        "units/<int:pk>/managers/<int:membership_pk>/remove/",
        views.unit_manager_remove,
        name="manager_remove",
    ),
    path("municipalities/<int:municipality_pk>/units/new/", views.unit_create, name="create"),
    path("municipalities/<int:municipality_pk>/units/import/", views.unit_import, name="import"),
    path(
        "municipalities/<int:municipality_pk>/units/import/confirm/",
        views.unit_import_confirm,
        name="import_confirm",
    ),
    path(
        "municipalities/<int:municipality_pk>/units/import/mall.csv",
        views.unit_import_template,
        name="import_template",
    ),
    path("municipalities/<int:municipality_pk>/people/", views.municipality_people, name="people"),
    path(
        "municipalities/<int:municipality_pk>/people/invite/",
        views.invite_import,
        name="invite_import",
    ),
    path(
        "municipalities/<int:municipality_pk>/people/invite/confirm/",
        views.invite_import_confirm,
        name="invite_import_confirm",
    ),
    path(
        "municipalities/<int:municipality_pk>/people/invite/mall.csv",
        views.invite_import_template,
        name="invite_import_template",
    ),
    path(
        "municipalities/<int:municipality_pk>/people/<int:pk>/remove/",
        views.municipal_role_remove,
        name="role_remove",
    ),
    path(
        "municipalities/<int:municipality_pk>/settings/",
        views.municipality_settings,
        name="settings",
    ),
    path(
        "municipalities/<int:municipality_pk>/sectors/",
        views.sector_create,
        name="sector_create",
    ),
    path(
        "municipalities/<int:municipality_pk>/sectors/<int:pk>/toggle/",
        views.sector_toggle,
        name="sector_toggle",
    ),
    path("municipalities/<int:municipality_pk>/audit/", views.municipality_audit, name="audit"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/accept/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
