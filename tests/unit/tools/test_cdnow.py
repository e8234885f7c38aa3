"""tools.cdnow: the CDNOW export loads with ingest's own parsers, and scoring's rules on it give the published fit.

The chain under test is the demo's: ``write_replay_files`` → ingest's purchases_csv parser and
registries → the purchase ingest would publish → scoring's fit query (``scoring_histories``, its
rules restated) → scoring's BG/NBD fit. Only Kafka and Postgres are left out.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from services.ingest.domain.formats import purchases_csv
from services.ingest.domain.identity import identifier, member_id_for
from services.ingest.domain.model import IdKind, Parsed, ReceiptDraft
from services.ingest.domain.normalise import parse_record
from services.ingest.domain.payloads import ParseContext
from services.ingest.domain.purchases import receipt_purchase
from services.ingest.domain.registries import products_from_csv, stores_from_csv
from services.ingest.entrypoints.settings import IngestSettings
from services.scoring.domain.bgnbd import BgNbdParams
from shared.contracts import MemberPurchaseV1, PurchaseKind
from tools import cdnow
from tools.cdnow import CdnowFiles, History, Transaction

NOW = datetime(2026, 11, 22, tzinfo=UTC)
RUN = "cdnow-test"
SETTINGS = IngestSettings()
SALT = SETTINGS.pii_salt.get_secret_value().encode()
CUSTOMERS = 2357
RECORDS = 6919
SAME_DAY_RECORDS = 223  # a customer's second or later transaction on one day
# Fader, Hardie & Lee (2005) give r, α, a, b to three decimals and the log-likelihood to one: a fit
# that reproduces theirs lies within half a unit of that last digit. The optimiser stops far closer
# than that (scoring's test holds two starting points to 1e-5 relative), so nothing more is allowed.
PARAMETER_TOLERANCE = 0.0005
LOG_LIKELIHOOD_TOLERANCE = 0.05
CSV_ROUNDING = 0.005 + 1e-9  # lifetimes' summary CSV has recency and T to two decimals


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _member(customer_id: str) -> str:
    """The member id ingest gives a CDNOW customer of the run: from the hashed card number."""
    return member_id_for(identifier(IdKind.CARD_NO, cdnow.card_no(RUN, customer_id), SALT))


@pytest.fixture(scope="module")
def records() -> list[Transaction]:
    return cdnow.transactions()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> CdnowFiles:
    return cdnow.write_replay_files(tmp_path_factory.mktemp("cdnow"), RUN, now=NOW)


@pytest.fixture(scope="module")
def purchases(files: CdnowFiles) -> list[MemberPurchaseV1]:
    """Every receipt of the export as ingest publishes it: parsed, identified, read in its store's zone."""
    stores = {s.store_id: s for s in stores_from_csv(files.stores_csv.read_text(encoding="utf-8"))}
    catalog = {p.sku: p for p in products_from_csv(files.products_csv.read_text(encoding="utf-8"))}
    ctx = ParseContext(salt=SALT, now=NOW, default_region=SETTINGS.default_phone_region)
    found = []
    for body in purchases_csv.split_receipts(files.purchases_csv.read_text(encoding="utf-8")):
        parsed = parse_record(purchases_csv.SOURCE, body, ctx)
        assert isinstance(parsed, Parsed)
        assert isinstance(parsed.body, ReceiptDraft)
        purchase = receipt_purchase(
            parsed.body,
            member_id=member_id_for(parsed.identifiers[0]),
            source=parsed.source,
            source_event_id=parsed.dedup_key,
            store=stores.get(parsed.body.store_id),
            catalog=catalog,
            default_timezone=SETTINGS.default_timezone,
            now=NOW,
        )
        found.append(purchase)
    return found


@pytest.fixture(scope="module")
def expected_days(records: list[Transaction]) -> list[History]:
    return cdnow.expected_summary(records, units="days")


@pytest.fixture(scope="module")
def expected_weeks(records: list[Transaction]) -> list[History]:
    return cdnow.expected_summary(records)


# -- the data --------------------------------------------------------------------------------------


def test_the_sample_has_the_published_customers_and_records(records: list[Transaction]) -> None:
    assert len(records) == RECORDS
    assert len({t.sample_id for t in records}) == len({t.customer_id for t in records}) == CUSTOMERS
    assert (min(t.day for t in records), max(t.day for t in records)) == (date(1997, 1, 1), date(1998, 6, 30))
    assert max(min(t.day for t in records if t.sample_id == s) for s in range(1, CUSTOMERS + 1)) < date(1997, 4, 1)


# -- the files load with ingest's own parsers ------------------------------------------------------


def test_the_registries_name_one_utc_store_and_one_product(files: CdnowFiles) -> None:
    [store] = stores_from_csv(files.stores_csv.read_text(encoding="utf-8"))
    [product] = products_from_csv(files.products_csv.read_text(encoding="utf-8"))
    assert (store.store_id, store.timezone) == (cdnow.STORE_ID, "UTC")
    assert product.sku == cdnow.SKU


def test_every_receipt_becomes_one_sale_of_a_known_store_and_sku(
    files: CdnowFiles, purchases: list[MemberPurchaseV1]
) -> None:
    assert len(purchases) == files.receipts == RECORDS - SAME_DAY_RECORDS
    assert len({p.purchase_id for p in purchases}) == files.receipts
    assert all(p.purchase_id.startswith(files.purchase_id_prefix) for p in purchases)
    assert {(p.kind, p.currency, p.store_id) for p in purchases} == {(PurchaseKind.SALE, "USD", cdnow.STORE_ID)}
    assert not any(p.unknown_store or p.unknown_skus for p in purchases)
    assert len({p.member_id for p in purchases}) == files.customers == CUSTOMERS


def test_each_customer_is_the_member_their_run_card_names(
    records: list[Transaction], purchases: list[MemberPurchaseV1]
) -> None:
    assert {p.member_id for p in purchases} == {_member(t.customer_id) for t in records}


def test_another_run_is_other_receipts_and_other_members(tmp_path: Path, files: CdnowFiles) -> None:
    other = cdnow.write_replay_files(tmp_path, "cdnow-other", now=NOW)
    ours, theirs = _rows(files.purchases_csv), _rows(other.purchases_csv)
    assert not {r["receipt_id"] for r in ours} & {r["receipt_id"] for r in theirs}
    assert not {r["card_no"] for r in ours} & {r["card_no"] for r in theirs}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


# -- money -----------------------------------------------------------------------------------------


def test_every_customer_day_keeps_its_cents_and_cds_exactly(
    records: list[Transaction], files: CdnowFiles, purchases: list[MemberPurchaseV1]
) -> None:
    want: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for t in records:
        want[(_member(t.customer_id), t.day)][0] += t.value_cents
        want[(_member(t.customer_id), t.day)][1] += t.cds
    got = {
        (p.member_id, (p.occurred_at - files.shift).date()): [p.total_minor, sum(line.qty for line in p.lines)]
        for p in purchases
    }
    assert got == want
    assert sum(p.total_minor for p in purchases) == sum(t.value_cents for t in records)
    assert all(p.total_minor == sum(line.amount_minor for line in p.lines) for p in purchases)


@pytest.mark.parametrize(("cents", "units"), [(2933, 2), (6334, 3), (0, 1), (1, 40), (1999, 1), (10001, 7)])
def test_split_cents_spreads_a_value_over_the_units_exactly(cents: int, units: int) -> None:
    lines = cdnow.split_cents(cents, units)
    assert sum(qty for qty, _ in lines) == units
    assert sum(qty * price for qty, price in lines) == cents
    assert max(price for _, price in lines) - min(price for _, price in lines) <= 1


# -- the shift -------------------------------------------------------------------------------------


def test_the_shift_is_whole_weeks_and_keeps_every_date_and_weekday(
    records: list[Transaction], files: CdnowFiles, purchases: list[MemberPurchaseV1]
) -> None:
    assert files.shift == timedelta(weeks=files.shift_weeks) == timedelta(weeks=1461)
    assert {p.occurred_at.timetz() for p in purchases} == {time(tzinfo=UTC)}  # midnight UTC, whole days apart
    days = {t.day for t in records}
    assert {(p.occurred_at - files.shift).date() for p in purchases} == days
    for day in days:
        shifted = (_midnight(day) + files.shift).date()
        assert (shifted.weekday(), shifted.month, shifted.day) == (day.weekday(), day.month, day.day)
    assert min(p.occurred_at for p in purchases) == datetime(2025, 1, 1, tzinfo=UTC)
    assert max(p.occurred_at for p in purchases) == files.last_purchase_at == datetime(2026, 6, 30, tzinfo=UTC)


def test_the_calibration_end_moves_with_the_history(files: CdnowFiles, purchases: list[MemberPurchaseV1]) -> None:
    assert files.calibration_end - files.shift == _midnight(cdnow.CALIBRATION_END)
    assert files.calibration_end == datetime(2025, 9, 30, tzinfo=UTC)
    assert files.calibration_end.weekday() == cdnow.CALIBRATION_END.weekday()  # a Tuesday
    assert datetime.fromisoformat(files.until) == files.calibration_end
    assert sum(p.occurred_at <= files.calibration_end for p in purchases) == files.receipts_by_calibration_end


@pytest.mark.parametrize(
    ("shift", "now", "problem"),
    [
        (timedelta(days=10227 + 1), NOW, "whole number of weeks"),
        (timedelta(weeks=52), NOW, "ingest refuses"),  # 1998: before 2000
        (cdnow.SHIFT, datetime(2026, 6, 1, tzinfo=UTC), "ingest refuses"),  # the last month in the future
    ],
)
def test_write_refuses_a_shift_ingest_would_refuse(
    tmp_path: Path, shift: timedelta, now: datetime, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        cdnow.write_replay_files(tmp_path, RUN, shift=shift, now=now)


# -- the summary scoring fits on -------------------------------------------------------------------


def test_scorings_rules_on_the_replayed_sales_give_the_expected_summary(
    records: list[Transaction], files: CdnowFiles, purchases: list[MemberPurchaseV1], expected_days: list[History]
) -> None:
    """The export as ingest publishes it, shifted, gives every customer the (x, t_x, T) in days computed unshifted."""
    seen = cdnow.scoring_histories(((p.member_id, p.occurred_at) for p in purchases), files.calibration_end)
    sample_of = {_member(t.customer_id): t.sample_id for t in records}
    got = sorted((History(sample_of[member], *triple) for member, triple in seen.items()), key=lambda h: h.sample_id)
    assert got == expected_days  # exactly: whole days, no rounding anywhere
    assert all(h.t_x.is_integer() and h.T.is_integer() for h in got)


def test_the_expected_summary_is_the_published_one(expected_weeks: list[History]) -> None:
    published = cdnow.published_summary()
    assert [h.sample_id for h in expected_weeks] == [h.sample_id for h in published] == list(range(1, CUSTOMERS + 1))
    for ours, theirs in zip(expected_weeks, published, strict=True):
        assert ours.x == theirs.x, ours
        assert abs(ours.t_x - theirs.t_x) <= CSV_ROUNDING, ours
        assert abs(ours.T - theirs.T) <= CSV_ROUNDING, ours


def test_counting_same_day_purchases_apart_adds_repeat_purchases_the_summary_does_not_have(
    records: list[Transaction], expected_weeks: list[History]
) -> None:
    """Why the export merges them: 146 transactions of 80 customers would become repeat purchases."""
    apart = cdnow.expected_summary(records, merge_same_day=False)
    differ = [(a, m) for a, m in zip(apart, expected_weeks, strict=True) if a != m]
    assert len(differ) == 80
    assert sum(a.x - m.x for a, m in differ) == 146
    assert all(a.x > m.x and (a.t_x, a.T) == (m.t_x, m.T) for a, m in differ)


def test_purchases_on_the_calibration_end_day_are_counted(expected_weeks: list[History]) -> None:
    """13 transactions fall on 1997-09-30; the summary counts them, with t_x = T."""
    on_the_day = [h for h in expected_weeks if h.x and h.t_x == h.T]
    assert len(on_the_day) == 13


# -- the fit ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(expected_weeks: list[History]) -> BgNbdParams:
    return cdnow.fit_summary(expected_weeks)


def test_scorings_fit_on_the_expected_summary_gives_the_published_estimates(fitted: BgNbdParams) -> None:
    for row in cdnow.published_comparison(cdnow.as_mapping(fitted), "weeks"):
        tolerance = LOG_LIKELIHOOD_TOLERANCE if row.parameter == "log_likelihood" else PARAMETER_TOLERANCE
        assert abs(row.difference) <= tolerance, row
    assert fitted.members == CUSTOMERS


def test_the_comparison_restates_a_fit_in_days_in_weeks(expected_days: list[History], fitted: BgNbdParams) -> None:
    """What the demo gets: scoring fits in days; α and the log-likelihood are restated, r, a and b are not."""
    in_days = cdnow.fit_summary(expected_days)
    assert in_days.alpha == pytest.approx(7 * fitted.alpha, rel=1e-6)
    restated = cdnow.published_comparison(cdnow.as_mapping(in_days), "days")
    direct = cdnow.published_comparison(cdnow.as_mapping(fitted), "weeks")
    assert [r.parameter for r in restated] == ["r", "alpha", "a", "b", "log_likelihood"]
    for days_row, weeks_row in zip(restated, direct, strict=True):
        assert days_row.fitted == pytest.approx(weeks_row.fitted, rel=1e-6)
        assert days_row.published == weeks_row.published


def test_the_comparison_refuses_an_unknown_unit(fitted: BgNbdParams) -> None:
    with pytest.raises(ValueError, match="units"):
        cdnow.published_comparison(cdnow.as_mapping(fitted), "months")


def test_parse_fit_output_reads_what_the_scoring_fit_command_prints() -> None:
    printed = (
        "model version 3: 2357 buyers, 946 repeat buyers\n"
        "  BG/NBD  r=0.2426 alpha=30.8952 a=0.7929 b=2.4259 (time in days)\n"
        "          log-likelihood -14363.53\n"
        "  spend   p=14.3355 q=3.9533 v=728.61 (minor units)\n"
    )
    found = cdnow.parse_fit_output(printed)
    assert found == {"r": 0.2426, "alpha": 30.8952, "a": 0.7929, "b": 2.4259, "log_likelihood": -14363.53}
    alpha = next(row for row in cdnow.published_comparison(found, cdnow.SCORING_UNITS) if row.parameter == "alpha")
    assert alpha.fitted == pytest.approx(30.8952 / 7)
