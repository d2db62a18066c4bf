"""The board report's pages (ask for one, follow the job, download it) and the unit's
certificate. Coordinators, observers and superusers of a municipality read the reports; only
coordinators (and superusers) ask for one. Whoever can read a unit downloads its certificate."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from rollout import certificates, reports
from rollout.forms import ReportPeriodForm
from rollout.models import BoardReport, Certificate, ReportStatus
from rollout.tasks import render_certificate
from units import access
from units.models import Municipality, User

REPORTS_PER_PAGE = 20


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _report(municipality: Municipality, report_pk: int) -> BoardReport:
    return get_object_or_404(
        BoardReport.objects.select_related("requested_by"),
        pk=report_pk,
        municipality=municipality,
    )


def _pdf(name: str, filename: str) -> FileResponse:
    if not name or not default_storage.exists(name):
        raise Http404
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/pdf",
    )


@require_http_methods(["GET", "POST"])
@login_required
def report_list(request: HttpRequest, pk: int) -> HttpResponse:
    today = timezone.localdate()
    if request.method == "POST":
        municipality = access.get_rw_municipality_for_user(request.user, pk)
        form = ReportPeriodForm(request.POST, today=today)
        language = request.POST.get("language", "")
        if form.is_valid():
            # An unknown language (a hand-made request) falls back to Swedish, the default.
            report = reports.board_report_request(
                actor=_user(request),
                municipality=municipality,
                language=language if language in reports.LANGUAGES else settings.LANGUAGE_CODE,
                period=form.period,
            )
            return redirect("rollout:report", pk=municipality.pk, report_pk=report.pk)
    else:
        municipality = access.get_municipality_for_user(request.user, pk)
        form = ReportPeriodForm(today=today)
    page = Paginator(
        BoardReport.objects.filter(municipality=municipality).select_related("requested_by"),
        REPORTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "rollout/report/list.html",
        {
            "municipality": municipality,
            "is_coordinator": access.is_coordinator_of(request.user, municipality.pk),
            "page": page,
            "form": form,
            "chosen_language": request.POST.get("language", ""),
            "languages": settings.LANGUAGES,
            "stale": {report.pk for report in page.object_list if reports.is_stale(report)},
        },
    )


@require_GET
@login_required
def report_detail(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    municipality = access.get_municipality_for_user(request.user, pk)
    report = _report(municipality, report_pk)
    stale = reports.is_stale(report)
    # A job given up as stale is shown as failed: asking again starts a new one.
    status = ReportStatus.FAILED if stale else ReportStatus(report.status)
    polled = request.headers.get("HX-Request") == "true"
    if polled and request.GET.get("sett") == status:
        # Nothing new: htmx keeps the block as it is, and screen readers hear nothing again.
        return HttpResponse(status=204)
    context = {
        "municipality": municipality,
        "report": report,
        "is_coordinator": access.is_coordinator_of(request.user, municipality.pk),
        "status": status.value,
        "status_label": status.label,
        "running": status in reports.RUNNING,
        "failed": status == ReportStatus.FAILED,
        "stale": stale,
        "stale_minutes": int(reports.STALE_AFTER.total_seconds() // 60),
    }
    # htmx polls only the status block; without JavaScript the whole page is reloaded.
    template = "rollout/report/detail.html#status" if polled else "rollout/report/detail.html"
    return render(request, template, context)


@require_GET
@login_required
def report_pdf(request: HttpRequest, pk: int, report_pk: int) -> FileResponse:
    municipality = access.get_municipality_for_user(request.user, pk)
    report = _report(municipality, report_pk)
    if report.status != ReportStatus.DONE:
        raise Http404
    day = timezone.localdate(report.requested_at)
    return _pdf(report.file, f"rapport-{municipality.slug}-{day:%Y-%m-%d}-{report.language}.pdf")


@require_GET
@login_required
def certificate(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    unit = access.get_unit_for_user(request.user, pk)
    rollout = certificates.latest_completed(unit=unit)
    if rollout is None:
        raise Http404
    found = certificates.certificate_of(rollout)
    if not certificates.is_ready(found) and certificates.needs_render(found):
        # E.g. a round completed before certificates existed. In-process when tasks run eagerly.
        render_certificate.delay_on_commit(rollout.pk)  # type: ignore[attr-defined]
        found = Certificate.objects.filter(rollout=rollout).first()
    if found is None or not certificates.is_ready(found):
        return render(
            request,
            "rollout/report/certificate_pending.html",
            {"unit": unit, "rollout": rollout},
            status=202,
        )
    return _pdf(found.file, f"intyg-{unit.pk}-omgang-{rollout.round}.pdf")
