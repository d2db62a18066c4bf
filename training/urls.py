from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("units/<int:pk>/webbkurs/", views.web_course, name="web_course"),
    path("units/<int:pk>/webbkurs/klar/", views.web_course_complete, name="web_course_complete"),
    path("units/<int:pk>/utbildning/", views.targeted, name="targeted"),
    path("units/<int:pk>/utbildning/klar/", views.targeted_complete, name="targeted_complete"),
    path("units/<int:pk>/utbildning/boka/", views.session_book, name="session_book"),
    path(
        "units/<int:pk>/utbildning/<int:session_pk>/andra/", views.session_edit, name="session_edit"
    ),
    path(
        "units/<int:pk>/utbildning/<int:session_pk>/stall-in/",
        views.session_cancel,
        name="session_cancel",
    ),
    path(
        "units/<int:pk>/utbildning/<int:session_pk>/genomford/",
        views.session_held,
        name="session_held",
    ),
    path(
        "units/<int:pk>/utbildning/<int:session_pk>/kalender.ics",
        views.session_ics,
        name="session_ics",
    ),
    path("utbildning/vecka/", views.week, name="week"),
    path("municipalities/<int:municipality_pk>/teman/", views.theme_list, name="themes"),
    path(
        "municipalities/<int:municipality_pk>/teman/<int:theme_pk>/",
        views.theme_edit,
        name="theme_edit",
    ),
    path("utbildning/kalender/", views.calendar_feed_settings, name="calendar_feed_settings"),
    path("utbildning/kalender/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
