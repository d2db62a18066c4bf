"""Mounted at /bench/ by jarfalla/urls.py only when the BENCH setting is on (`make bench`)."""

from django.urls import path

from jarfalla.bench import views

app_name = "bench"

urlpatterns = [
    path("baseline/", views.baseline, name="baseline"),
]
