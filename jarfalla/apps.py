from django.apps import AppConfig


class JarfallaConfig(AppConfig):
    name = "jarfalla"
    verbose_name = "Järfällamodellen"
