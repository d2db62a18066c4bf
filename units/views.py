"""Pages for units, people and invitations. Thin: access helper → form → service → redirect."""

from collections.abc import Sequence

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jarfalla.collation import swedish
from units import (
    access,
    audit_display,
    imports,
    invitation_imports,
    pagecache,
    sections,
    selectors,
    services,
)
from units.forms import (
    MUNICIPAL_ROLE_CHOICES,
    AcceptInvitationForm,
    InviteForm,
    InviteImportForm,
    ManagerUnitForm,
    MunicipalityForm,
    SectorForm,
    UnitFilterForm,
    UnitForm,
    UnitImportForm,
)
from units.models import Municipality, MunicipalRole, Role, UnitManager, User

UNITS_PER_PAGE = 25
# Rows with errors linked from the preview's summary; the table shows them all.
IMPORT_ERRORS_LISTED = 50
EVENTS_PER_PAGE = 50
INVITATIONS_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _single(queryset: QuerySet[Municipality]) -> Municipality | None:
    """The one municipality, when there is exactly one (where to create a unit)."""
    first_two = list(queryset[:2])
    return first_two[0] if len(first_two) == 1 else None


# --- Units ----------------------------------------------------------------------------------


@require_GET
@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    roles = access.roles_of(request.user)
    filters = UnitFilterForm(
        request.GET or None, sectors=selectors.sectors_for_filter(user=request.user)
    )
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    sort = request.GET.get("sort", "name")
    only_manager = not roles.sees_municipality
    units = selectors.unit_list(
        user=request.user,
        query=cleaned.get("q", ""),
        sector=cleaned.get("sector"),
        kind=cleaned.get("kind", ""),
        # A manager has no filter to find an archived unit by, and is still its manager: it
        # stays in their list (marked archived) instead of seeming to be gone.
        status=cleaned.get("status") or ("all" if only_manager else "active"),
        sort=sort if sort in selectors.UNIT_SORTS else "name",
    )
    page = Paginator(units, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "units/unit_list.html",
        {
            "page": page,
            "filters": filters,
            "sort": sort,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "roles": roles,
            "only_manager": only_manager,
            # Where each of their units stands in the model (added by rollout): a manager has
            # no dashboard to see it on.
            "list_columns": sections.list_columns() if only_manager else [],
            "rows": (
                sections.for_unit_list(list(page.object_list))
                if only_manager
                else [(unit, []) for unit in page.object_list]
            ),
            "create_in": _single(access.coordinated_municipalities(request.user)),
        },
    )


@require_GET
@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    municipality_id = access.check_unit_for_user(request.user, pk)
    return pagecache.page(
        request,
        scope=pagecache.municipality(municipality_id),
        render=lambda: _unit_detail(request, pk),
    )


def _unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_user(request.user, pk)
    is_coordinator = access.is_coordinator_of(request.user, unit.municipality_id)
    return render(
        request,
        "units/unit_detail.html",
        {
            "unit": unit,
            "is_coordinator": is_coordinator,
            "can_edit": access.can_write_unit(request.user, unit),
            "managers": selectors.unit_managers(unit=unit) if is_coordinator else None,
            "invitations": (
                selectors.pending_invitations(municipality=unit.municipality, unit=unit)
                if is_coordinator
                else None
            ),
            "now": timezone.now(),
            "sections": sections.for_unit(request, unit),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def unit_create(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    form = UnitForm(request.POST or None, municipality=municipality)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(
                actor=_user(request), municipality=municipality, **form.unit_fields()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Enheten %(name)s är skapad.") % {"name": unit.name})
            return redirect("units:detail", pk=unit.pk)
    return render(
        request,
        "units/unit_form.html",
        {"form": form, "municipality": municipality, "unit": None},
    )


@require_http_methods(["GET", "POST"])
@login_required
def unit_import(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    """Step 1: the file is read and every row checked and shown; nothing is saved."""
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    if request.method == "POST":
        form = UnitImportForm(request.POST, request.FILES)
        if form.is_valid():
            parsed: imports.ParsedFile = form.cleaned_data["file"]
            rows = imports.check(municipality=municipality, rows=parsed.rows)
            return _import_preview(request, municipality, rows, ignored=parsed.ignored_columns)
    else:
        form = UnitImportForm()
    return _import_page(request, municipality, form)


@require_POST
@login_required
def unit_import_confirm(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    """Step 2: the previewed rows, checked again and created in one go."""
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    try:
        rows = imports.unsign(
            municipality_id=municipality.pk, payload=request.POST.get("payload", "")
        )
    except signing.BadSignature:  # also an expired one
        refused = _preview_gone()
        return _import_page(request, municipality, UnitImportForm(), refused=refused, status=400)
    try:
        created = services.units_import(actor=_user(request), municipality=municipality, rows=rows)
    except imports.ImportRowsError as error:
        return _import_preview(request, municipality, error.rows, changed=True)
    except IntegrityError:
        # A unit of the same name was created at the same moment: show how things stand now.
        rows_now = imports.check(municipality=municipality, rows=rows)
        return _import_preview(request, municipality, rows_now, changed=True)
    if created:
        messages.success(
            request,
            ngettext(
                "%(count)s enhet har importerats.",
                "%(count)s enheter har importerats.",
                len(created),
            )
            % {"count": len(created)},
        )
    else:
        messages.info(request, _("Inga nya enheter importerades: alla fanns redan."))
    return redirect("units:list")


@require_GET
@login_required
def unit_import_template(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    return _csv_template(imports.template_csv(municipality=municipality), "enheter-mall.csv")


def _import_page(
    request: HttpRequest,
    municipality: Municipality,
    form: UnitImportForm,
    *,
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "units/import.html",
        {
            "municipality": municipality,
            "form": form,
            "refused": refused,
            "sectors": municipality.sectors.filter(is_active=True),
        },
        status=status,
    )


def _import_preview(
    request: HttpRequest,
    municipality: Municipality,
    rows: Sequence[imports.CheckedRow],
    *,
    ignored: list[str] | None = None,
    changed: bool = False,
) -> HttpResponse:
    statuses = [row.status for row in rows]
    new_count = statuses.count(imports.RowStatus.NEW)
    return _preview_page(
        request,
        "units/import_preview.html",
        municipality,
        rows,
        spec=imports.UNITS,
        adds=new_count,
        form=UnitImportForm(),
        ignored=ignored,
        changed=changed,
        urls=(
            reverse("units:import_confirm", args=[municipality.pk]),
            reverse("units:import", args=[municipality.pk]),
            reverse("units:list"),
        ),
        new_count=new_count,
        exists_count=statuses.count(imports.RowStatus.EXISTS),
    )


def _preview_page(
    request: HttpRequest,
    template: str,
    municipality: Municipality,
    rows: Sequence[imports.CheckedRow] | Sequence[invitation_imports.InviteRow],
    *,
    spec: imports.FileSpec,
    adds: int,
    form: forms.Form,
    ignored: list[str] | None,
    changed: bool,
    urls: tuple[str, str, str],
    **counts: int,
) -> HttpResponse:
    """The preview of either import (templates/units/_import_preview_layout.html): every row,
    the rows with errors (the first IMPORT_ERRORS_LISTED linked from the summary), and the rows
    signed for the confirmation, only for a file without errors that ``adds`` something.
    ``urls``: where to confirm, to upload again and to go back."""
    error_rows = [row for row in rows if row.errors]
    confirm_url, upload_url, cancel_url = urls
    return render(
        request,
        template,
        {
            "municipality": municipality,
            "rows": rows,
            "columns": spec.columns,
            "ignored": ignored or [],
            "changed": changed,
            "error_rows": error_rows[:IMPORT_ERRORS_LISTED],
            "error_count": len(error_rows),
            "errors_not_listed": max(len(error_rows) - IMPORT_ERRORS_LISTED, 0),
            "payload": (
                imports.sign(
                    municipality_id=municipality.pk, rows=[row.raw for row in rows], spec=spec
                )
                if adds and not error_rows
                else ""
            ),
            "form": form,
            "confirm_url": confirm_url,
            "upload_url": upload_url,
            "cancel_url": cancel_url,
            **counts,
        },
    )


def _csv_template(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _preview_gone() -> str:
    return _("Förhandsgranskningen har gått ut eller ändrats. Ladda upp filen igen.")


# --- Unit managers invited from a file (units.invitation_imports) ----------------------------


@require_http_methods(["GET", "POST"])
@login_required
def invite_import(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    """Step 1: the file is read and every row checked and shown; nothing is saved or sent."""
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    if request.method == "POST":
        form = InviteImportForm(request.POST, request.FILES)
        if form.is_valid():
            parsed: imports.ParsedFile = form.cleaned_data["file"]
            rows = invitation_imports.check(municipality=municipality, rows=parsed.rows)
            return _invite_import_preview(
                request, municipality, rows, ignored=parsed.ignored_columns
            )
    else:
        form = InviteImportForm()
    return _invite_import_page(request, municipality, form)


@require_POST
@login_required
def invite_import_confirm(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    """Step 2: the previewed rows, checked again; the invitations are created in one go and
    mailed by a task."""
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    try:
        preview = imports.unsign_preview(
            municipality_id=municipality.pk,
            payload=request.POST.get("payload", ""),
            spec=invitation_imports.SPEC,
        )
    except signing.BadSignature:  # also an expired one
        refused = _preview_gone()
        return _invite_import_page(
            request, municipality, InviteImportForm(), refused=refused, status=400
        )
    try:
        created = services.invitations_import(
            actor=_user(request),
            municipality=municipality,
            rows=preview.rows,
            previewed_at=preview.signed_at,
        )
    except imports.ImportRowsError as error:
        return _invite_import_preview(request, municipality, error.rows, changed=True)
    if created:
        messages.success(
            request,
            ngettext("%(count)s inbjudan skickas.", "%(count)s inbjudningar skickas.", len(created))
            % {"count": len(created)},
        )
    else:
        messages.info(
            request, _("Inga nya inbjudningar skickades: alla i filen har redan fått en.")
        )
    return redirect("units:people", municipality_pk=municipality.pk)


@require_GET
@login_required
def invite_import_template(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    return _csv_template(
        invitation_imports.template_csv(municipality=municipality), "enhetschefer-mall.csv"
    )


def _invite_import_page(
    request: HttpRequest,
    municipality: Municipality,
    form: InviteImportForm,
    *,
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "units/invite_import.html",
        {"municipality": municipality, "form": form, "refused": refused},
        status=status,
    )


def _invite_import_preview(
    request: HttpRequest,
    municipality: Municipality,
    rows: Sequence[invitation_imports.InviteRow],
    *,
    ignored: list[str] | None = None,
    changed: bool = False,
) -> HttpResponse:
    statuses = [row.status for row in rows]
    send_count = sum(statuses.count(status) for status in invitation_imports.SENDS)
    errors = statuses.count(invitation_imports.InviteStatus.ERROR)
    return _preview_page(
        request,
        "units/invite_import_preview.html",
        municipality,
        rows,
        spec=invitation_imports.SPEC,
        adds=send_count,
        form=InviteImportForm(),
        ignored=ignored,
        changed=changed,
        urls=(
            reverse("units:invite_import_confirm", args=[municipality.pk]),
            reverse("units:invite_import", args=[municipality.pk]),
            reverse("units:people", args=[municipality.pk]),
        ),
        send_count=send_count,
        skip_count=len(rows) - send_count - errors,
    )


@require_http_methods(["GET", "POST"])
@login_required
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_rw_unit_for_user(request.user, pk)
    is_coordinator = access.is_coordinator_of(request.user, unit.municipality_id)
    form: UnitForm | ManagerUnitForm
    if is_coordinator:
        form = UnitForm(request.POST or None, instance=unit, municipality=unit.municipality)
    else:
        form = ManagerUnitForm(request.POST or None, instance=unit)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(actor=_user(request), unit=unit, **form.unit_fields())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Ändringarna är sparade."))
            return redirect("units:detail", pk=unit.pk)
    return render(
        request,
        "units/unit_form.html",
        {"form": form, "municipality": unit.municipality, "unit": unit},
    )


@require_http_methods(["GET", "POST"])
@login_required
def unit_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what archiving will stop, with the button that does it (restoring needs no
    confirmation: it stops nothing). POST: archive (archive=1) or restore, then say what
    happened."""
    unit = access.get_unit_for_coordinator(request.user, pk)
    if request.method == "GET":
        if not unit.is_active:
            return redirect("units:detail", pk=unit.pk)
        return render(
            request,
            "units/archive_confirm.html",
            {"unit": unit, "consequences": services.unit_archive_preview(unit=unit)},
        )
    archive = request.POST.get("archive") == "1"
    stopped = services.unit_set_archived(actor=_user(request), unit=unit, archived=archive)
    if archive:
        done = [_("Enheten är arkiverad. Den finns kvar i historiken."), *(c.text for c in stopped)]
        messages.success(request, " ".join(str(sentence) for sentence in done))
    else:
        messages.success(request, _("Enheten är aktiv igen."))
    return redirect("units:detail", pk=unit.pk)


@require_http_methods(["GET", "POST"])
@login_required
def unit_invite_manager(request: HttpRequest, pk: int) -> HttpResponse:
    unit = access.get_unit_for_coordinator(request.user, pk)
    if not unit.is_active:
        messages.error(request, services.ARCHIVED_UNIT_INVITATION)
        return redirect("units:detail", pk=unit.pk)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        existing = User.objects.filter(email__iexact=email).first()
        if existing and not existing.is_active:
            form.add_error("email", invitation_imports.deactivated_account(email.lower()))
        elif existing and UnitManager.objects.filter(unit=unit, user=existing).exists():
            form.add_error("email", _("Personen är redan enhetschef för enheten."))
        else:
            invitation, _token = services.invitation_create(
                actor=_user(request),
                email=email,
                municipality=unit.municipality,
                role=Role.MANAGER,
                unit=unit,
            )
            _say_whether_sent(
                request,
                invitation,
                _("En inbjudan har skickats till %(email)s.") % {"email": email},
            )
            return redirect("units:detail", pk=unit.pk)
    return render(request, "units/invite_form.html", {"form": form, "unit": unit})


@require_http_methods(["GET", "POST"])
@login_required
def unit_manager_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    """GET: who loses what, with the button that does it. POST: remove."""
    unit = access.get_unit_for_coordinator(request.user, pk)
    membership = get_object_or_404(
        UnitManager.objects.select_related("user"), pk=membership_pk, unit=unit
    )
    if request.method == "GET":
        person = membership.user
        return render(
            request,
            "units/manager_remove_confirm.html",
            {
                "unit": unit,
                "membership": membership,
                # Only what this coordinator may see: the municipality's own units and roles.
                "other_units": _unit_names(
                    UnitManager.objects.filter(
                        user=person, unit__municipality_id=unit.municipality_id
                    ).exclude(pk=membership.pk)
                ),
                "municipal_role": MunicipalRole.objects.filter(
                    user=person, municipality_id=unit.municipality_id
                ).first(),
                "last_manager": not UnitManager.objects.filter(unit=unit)
                .exclude(pk=membership.pk)
                .exists(),
            },
        )
    services.manager_remove(actor=_user(request), membership=membership)
    messages.success(
        request,
        _("%(email)s är inte längre enhetschef för enheten.") % {"email": membership.user.email},
    )
    return redirect("units:detail", pk=unit.pk)


def _unit_names(memberships: QuerySet[UnitManager]) -> list[str]:
    return list(memberships.order_by(swedish("unit__name")).values_list("unit__name", flat=True))


# --- The municipality's people, invitations and audit trail ---------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def municipality_people(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    form = InviteForm(request.POST or None, roles=MUNICIPAL_ROLE_CHOICES)
    if request.method == "POST" and form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        held = set(
            MunicipalRole.objects.filter(
                municipality=municipality, user__email__iexact=email
            ).values_list("role", flat=True)
        )
        if selectors.deactivated_address(email=email):
            # As the manager form and invitation_accept: a role for an account that cannot
            # sign in would be a dead end.
            form.add_error("email", invitation_imports.deactivated_account(email.lower()))
        elif role in held:
            form.add_error("email", _("Personen har redan den rollen i kommunen."))
        elif Role.COORDINATOR in held:
            form.add_error(
                "email",
                _("Personen är samordnare i kommunen. Ta bort rollen först om hen bara ska läsa."),
            )
        else:
            invitation, _token = services.invitation_create(
                actor=_user(request), email=email, municipality=municipality, role=role
            )
            _say_whether_sent(
                request,
                invitation,
                _("En inbjudan har skickats till %(email)s.") % {"email": email},
            )
            return redirect("units:people", municipality_pk=municipality.pk)
    # Every unanswered invitation of the municipality, unit managers' too: thousands while a
    # large municipality invites its units. Those whose mail was refused lead the list and are
    # counted at the top, so the few after an import are not lost among the rest.
    now = timezone.now()
    page = Paginator(
        selectors.pending_invitations_failed_first(municipality=municipality, now=now),
        INVITATIONS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "units/people.html",
        {
            "municipality": municipality,
            "people": selectors.municipal_people(municipality=municipality),
            "page": page,
            "invitations": page.object_list,
            "failed_count": selectors.failed_invitations(
                municipality_ids=[municipality.pk], now=now
            ).count(),
            "form": form,
            "now": now,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def municipal_role_remove(request: HttpRequest, municipality_pk: int, pk: int) -> HttpResponse:
    """GET: who loses what (or why the last coordinator stays), with the button that does it.
    POST: remove; the service refuses the last coordinator under a lock."""
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    membership = get_object_or_404(
        MunicipalRole.objects.select_related("user"), pk=pk, municipality=municipality
    )
    if request.method == "GET":
        person = membership.user
        return render(
            request,
            "units/role_remove_confirm.html",
            {
                "municipality": municipality,
                "membership": membership,
                "is_self": person.pk == request.user.pk,
                "is_coordinator_role": membership.role == Role.COORDINATOR,
                "last_coordinator": membership.role == Role.COORDINATOR
                and not MunicipalRole.objects.filter(
                    municipality=municipality, role=Role.COORDINATOR
                )
                .exclude(pk=membership.pk)
                .exists(),
                "managed_units": _unit_names(
                    UnitManager.objects.filter(user=person, unit__municipality=municipality)
                ),
            },
        )
    try:
        services.municipal_role_remove(actor=_user(request), membership=membership)
    except services.LastCoordinatorError:
        messages.error(
            request, _("Kommunen måste ha minst en samordnare. Bjud in en ny samordnare först.")
        )
    else:
        messages.success(
            request,
            _("%(email)s har inte längre någon roll i kommunen.")
            % {"email": membership.user.email},
        )
    return redirect("units:people", municipality_pk=municipality.pk)


@require_POST
@login_required
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = access.get_invitation_for_coordinator(request.user, pk)
    try:
        services.invitation_revoke(actor=_user(request), invitation=invitation)
    except services.InvitationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Inbjudan till %(email)s är återkallad.") % {"email": invitation.email}
        )
    return _back_to_invitation_owner(invitation)


@require_POST
@login_required
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = access.get_invitation_for_coordinator(request.user, pk)
    try:
        resent, _token = services.invitation_resend(actor=_user(request), invitation=invitation)
    except services.InvitationError as error:
        messages.error(request, str(error))
    else:
        _say_whether_sent(
            request,
            resent,
            _(
                "En ny inbjudan har skickats till %(email)s. Den tidigare länken fungerar inte längre."
            )
            % {"email": invitation.email},
        )
    return _back_to_invitation_owner(invitation)


def _say_whether_sent(request: HttpRequest, invitation: "services.Invitation", sent: str) -> None:
    """The invitation services send on commit and record the outcome on the invitation: a
    refused mail is said in words, with the way to try again, instead of the success."""
    if invitation.send_failed_at is None:
        messages.success(request, sent)
        return
    messages.error(
        request,
        _(
            "Inbjudan till %(email)s kunde inte skickas: %(reason)s. "
            "Försök igen med ”Skicka ny länk”."
        )
        % {
            "email": invitation.email,
            "reason": invitation.send_error or _("e-postservern gick inte att nå"),
        },
    )


def _back_to_invitation_owner(invitation: "services.Invitation") -> HttpResponse:
    if invitation.unit_id:
        return redirect("units:detail", pk=invitation.unit_id)
    return redirect("units:people", municipality_pk=invitation.municipality_id)


@require_http_methods(["GET", "POST"])
@login_required
def municipality_settings(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    form = MunicipalityForm(request.POST or None, instance=municipality)
    sector_form = SectorForm(None, municipality=municipality)
    if request.method == "POST" and form.is_valid():
        services.municipality_update(
            actor=_user(request), municipality=municipality, **form.municipality_fields()
        )
        messages.success(request, _("Kommunens inställningar är sparade."))
        return redirect("units:settings", municipality_pk=municipality.pk)
    return _settings_page(request, municipality, form, sector_form)


def _settings_page(
    request: HttpRequest,
    municipality: Municipality,
    form: MunicipalityForm,
    sector_form: SectorForm,
) -> HttpResponse:
    return render(
        request,
        "units/settings.html",
        {
            "municipality": municipality,
            "form": form,
            "sector_form": sector_form,
            "sectors": municipality.sectors.order_by("-is_active", swedish("name"), "pk"),
        },
    )


@require_POST
@login_required
def sector_create(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    sector_form = SectorForm(request.POST, municipality=municipality)
    if sector_form.is_valid():
        services.sector_create(
            actor=_user(request), municipality=municipality, name=sector_form.cleaned_data["name"]
        )
        messages.success(request, _("Sektorn är tillagd."))
        return redirect("units:settings", municipality_pk=municipality.pk)
    return _settings_page(
        request, municipality, MunicipalityForm(instance=municipality), sector_form
    )


@require_POST
@login_required
def sector_toggle(request: HttpRequest, municipality_pk: int, pk: int) -> HttpResponse:
    sector = access.get_sector_for_coordinator(request.user, municipality_pk, pk)
    services.sector_update(
        actor=_user(request), sector=sector, name=sector.name, is_active=not sector.is_active
    )
    if sector.is_active:
        messages.success(request, _("Sektorn %(name)s används igen.") % {"name": sector.name})
    else:
        messages.success(
            request,
            _("Sektorn %(name)s används inte längre för nya enheter.") % {"name": sector.name},
        )
    return redirect("units:settings", municipality_pk=municipality_pk)


@require_GET
@login_required
def municipality_audit(request: HttpRequest, municipality_pk: int) -> HttpResponse:
    municipality = access.get_rw_municipality_for_user(request.user, municipality_pk)
    page = Paginator(selectors.audit_events(municipality=municipality), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "units/audit.html",
        {
            "municipality": municipality,
            "page": page,
            "rows": audit_display.rows(list(page.object_list)),
        },
    )


# --- Accepting an invitation (no login needed: the link is the credential) ------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token)
    except services.InvitationError as error:
        return render(request, "units/invitation_invalid.html", {"reason": str(error)}, status=410)
    signed_in = _user(request) if request.user.is_authenticated else None
    if signed_in is not None and signed_in.email.lower() != invitation.email.lower():
        # Said before anyone chooses a password (the service refuses it anyway): the link is
        # for another address, so log out first and come back to it.
        return render(
            request,
            "units/invitation_signed_in_as_other.html",
            {"invitation": invitation, "signed_in": signed_in},
            status=409 if request.method == "POST" else 200,
        )
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    form = (
        None if has_account else AcceptInvitationForm(request.POST or None, email=invitation.email)
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        current = request.user if request.user.is_authenticated else None
        try:
            with transaction.atomic():
                user = services.invitation_accept(
                    token=token,
                    password=form.cleaned_data["password1"] if form else None,
                    current_user=current,  # type: ignore[arg-type]
                )
        except services.InvitationError as error:
            return render(
                request, "units/invitation_invalid.html", {"reason": str(error)}, status=410
            )
        if has_account and current is None:
            messages.success(
                request, _("Inbjudan är accepterad. Logga in med ditt vanliga lösenord.")
            )
            return redirect("account_login")
        login(request, user, backend="units.backends.ModelBackend")
        messages.success(request, _("Välkommen! Inbjudan är accepterad."))
        return redirect("home")
    return render(
        request,
        "units/invitation_accept.html",
        {"invitation": invitation, "form": form, "has_account": has_account},
    )
