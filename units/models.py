"""People and (from issue 3 on) municipalities, sectors, units and memberships."""

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from jarfalla.collation import swedish
from units.validators import validate_no_personal_data


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who logs in: identified by e-mail address only, never by a username."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-postadress"), unique=True)
    # When the account was last deactivated: every session and password-reset link made before
    # then stops working for good (both hashes include it), so reactivating the account needs
    # a fresh login. Set by units.receivers, also for deactivation in the admin.
    credentials_revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("användare")
        verbose_name_plural = _("användare")
        ordering = ("email",)

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    # Django's session hash (an HMAC of the password hash), with the revocation stamp added
    # once there is one: before any deactivation it is exactly Django's, so nobody is logged
    # out by this code arriving.
    def get_session_auth_hash(self) -> str:
        return self._credentials_hmac(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._credentials_hmac(secret=fallback_secret)

    def _credentials_hmac(self, *, secret: str | bytes | None) -> str:
        value = self.password
        if self.credentials_revoked_at is not None:
            value = f"{value}|{self.credentials_revoked_at.timestamp()}"
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            value,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


def default_followup_offsets() -> list[int]:
    return [6, 12]


FOLLOWUP_OFFSET_MAX_MONTHS = 60
FOLLOWUP_OFFSETS_MAX = 6


def validate_followup_offsets(value: object) -> None:
    """The follow-up rhythm: one to six different whole months from 1 to 60, ascending (the
    settings form parses it that way; the admin edits the JSON directly)."""
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= FOLLOWUP_OFFSETS_MAX
        or not all(type(months) is int for months in value)
        or value != sorted(set(value))
        or value[0] < 1
        or value[-1] > FOLLOWUP_OFFSET_MAX_MONTHS
    ):
        raise ValidationError(
            _("Ange mellan en och sex uppföljningar, från 1 till 60 månader."), code="range"
        )


class Municipality(models.Model):
    """A municipality that runs the model under its own name and rhythm."""

    name = models.CharField(
        _("namn"), max_length=120, unique=True, validators=[validate_no_personal_data]
    )
    slug = models.SlugField(_("kortnamn"), max_length=60, unique=True)
    model_name = models.CharField(
        _("modellens namn"),
        max_length=120,
        default="Järfällamodellen",
        validators=[validate_no_personal_data],
        help_text=_("Det namn modellen har i er kommun, t.ex. Järfällamodellen."),
    )
    followup_offsets_months = models.JSONField(
        _("uppföljning efter (månader)"),
        default=default_followup_offsets,
        validators=[validate_followup_offsets],
        help_text=_("Månader efter att rutinen införts, t.ex. 6 och 12."),
    )
    web_course_url = models.URLField(_("länk till Webbkurs Heder"), blank=True)
    web_course_threshold_percent = models.PositiveSmallIntegerField(
        _("andel för klar webbkurs (%)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "Enhetschefen kan markera steg 1 som klart när så stor andel av personalen gått kursen."
        ),
    )
    facilitator_guide_url = models.URLField(_("länk till handledarguiden"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kommun")
        verbose_name_plural = _("kommuner")
        ordering = (swedish("name"), "id")  # jarfalla.collation: Swedish alphabetical order
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    web_course_threshold_percent__gte=1, web_course_threshold_percent__lte=100
                ),
                name="municipality_threshold_percent_1_to_100",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Sector(models.Model):
    """A branch of the municipality's work (förskola, socialtjänst, civilsamhälle, …)."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="sectors", verbose_name=_("kommun")
    )
    name = models.CharField(_("namn"), max_length=80, validators=[validate_no_personal_data])
    is_active = models.BooleanField(_("används"), default=True)

    class Meta:
        verbose_name = _("sektor")
        verbose_name_plural = _("sektorer")
        ordering = (swedish("name"), "id")  # jarfalla.collation: Swedish alphabetical order
        constraints = [
            models.UniqueConstraint(
                "municipality", Lower("name"), name="sector_name_unique_per_municipality"
            )
        ]

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    MUNICIPAL = "municipal", _("Kommunal verksamhet")
    HOUSING = "housing", _("Bostadsbolag")
    ASSOCIATION = "association", _("Förening eller nätverk")
    OTHER = "other", _("Annan")


class PreventionLevel(models.TextChoices):
    """Prevention levels of the intervention chain (insatskedjan)."""

    UNIVERSAL = "universal", _("Universell (alla)")
    SELECTIVE = "selective", _("Selektiv (riskgrupper)")
    INDICATED = "indicated", _("Indikerad (kända individer)")


class Unit(models.Model):
    """A unit (enhet/verksamhet) that goes through the four steps: a preschool, a school, an
    association… Only counts and roles are kept about its staff, never lists of people."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="units", verbose_name=_("kommun")
    )
    name = models.CharField(_("namn"), max_length=160, validators=[validate_no_personal_data])
    sector = models.ForeignKey(
        Sector, on_delete=models.PROTECT, related_name="units", verbose_name=_("sektor")
    )
    kind = models.CharField(
        _("typ"), max_length=20, choices=UnitKind.choices, default=UnitKind.MUNICIPAL
    )
    duty_to_report = models.BooleanField(
        _("anmälningsskyldighet"),
        default=True,
        help_text=_(
            "Om personalen enligt lag är skyldig att anmäla oro för barn till socialtjänsten "
            "(14 kap. 1 § socialtjänstlagen). Gäller normalt kommunala verksamheter."
        ),
    )
    headcount = models.PositiveIntegerField(
        _("antal anställda"), help_text=_("Ungefärligt antal i personalen.")
    )
    works_universal = models.BooleanField(_("universell nivå"), default=False)
    works_selective = models.BooleanField(_("selektiv nivå"), default=False)
    works_indicated = models.BooleanField(_("indikerad nivå"), default=False)
    functional_email = models.EmailField(
        _("funktionsbrevlåda"),
        blank=True,
        help_text=_("En gemensam adress för enheten, inte en persons."),
    )
    is_active = models.BooleanField(_("aktiv"), default=True)
    archived_at = models.DateTimeField(_("arkiverad"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("enhet")
        verbose_name_plural = _("enheter")
        ordering = (swedish("name"), "id")  # jarfalla.collation: Swedish alphabetical order
        constraints = [
            models.UniqueConstraint(
                "municipality", Lower("name"), name="unit_name_unique_per_municipality"
            ),
            models.CheckConstraint(
                condition=models.Q(headcount__gte=0), name="unit_headcount_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "is_active", "sector"])]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def default_duty_to_report(kind: str) -> bool:
        """Municipal staff who meet children must report concern; others are encouraged to."""
        return kind == UnitKind.MUNICIPAL

    @property
    def prevention_levels(self) -> list[str]:
        return [
            level
            for level, on in (
                (PreventionLevel.UNIVERSAL, self.works_universal),
                (PreventionLevel.SELECTIVE, self.works_selective),
                (PreventionLevel.INDICATED, self.works_indicated),
            )
            if on
        ]

    @property
    def prevention_level_labels(self) -> list[str]:
        return [str(PreventionLevel(level).label) for level in self.prevention_levels]


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Samordnare")
    OBSERVER = "observer", _("Observatör")
    MANAGER = "manager", _("Enhetschef")


class MunicipalRole(models.Model):
    """Coordinator (read-write, whole municipality) or observer (read-only) of a municipality."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="municipal_roles", verbose_name=_("användare")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="roles", verbose_name=_("kommun")
    )
    role = models.CharField(
        _("roll"),
        max_length=20,
        choices=[(Role.COORDINATOR, Role.COORDINATOR.label), (Role.OBSERVER, Role.OBSERVER.label)],
    )
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)

    class Meta:
        verbose_name = _("kommunroll")
        verbose_name_plural = _("kommunroller")
        constraints = [
            models.UniqueConstraint("user", "municipality", name="one_municipal_role_per_person"),
            models.CheckConstraint(
                condition=models.Q(role__in=[Role.COORDINATOR, Role.OBSERVER]),
                name="municipal_role_is_coordinator_or_observer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} ({self.municipality})"


class UnitManager(models.Model):
    """A person who manages a unit; a person may manage several units."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="managed_units", verbose_name=_("användare")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="managers", verbose_name=_("enhet")
    )
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)

    class Meta:
        verbose_name = _("enhetschef")
        verbose_name_plural = _("enhetschefer")
        constraints = [models.UniqueConstraint("user", "unit", name="manager_once_per_unit")]

    def __str__(self) -> str:
        return f"{self.user} – {self.unit}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Väntar på svar")
    ACCEPTED = "accepted", _("Accepterad")
    REVOKED = "revoked", _("Återkallad")
    EXPIRED = "expired", _("Har gått ut")


class Invitation(models.Model):
    """A single-use, expiring link that lets a person join with a role. Only a hash of the
    token is stored, so a database leak cannot be turned into working links."""

    email = models.EmailField(_("e-postadress"))
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="invitations"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="invitations", null=True, blank=True
    )
    role = models.CharField(_("roll"), max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Whether the link mail went out: handed to the mail server at sent_at, or refused for good
    # at send_failed_at with what the server said (its code and reply, never the mail). Neither:
    # still queued. A new link on the same invitation clears all three until it is sent.
    sent_at = models.DateTimeField(null=True, blank=True)
    send_failed_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("inbjudan")
        verbose_name_plural = _("inbjudningar")
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role=Role.MANAGER, unit__isnull=False))
                | (~models.Q(role=Role.MANAGER) & models.Q(unit__isnull=True)),
                name="invitation_unit_iff_manager",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @staticmethod
    def pending_at(now: dt.datetime) -> models.Q:
        """status_at's PENDING as a filter: not accepted, not revoked, not expired at ``now``."""
        return models.Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)

    def status_at(self, now: dt.datetime) -> str:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


class AuditEvent(models.Model):
    """Who changed what and when, for municipalities, units, memberships and invitations."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Kept even if the account is deleted later, so the trail stays readable.
    actor_email = models.EmailField(blank=True)
    # The trail outlives what it is about: deleting a municipality (in the admin, audited
    # there) must not take its own record with it.
    municipality = models.ForeignKey(
        Municipality, on_delete=models.SET_NULL, null=True, related_name="audit_events"
    )
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40)
    target_id = models.PositiveBigIntegerField(null=True)
    target_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("händelse i granskningsloggen")
        verbose_name_plural = _("granskningslogg")
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["municipality", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"


class RegionalObserver(models.Model):
    """Reads the aggregates of a set of municipalities side by side (a county administrative
    board, a national body, a research group): funnels and indicators, never unit pages or
    anything written about a unit. Granted by a superuser in the admin."""

    user = models.OneToOneField(
        User,
        on_delete=models.CASCADE,
        related_name="regional_observer",
        verbose_name=_("användare"),
    )
    organisation = models.CharField(
        _("organisation"), max_length=200, blank=True, validators=[validate_no_personal_data]
    )
    municipalities = models.ManyToManyField(
        Municipality, related_name="regional_observers", verbose_name=_("kommuner")
    )
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)

    class Meta:
        verbose_name = _("regional observatör")
        verbose_name_plural = _("regionala observatörer")

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})" if self.organisation else str(self.user)
