from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("units/<int:pk>/webbkurs/", views.web_course, name="web_course"),
    path("units/<int:pk>/webbkurs/klar/", views.web_course_complete, name="web_course_complete"),
]
