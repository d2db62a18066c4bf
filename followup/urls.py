from django.urls import path

from followup import views

app_name = "followup"

urlpatterns = [
    path("units/<int:pk>/uppfoljning/", views.step, name="step"),
    path("units/<int:pk>/uppfoljning/<int:follow_up_pk>/boka/", views.book, name="book"),
    path("units/<int:pk>/uppfoljning/<int:follow_up_pk>/registrera/", views.record, name="record"),
    path("konto/aviseringar/", views.notification_settings, name="settings"),
    path("municipalities/<int:municipality_pk>/utskick/", views.outbox, name="outbox"),
    path("municipalities/<int:municipality_pk>/utskick/<int:pk>/igen/", views.retry, name="retry"),
]
