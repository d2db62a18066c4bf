from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = _("Enheter")

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_removed

        from units import receivers
        from units.middleware import forget_mfa

        authenticator_removed.connect(forget_mfa, dispatch_uid="units.forget_mfa")
        receivers.connect()
