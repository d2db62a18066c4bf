"""The project's URLs with the bench's baseline mounted, as jarfalla/urls.py does when BENCH=1."""

from django.urls import include, path

from jarfalla.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/", include("jarfalla.bench.urls"))]
