from django.urls import path

from rollout import views

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
]
