from django.urls import path

from routines import views

app_name = "routines"

urlpatterns = [
    path("units/<int:pk>/rutin/", views.routine, name="routine"),
    path("units/<int:pk>/rutin/paborja/", views.start, name="start"),
    path("units/<int:pk>/rutin/andra/", views.edit, name="edit"),
    path("units/<int:pk>/rutin/jamfor/", views.compare, name="compare"),
    path("units/<int:pk>/rutin/granskning/", views.send_for_review, name="review"),
    path("units/<int:pk>/rutin/godkann/", views.approve, name="approve"),
    path("units/<int:pk>/rutin/skicka-tillbaka/", views.send_back, name="send_back"),
    path("units/<int:pk>/rutin/inford/", views.implement, name="implement"),
    path("units/<int:pk>/rutin/revidera/", views.revise, name="revise"),
    path("units/<int:pk>/rutin/exempel/", views.publish, name="publish"),
    path("units/<int:pk>/rutin/dokument/", views.document, name="document"),
    path("units/<int:pk>/rutin/rutin.pdf", views.document_pdf, name="pdf"),
    path("rutiner/exempel/<int:routine_pk>/", views.example, name="example"),
    path(
        "municipalities/<int:municipality_pk>/referensdata/",
        views.reference_data,
        name="references",
    ),
]
