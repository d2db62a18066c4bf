"""Step 3: templates, versions with optimistic locking, approval by both roles, implementation,
safe formatting, comparison and the PDF."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus, TimelineEvent
from routines import pdf, services
from routines.models import ReferenceEntry, Routine, RoutineStatus
from routines.text import diff, render
from units.models import Unit, User


@pytest.fixture
def rollout(coordinator: User, unit_a: Unit) -> Rollout:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=rollout, step=step)
    return rollout


@pytest.fixture
def routine(rollout: Rollout, manager_a: User) -> Routine:
    return services.routine_start(actor=manager_a, rollout=rollout)


def sections_of(routine: Routine) -> dict[str, str]:
    return dict(routine.versions.get(number=routine.current_version).sections)


def implement(routine: Routine, manager: User, where: str = "VP 2027, 4.2") -> bool:
    """The manager writes the approved routine into the business plan today."""
    today = timezone.localdate()
    return services.routine_implement(
        actor=manager,
        routine=routine,
        implemented_on=today,
        business_plan_location=where,
        staff_informed_on=today,
    )


def approve_both(routine: Routine, manager: User, coordinator: User) -> None:
    services.routine_send_for_review(actor=manager, routine=routine)
    services.routine_approve(
        actor=manager, routine=routine, version=routine.current_version, as_coordinator=False
    )
    services.routine_approve(
        actor=coordinator, routine=routine, version=routine.current_version, as_coordinator=True
    )


@pytest.mark.django_db
def test_template_follows_the_duty_to_report(
    rollout: Rollout, manager_a: User, coordinator: User, unit_b: Unit
) -> None:
    routine = services.routine_start(actor=manager_a, rollout=rollout)
    assert routine.template is not None
    assert routine.template.for_duty_to_report is True
    assert "skyldig att genast anmäla" in sections_of(routine)["report"]
    unit_b.duty_to_report = False
    unit_b.save()
    other = engine.rollout_start(actor=coordinator, unit=unit_b)
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=other, step=step)
    association = services.routine_start(actor=coordinator, rollout=other)
    assert association.template is not None
    assert association.template.for_duty_to_report is False
    assert "uppmanas att anmäla" in sections_of(association)["report"]


@pytest.mark.django_db
def test_every_save_is_a_version_and_a_stale_save_is_refused(
    routine: Routine, manager_a: User, coordinator: User
) -> None:
    base = routine.current_version
    mine = sections_of(routine) | {"signs": "Manager's text"}
    theirs = sections_of(routine) | {"consult": "Coordinator's text"}
    services.routine_save(actor=coordinator, routine=routine, base_version=base, sections=theirs)
    with pytest.raises(services.RoutineConflict) as conflict:
        services.routine_save(actor=manager_a, routine=routine, base_version=base, sections=mine)
    assert conflict.value.current.number == base + 1
    routine.refresh_from_db()
    assert routine.current_version == base + 1
    assert sections_of(routine)["consult"] == "Coordinator's text"  # the newer save survived
    # Building on the newer version works and keeps both changes.
    services.routine_save(
        actor=manager_a,
        routine=routine,
        base_version=base + 1,
        sections=theirs | {"signs": "Manager's text"},
    )
    routine.refresh_from_db()
    merged = sections_of(routine)
    assert (merged["signs"], merged["consult"], routine.current_version) == (
        "Manager's text",
        "Coordinator's text",
        base + 2,
    )


@pytest.mark.django_db
def test_both_must_approve_the_current_version(
    routine: Routine, manager_a: User, coordinator: User
) -> None:
    services.routine_send_for_review(actor=manager_a, routine=routine)
    services.routine_approve(actor=manager_a, routine=routine, version=1, as_coordinator=False)
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.REVIEW
    services.routine_save(
        actor=manager_a,
        routine=routine,
        base_version=1,
        sections=sections_of(routine) | {"review": "Varje år i maj."},
    )
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.DRAFT
    services.routine_send_for_review(actor=manager_a, routine=routine)
    with pytest.raises(engine.RolloutError, match="den senaste är version 2"):
        services.routine_approve(actor=coordinator, routine=routine, version=1, as_coordinator=True)
    services.routine_approve(actor=coordinator, routine=routine, version=2, as_coordinator=True)
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.REVIEW  # the manager approved version 1, not 2
    services.routine_approve(actor=manager_a, routine=routine, version=2, as_coordinator=False)
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.APPROVED


@pytest.mark.django_db
def test_implementation_needs_approval_and_completes_step_3(
    routine: Routine, manager_a: User, coordinator: User, rollout: Rollout
) -> None:
    with pytest.raises(engine.RolloutError, match="godkänd av både"):
        implement(routine, manager_a)
    approve_both(routine, manager_a, coordinator)
    assert implement(routine, manager_a)
    assert StepState.objects.get(rollout=rollout, step=Step.ROUTINES).status == StepStatus.DONE
    assert (
        StepState.objects.get(rollout=rollout, step=Step.FOLLOW_UP).status == StepStatus.IN_PROGRESS
    )
    with pytest.raises(engine.RolloutError, match="Påbörja en ny version"):
        services.routine_save(
            actor=manager_a,
            routine=routine,
            base_version=routine.current_version,
            sections=sections_of(routine),
        )
    services.routine_revise(actor=manager_a, routine=routine)
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.DRAFT


def test_formatting_is_safe_and_simple() -> None:
    html = render(
        "Hej <script>alert(1)</script> **viktigt**\n\n- ett\n- två\n\n1. först\n2. sedan\n\n<img src=http://x.example/a.png>"
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img" not in html
    assert "<strong>viktigt</strong>" in html
    assert "<ul><li>ett</li><li>två</li></ul>" in html
    assert "<ol><li>först</li><li>sedan</li></ol>" in html
    assert (
        render("Ring [[socialtjanst]] eller [[okand]]", {"socialtjanst": "08-123 <b>"})
        == "<p>Ring 08-123 &lt;b&gt; eller [[okand]]</p>"
    )


def test_comparison_marks_removed_and_added_words_in_text_too() -> None:
    html = diff("Ring socialtjänsten direkt", "Ring socialjouren direkt <b>")
    assert "<del>" in html
    assert "<ins>" in html
    assert "[borttaget: </span>socialtjänsten" in html
    assert "[tillagt: </span>socialjouren" in html
    assert "&lt;b&gt;" in html


@pytest.mark.django_db
def test_pdf_contains_the_routine_with_reference_data_and_is_cached(
    routine: Routine, manager_a: User, coordinator: User, unit_a: Unit, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    services.references_ensure_defaults(municipality=unit_a.municipality)
    ReferenceEntry.objects.filter(municipality=unit_a.municipality, key="socialtjanst").update(
        value="08-580 000 00"
    )
    approve_both(routine, manager_a, coordinator)
    version = routine.versions.get(number=routine.current_version)
    content = pdf.build_pdf(version)
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Rutin mot hedersrelaterat våld och förtryck" in text
    assert unit_a.name in text
    assert "08-580 000 00" in text
    assert "Sida 1 av" in text
    assert reader.metadata is not None
    assert "/StructTreeRoot" in reader.root_object  # tagged PDF
    assert pdf.cached_pdf(version) == content
    assert (tmp_path / pdf.cache_name(version)).exists()


@pytest.mark.django_db
def test_the_pdf_follows_implementation_and_reference_data_changed_after_the_version(
    routine: Routine, manager_a: User, coordinator: User, unit_a: Unit, settings, tmp_path
) -> None:
    """A version's document also shows the implementation and the municipality's reference
    data; a PDF made before they changed must not be served after."""
    settings.MEDIA_ROOT = tmp_path
    services.references_ensure_defaults(municipality=unit_a.municipality)
    phone = ReferenceEntry.objects.filter(municipality=unit_a.municipality, key="socialtjanst")
    phone.update(value="08-580 000 00")
    approve_both(routine, manager_a, coordinator)
    version = routine.versions.get(number=routine.current_version)
    before = pdf_text(pdf.build_pdf(version))
    assert "08-580 000 00" in before
    assert "VP 2027, 4.2" not in before

    implement(routine, manager_a)
    phone.update(value="08-580 111 11")
    after = pdf_text(pdf.build_pdf(version))
    assert "VP 2027, 4.2" in after  # Verksamhetsplan, from the implementation
    assert f"Införd {timezone.localdate():%Y-%m-%d}" in after
    assert "08-580 111 11" in after
    assert "08-580 000 00" not in after
    assert pdf_text(pdf.cached_pdf(version) or b"") == after


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.mark.django_db
def test_pdf_download_and_print_page(
    client: Client, routine: Routine, manager_a: User, unit_a: Unit, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager_a)
    response = client.get(reverse("routines:pdf", args=[unit_a.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    page = client.get(reverse("routines:document", args=[unit_a.pk])).content.decode()
    assert '<html lang="sv">' in page
    assert "Så agerar du, steg för steg" in page


@pytest.mark.django_db
def test_conflict_in_the_edit_form_keeps_both_texts(
    client: Client, routine: Routine, manager_a: User, coordinator: User, unit_a: Unit
) -> None:
    url = reverse("routines:edit", args=[unit_a.pk])
    base = sections_of(routine)
    other = Client()
    other.force_login(coordinator)
    other.post(url, base | {"base_version": "1", "consult": "Ring samordnaren först."})
    client.force_login(manager_a)
    response = client.post(url, base | {"base_version": "1", "signs": "Mina nya tecken."})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Någon annan sparade version 2" in html
    assert "Ring samordnaren först." in html  # their change, shown
    assert "Mina nya tecken." in html  # my text, kept in the form
    assert 'name="base_version" value="2"' in html
    routine.refresh_from_db()
    assert routine.current_version == 2
    saved = client.post(
        url,
        base
        | {"base_version": "2", "signs": "Mina nya tecken.", "consult": "Ring samordnaren först."},
    )
    assert saved.status_code == 302
    routine.refresh_from_db()
    final = sections_of(routine)
    assert (final["signs"], final["consult"]) == ("Mina nya tecken.", "Ring samordnaren först.")
    assert TimelineEvent.objects.filter(kind="routine.saved").count() == 2


@pytest.mark.django_db
def test_personal_data_in_a_section_is_refused(
    client: Client, routine: Routine, manager_a: User, unit_a: Unit
) -> None:
    client.force_login(manager_a)
    response = client.post(
        reverse("routines:edit", args=[unit_a.pk]),
        sections_of(routine) | {"base_version": "1", "actions": "Som med eleven 811218-9876"},
    )
    assert "personnummer" in response.content.decode()
    routine.refresh_from_db()
    assert routine.current_version == 1


@pytest.mark.django_db
def test_published_example_is_shown_to_units_of_the_same_sector(
    client: Client,
    routine: Routine,
    manager_a: User,
    manager_b: User,
    coordinator: User,
    unit_a: Unit,
    unit_b: Unit,
) -> None:
    approve_both(routine, manager_a, coordinator)
    services.routine_publish(actor=coordinator, routine=routine, published=True)
    unit_b.sector = unit_a.sector
    unit_b.save()
    client.force_login(manager_b)
    page = client.get(reverse("routines:routine", args=[unit_b.pk])).content.decode()
    assert "Exempel från enheter i samma sektor" in page
    assert client.get(reverse("routines:example", args=[routine.pk])).status_code == 200
    client.force_login(coordinator)
    services.routine_publish(actor=coordinator, routine=routine, published=False)
    client.force_login(manager_b)
    assert client.get(reverse("routines:example", args=[routine.pk])).status_code == 404


@pytest.mark.django_db
def test_sent_back_routine_needs_both_approvals_again(
    routine: Routine, manager_a: User, coordinator: User
) -> None:
    approve_both(routine, manager_a, coordinator)
    services.routine_send_back(
        actor=coordinator, routine=routine, comment="Lägg till kontaktuppgifter."
    )
    routine.refresh_from_db()
    assert (routine.manager_approved_version, routine.coordinator_approved_version) == (None, None)
    services.routine_send_for_review(actor=manager_a, routine=routine)
    services.routine_approve(actor=manager_a, routine=routine, version=1, as_coordinator=False)
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.REVIEW  # the coordinator must approve again


@pytest.mark.django_db
def test_a_new_round_writes_a_new_routine(
    client: Client,
    routine: Routine,
    manager_a: User,
    coordinator: User,
    unit_a: Unit,
    rollout: Rollout,
) -> None:
    approve_both(routine, manager_a, coordinator)
    implement(routine, manager_a, "VP")
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.FOLLOW_UP)
    second = engine.rollout_start(actor=coordinator, unit=unit_a)
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=second, step=step)
    client.force_login(manager_a)
    page = client.get(reverse("routines:routine", args=[unit_a.pk])).content.decode()
    assert "Påbörja rutinen" in page
    client.post(reverse("routines:start", args=[unit_a.pk]))
    assert Routine.objects.filter(rollout=second).exists()
    assert Routine.objects.filter(rollout=rollout, status=RoutineStatus.IMPLEMENTED).exists()


@pytest.mark.django_db
def test_versions_are_listed_a_page_at_a_time_each_with_its_comparison(
    client: Client, routine: Routine, manager_a: User
) -> None:
    from routines.views import VERSIONS_PER_PAGE

    for number in range(1, VERSIONS_PER_PAGE + 2):  # versions 2 to VERSIONS_PER_PAGE + 2
        routine.refresh_from_db()
        services.routine_save(
            actor=manager_a,
            routine=routine,
            base_version=routine.current_version,
            sections=sections_of(routine) | {"signs": f"Tillägg {number}."},
        )
    total = VERSIONS_PER_PAGE + 2
    client.force_login(manager_a)
    url = reverse("routines:routine", args=[routine.rollout.unit_id])
    compare = reverse("routines:compare", args=[routine.rollout.unit_id])

    first = client.get(url)
    numbers = [version.number for version in first.context["versions"]]
    assert numbers == list(range(total, total - VERSIONS_PER_PAGE, -1))
    html = first.content.decode()
    assert f"Version 1–{VERSIONS_PER_PAGE} av {total}, de senaste först." in html
    # The last version on the page is still compared with the one before it, on the next page.
    assert html.count("jämför med föregående") == VERSIONS_PER_PAGE
    assert f'{compare}?a=2&amp;b=3"' in html
    assert 'href="?page=2"' in html

    second = client.get(url, {"page": 2})
    assert [version.number for version in second.context["versions"]] == [2, 1]
    assert second.content.decode().count("jämför med föregående") == 1  # version 1 has none


@pytest.mark.django_db
def test_a_routine_revised_after_the_round_can_be_implemented_again_and_stays_counted(
    routine: Routine, manager_a: User, coordinator: User, rollout: Rollout
) -> None:
    from followup import followups
    from followup.models import FollowUp
    from routines.selectors import routine_facts

    approve_both(routine, manager_a, coordinator)
    assert implement(routine, manager_a)
    for follow_up in FollowUp.objects.filter(rollout=rollout).order_by("offset_months"):
        followups.record(
            actor=coordinator,
            follow_up=follow_up,
            routine_in_use="partly",
            effect=3,
            support_needed="revise",
        )
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.COMPLETED

    services.routine_revise(actor=manager_a, routine=routine)
    assert routine_facts([rollout])[rollout.pk]["implemented"]  # the old version is in force
    routine.refresh_from_db()
    services.routine_save(
        actor=manager_a,
        routine=routine,
        base_version=routine.current_version,
        sections=sections_of(routine) | {"signs": "Kortare och tydligare."},
    )
    routine.refresh_from_db()
    approve_both(routine, manager_a, coordinator)
    assert implement(routine, manager_a)
    routine.refresh_from_db()
    rollout.refresh_from_db()
    assert (routine.status, routine.current_version) == (RoutineStatus.IMPLEMENTED, 2)
    assert rollout.status == RolloutStatus.COMPLETED


@pytest.mark.django_db
def test_an_approval_by_a_deleted_account_says_so_instead_of_empty_brackets(
    client: Client, rollout: Rollout, routine: Routine, manager_a: User, coordinator: User
) -> None:
    approve_both(routine, manager_a, coordinator)
    manager_a.delete()  # the approvals and the version keep no person (SET_NULL)
    client.force_login(coordinator)
    html = client.get(reverse("routines:routine", args=[rollout.unit_id])).content.decode()
    assert "godkänt (borttaget konto)" in html
    assert "godkänt ()" not in html
    assert f"godkänt ({coordinator.email})" in html
