from django.urls import path

from rollout import board_views, intervention_views, regional_views, report_views, views

app_name = "rollout"

urlpatterns = [
    path("units/<int:pk>/rollout/start/", views.start, name="start"),
    path("units/<int:pk>/rollout/request/", views.request_to_join, name="request"),
    path("units/<int:pk>/rollout/accept/", views.accept, name="accept"),
    path("units/<int:pk>/rollout/decline/", views.decline, name="decline"),
    path("units/<int:pk>/rollout/pause/", views.pause, name="pause"),
    path("units/<int:pk>/rollout/resume/", views.resume, name="resume"),
    path("units/<int:pk>/rollout/checkin/", views.checkin, name="checkin"),
    path(
        "units/<int:pk>/rollout/steps/<int:step>/start/", views.start_step_early, name="start_step"
    ),
    path("units/<int:pk>/timeline/", views.timeline, name="timeline"),
    path("dashboard/<int:pk>/insatser/", intervention_views.intervention_map, name="interventions"),
    path(
        "dashboard/<int:pk>/insatser/lista/",
        intervention_views.intervention_list,
        name="intervention_list",
    ),
    path(
        "dashboard/<int:pk>/insatser/ny/",
        intervention_views.intervention_create,
        name="intervention_create",
    ),
    path(
        "dashboard/<int:pk>/insatser/<int:intervention_pk>/andra/",
        intervention_views.intervention_edit,
        name="intervention_edit",
    ),
    path(
        "dashboard/<int:pk>/insatser/<int:intervention_pk>/ta-bort/",
        intervention_views.intervention_delete,
        name="intervention_delete",
    ),
    path("dashboard/", board_views.dashboard_home, name="dashboard_home"),
    path("regional/", regional_views.regional_view, name="regional"),
    path("dashboard/<int:pk>/", board_views.dashboard, name="dashboard"),
    path("dashboard/<int:pk>/enheter/", board_views.unit_table, name="unit_table"),
    path("dashboard/<int:pk>/enheter/starta/", board_views.start_many, name="start_many"),
    path(
        "dashboard/<int:pk>/enheter/export.<slug:fmt>",
        board_views.unit_table_export,
        name="unit_table_export",
    ),
    path("dashboard/<int:pk>/indikatorer/", board_views.indicators, name="indicators"),
    path(
        "dashboard/<int:pk>/indikatorer/export.<slug:fmt>",
        board_views.indicators_export,
        name="indicators_export",
    ),
    path("dashboard/<int:pk>/rapport/", report_views.report_list, name="reports"),
    path(
        "dashboard/<int:pk>/rapport/<int:report_pk>/",
        report_views.report_detail,
        name="report",
    ),
    path(
        "dashboard/<int:pk>/rapport/<int:report_pk>/pdf/",
        report_views.report_pdf,
        name="report_pdf",
    ),
    path("units/<int:pk>/intyg/", report_views.certificate, name="certificate"),
]
