"""CDNOW for ``make demo DATA=cdnow``: the real purchase history BG/NBD was published on, replayed through the pipeline.

Fader, Hardie & Lee (2005) fitted BG/NBD to 2,357 CDNOW customers (a 1/10 sample of the cohort
whose first purchase fell in the first quarter of 1997), on their purchases up to 1997-09-30,
with time in weeks: r = 0.243, α = 4.414, a = 0.793, b = 2.426, log-likelihood −9582.4.
lifetimes ships the raw transactions (``CDNOW_sample.txt``) and the per-customer summary
(``cdnow_customers_summary.csv``: frequency, recency and T in weeks, to two decimals).

This module turns the raw transactions into files ingest loads as they are (a ``purchases_csv``
export, ``stores.csv`` and ``products.csv``), and says from the raw transactions alone what
scoring's ``fit --until`` must then see and estimate. What makes the replay reproduce the
published summary exactly (``tests/unit/tools/test_cdnow.py`` holds every customer to it):

- **Same-day purchases are one receipt.** The published summary counts a customer's purchase
  DAYS: 223 of the 6,919 records are a customer's second (or later) purchase on one day, 146 of them
  by 80 customers within the calibration period, and counted apart those 80 have more repeat
  purchases than the summary says. Scoring counts every sale row, so the writer puts a customer's
  transactions of one day on one receipt, a line or two per transaction: no unit or cent is lost.
- **Midnight, UTC.** CDNOW has dates only. Every receipt is issued at 00:00 in a store whose zone
  is UTC, so every t_x and T scoring computes is a whole number of days, exactly 7 × the
  published weeks. (America/New_York would move midnight to 04:00 or 05:00 UTC with daylight
  saving time: differences off by an hour, and the purchases of the last day after ``--until``.)
- **The calibration end is inclusive, T runs to its midnight.** The summary counts purchases made
  on 1997-09-30 (13 records) and has T = (1997-09-30 − first purchase day) / 7. Scoring keeps
  sales ``at <= until`` and takes T = until − first sale, so ``--until`` is the shifted
  calibration end at 00:00 UTC: those purchases are in, with t_x = T, as in the summary.
- **A 28-year shift.** Ingest refuses event times before 2000-01-01, so every date moves forward
  by 1,461 weeks (10,227 days, 28 years): 1997-01-01 becomes 2025-01-01, the calibration end
  2025-09-30, the last purchase 2026-06-30. Between 1901 and 2099 the Gregorian calendar repeats
  every 28 years, so every purchase keeps its month, day and weekday. BG/NBD only sees time
  differences, so the shift changes no x, t_x, T and no estimate.

The fit reads EVERY member's sales up to ``--until``: a scoring database holding other
purchases before the calibration end fits on those too. The store registry must be loaded before
the replay: a receipt of an unknown store is read in ingest's default zone (Asia/Shanghai), eight
hours off. The spend model will NOT match the published Gamma-Gamma estimates (p = 6.25, q = 3.74,
v = 15.44): scoring averages every sale including the first, the published fit only repeat ones.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import re
import sys
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import NamedTuple, TypeVar

from services.ingest.domain.formats.purchases_csv import COLUMNS as PURCHASE_COLUMNS
from services.ingest.domain.registries import PRODUCT_COLUMNS, STORE_COLUMNS
from services.scoring.domain import bgnbd
from services.scoring.domain.bgnbd import BgNbdParams

SAMPLE_FILE = "CDNOW_sample.txt"
SUMMARY_FILE = "cdnow_customers_summary.csv"
CALIBRATION_END = date(1997, 9, 30)  # inclusive; T runs to its midnight
SHIFT = timedelta(weeks=1461)  # 28 years: the calendar repeats, dates keep month, day and weekday
STORE_ID = "cdnow-web"
STORE_ZONE = "UTC"
SKU = "cdnow-cd"
CURRENCY = "USD"
CENTS_PER_DOLLAR = 100
DAYS_PER = {"days": 1, "weeks": 7}
# Fader, Hardie & Lee (2005), section 5: time in weeks.
PUBLISHED_UNITS = "weeks"
PUBLISHED: Mapping[str, float] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4}
SCORING_UNITS = "days"  # what `python -m services.scoring fit` fits in and prints
_EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)  # ingest's timestamp_out_of_range bound
_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Transaction:
    """One line of CDNOW_sample.txt: a customer's purchase of some CDs on one day."""

    customer_id: str  # the master id, as printed ("00004")
    sample_id: int  # 1..2,357: the ID column of lifetimes' summary CSVs
    day: date
    cds: int
    value_cents: int  # the dollar value, exactly, in cents


@dataclass(frozen=True)
class Receipt:
    """What the export writes as one receipt: a customer's transactions of one day (or one of them)."""

    receipt_id: str
    transactions: tuple[Transaction, ...]

    @property
    def customer(self) -> Transaction:
        return self.transactions[0]

    @property
    def day(self) -> date:
        return self.transactions[0].day

    @property
    def total_cents(self) -> int:
        return sum(t.value_cents for t in self.transactions)


@dataclass(frozen=True)
class History:
    """A customer's (x, t_x, T) as a BG/NBD fit takes it: x repeat purchases, the last at t_x, observed for T."""

    sample_id: int
    x: int
    t_x: float
    T: float


@dataclass(frozen=True)
class CdnowFiles:
    """What ``write_replay_files`` wrote, and what the demo needs to replay and fit it."""

    purchases_csv: Path  # python -m services.ingest replay FILE --source purchases_csv --layout csv
    stores_csv: Path  # python -m services.ingest stores load FILE
    products_csv: Path  # python -m services.ingest catalog load FILE
    run: str
    shift: timedelta  # added to every CDNOW date; whole weeks
    calibration_end: datetime  # the shifted 1997-09-30, 00:00 UTC: `fit --until` takes it
    customers: int
    receipts: int
    receipts_by_calibration_end: int  # receipts issued at or before calibration_end
    last_purchase_at: datetime
    merge_same_day: bool

    @property
    def shift_weeks(self) -> int:
        return self.shift // timedelta(weeks=1)

    @property
    def until(self) -> str:
        """The ``--until`` argument: ``python -m services.scoring fit --until {until}``."""
        return self.calibration_end.isoformat()

    @property
    def purchase_id_prefix(self) -> str:
        """Scoring stores these sales with purchase ids ``pos:<store>:<receipt id>``, all starting so."""
        return f"pos:{STORE_ID}:{self.run}-"


class Row(NamedTuple):
    """One parameter, fitted and published, both in the published unit (weeks)."""

    parameter: str
    fitted: float
    published: float
    difference: float  # fitted − published


# -- the data --------------------------------------------------------------------------------------


def datasets_dir() -> Path:
    """lifetimes' datasets folder (read directly: ``lifetimes.datasets`` cannot be imported without pkg_resources)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("lifetimes (a dev dependency) is not installed: the CDNOW data comes with it")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def transactions(path: Path | None = None) -> list[Transaction]:
    """CDNOW_sample.txt: master id, sample id, date YYYYMMDD, number of CDs, dollar value; one per line."""
    source = path or datasets_dir() / SAMPLE_FILE
    found: list[Transaction] = []
    for number, line in enumerate(source.read_text(encoding="ascii").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 5:
            raise ValueError(f"{source.name} line {number}: {len(fields)} fields, expected 5")
        customer_id, sample_id, day, cds, dollars = fields
        cents = Decimal(dollars) * CENTS_PER_DOLLAR
        if cents != cents.to_integral_value() or cents < 0 or int(cds) <= 0:
            raise ValueError(f"{source.name} line {number}: {dollars!r} dollars for {cds} CDs is not a purchase")
        found.append(
            Transaction(customer_id, int(sample_id), datetime.strptime(day, "%Y%m%d").date(), int(cds), int(cents))
        )
    return found


def published_summary() -> list[History]:
    """lifetimes' cdnow_customers_summary.csv (frequency, recency, T in weeks, rounded to 0.01), by ID."""
    with (datasets_dir() / SUMMARY_FILE).open(newline="") as file:
        rows = list(csv.DictReader(file))
    found = [History(int(r["ID"]), int(float(r["frequency"])), float(r["recency"]), float(r["T"])) for r in rows]
    return sorted(found, key=lambda h: h.sample_id)


def receipts(records: Iterable[Transaction], run: str = "cdnow", *, merge_same_day: bool = True) -> list[Receipt]:
    """The receipts of the export, by day then customer: one per customer and day, or one per transaction."""
    ordered = sorted(records, key=lambda t: (t.day, t.sample_id))
    found: list[Receipt] = []
    for (day, sample_id), same_day in groupby(ordered, key=lambda t: (t.day, t.sample_id)):
        group = tuple(same_day)
        stem = f"{run}-{sample_id:04d}-{day:%Y%m%d}"
        if merge_same_day:
            found.append(Receipt(stem, group))
        else:
            found.extend(Receipt(f"{stem}-{n}", (t,)) for n, t in enumerate(group, start=1))
    return found


def card_no(run: str, customer_id: str) -> str:
    """The loyalty card a CDNOW customer gets in a run (ingest drops the dashes when it normalises it)."""
    return f"{run}-{customer_id}"


def split_cents(total_cents: int, units: int) -> list[tuple[int, int]]:
    """(qty, unit price) lines whose units add up to ``units`` and whose amounts to ``total_cents``, exactly.

    The remainder cent goes to some of the units: 2,933 cents for 2 CDs are 1 at 1,467 and 1 at 1,466.
    """
    if units <= 0 or total_cents < 0:
        raise ValueError(f"{total_cents} cents over {units} units is not a purchase")
    price, dearer = divmod(total_cents, units)
    lines = [(dearer, price + 1), (units - dearer, price)]
    return [(qty, unit_price) for qty, unit_price in lines if qty]


# -- the files -------------------------------------------------------------------------------------


def write_replay_files(
    folder: Path,
    run: str = "cdnow",
    *,
    shift: timedelta = SHIFT,
    merge_same_day: bool = True,
    now: datetime | None = None,
) -> CdnowFiles:
    """Write ``purchases.csv`` (a purchases_csv export), ``stores.csv`` and ``products.csv`` into ``folder``.

    Receipt ids and card numbers start with ``run``, so two runs are different receipts and members.
    Every date moves forward by ``shift`` (whole weeks, so weekdays stay); every receipt is issued at
    00:00 in the one UTC store ``cdnow-web``, in USD cents spread over the CDs exactly.
    """
    if not _RUN.fullmatch(run):
        raise ValueError(f"run {run!r} must be 1 to 40 letters, digits, '_', '.' or '-', starting alphanumeric")
    if shift % timedelta(weeks=1) or shift <= timedelta(0):
        raise ValueError(f"the shift {shift} must be a positive whole number of weeks, so that weekdays stay")
    records = transactions()
    written = receipts(records, run, merge_same_day=merge_same_day)
    first, last = _midnight(written[0].day) + shift, _midnight(written[-1].day) + shift
    if first < _EARLIEST_EVENT or last > (now or datetime.now(UTC)):
        raise ValueError(f"shifted by {shift.days} days, CDNOW spans {first:%Y-%m-%d}..{last:%Y-%m-%d}: ingest refuses")
    folder.mkdir(parents=True, exist_ok=True)
    files = (folder / "purchases.csv", folder / "stores.csv", folder / "products.csv")
    _write_csv(files[0], PURCHASE_COLUMNS, _receipt_rows(written, run, shift))
    store = {"store_id": STORE_ID, "name": "CDNOW (web shop)", "timezone": STORE_ZONE, "region": "US", "city": ""}
    _write_csv(files[1], STORE_COLUMNS, [store])
    product = {"sku": SKU, "name": "Compact disc", "category": "music", "brand": "CDNOW", "price_tier": ""}
    _write_csv(files[2], PRODUCT_COLUMNS, [product])
    calibration_end = _midnight(CALIBRATION_END) + shift
    return CdnowFiles(
        purchases_csv=files[0],
        stores_csv=files[1],
        products_csv=files[2],
        run=run,
        shift=shift,
        calibration_end=calibration_end,
        customers=len({t.sample_id for t in records}),
        receipts=len(written),
        receipts_by_calibration_end=sum(1 for r in written if r.day <= CALIBRATION_END),
        last_purchase_at=last,
        merge_same_day=merge_same_day,
    )


def _receipt_rows(written: Sequence[Receipt], run: str, shift: timedelta) -> Iterable[dict[str, str | int]]:
    for receipt in written:
        head: dict[str, str | int] = {
            "receipt_id": receipt.receipt_id,
            "store_id": STORE_ID,
            "card_no": card_no(run, receipt.customer.customer_id),
            "phone": "",
            "issued_at": (_midnight(receipt.day) + shift).replace(tzinfo=None).isoformat(),  # store-local
            "currency": CURRENCY,
            "type": "sale",
            "original_receipt_id": "",
        }
        for transaction in receipt.transactions:
            for qty, unit_price in split_cents(transaction.value_cents, transaction.cds):
                yield head | {"sku": SKU, "qty": qty, "unit_price_minor": unit_price, "discount_minor": 0}


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, str | int]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# -- what scoring should see and fit ---------------------------------------------------------------


def scoring_histories(sales: Iterable[tuple[K, datetime]], until: datetime) -> dict[K, tuple[int, float, float]]:
    """(x, t_x, T) in days per member, by the rules of scoring's fit query (``purchase_histories``).

    Every sale at or before ``until`` counts (no merging), the first one is the member's birth:
    x = sales − 1, t_x = last − first, T = until − first, in days of 86,400 s.
    """
    times: dict[K, list[datetime]] = defaultdict(list)
    for member, at in sales:
        if at <= until:
            times[member].append(at)
    day = timedelta(days=1)
    return {
        member: (len(ats) - 1, (max(ats) - min(ats)) / day, (until - min(ats)) / day) for member, ats in times.items()
    }


def expected_summary(
    records: Iterable[Transaction] | None = None,
    *,
    calibration_end: date = CALIBRATION_END,
    merge_same_day: bool = True,
    units: str = PUBLISHED_UNITS,
) -> list[History]:
    """Per customer (by sample id), the (x, t_x, T) scoring's fit reads once the export is replayed.

    From the raw transactions alone: the export's receipts (``receipts``) at midnight UTC, through
    scoring's rules (``scoring_histories``) up to ``calibration_end`` at midnight. Unshifted: the
    shift moves every time equally, so it changes none of the differences.
    """
    per_day = _days_in(units)
    written = receipts(transactions() if records is None else records, merge_same_day=merge_same_day)
    sales = ((r.customer.sample_id, _midnight(r.day)) for r in written)
    found = scoring_histories(sales, _midnight(calibration_end))
    return [History(s, x, t_x / per_day, T / per_day) for s, (x, t_x, T) in sorted(found.items())]


def fit_summary(histories: Sequence[History]) -> BgNbdParams:
    """scoring's own BG/NBD fit (``services.scoring.domain.bgnbd.fit``) on the histories, in their unit."""
    return bgnbd.fit([h.x for h in histories], [h.t_x for h in histories], [h.T for h in histories])


def published_comparison(fitted: Mapping[str, float], units: str, *, repeat_purchases: int | None = None) -> list[Row]:
    """Fitted next to published BG/NBD parameters, in weeks; ``fitted`` has r, alpha, a, b in ``units``.

    α scales with the time unit (α in days = 7 × α in weeks); r, a and b have none. A
    ``log_likelihood`` in ``fitted`` is restated too: rescaling time by c changes it by −Σx·log c,
    where Σx (the repeat purchases fitted on) defaults to the expected CDNOW summary's.
    """
    per_unit = _days_in(PUBLISHED_UNITS) / _days_in(units)  # fitted time units in one published unit: 7 for days
    restated = {name: fitted[name] for name in ("r", "a", "b")} | {"alpha": fitted["alpha"] / per_unit}
    if "log_likelihood" in fitted:
        if repeat_purchases is None:
            repeat_purchases = sum(h.x for h in expected_summary())
        restated["log_likelihood"] = fitted["log_likelihood"] + repeat_purchases * math.log(per_unit)
    return [
        Row(name, restated[name], PUBLISHED[name], restated[name] - PUBLISHED[name])
        for name in PUBLISHED
        if name in restated
    ]


def parse_fit_output(text: str) -> dict[str, float]:
    """r, alpha, a, b (in days) and log_likelihood from what ``python -m services.scoring fit`` prints."""
    params = re.search(r"\br=(\S+)\s+alpha=(\S+)\s+a=(\S+)\s+b=(\S+)", text)
    likelihood = re.search(r"log-likelihood\s+(\S+)", text)
    if params is None or likelihood is None:
        raise ValueError("no BG/NBD parameters and log-likelihood in the fit's output")
    names = ("r", "alpha", "a", "b", "log_likelihood")
    return dict(zip(names, (float(v) for v in (*params.groups(), likelihood.group(1))), strict=True))


def as_mapping(params: BgNbdParams) -> dict[str, float]:
    """r, alpha, a, b and (when the fit produced one) log_likelihood, as ``published_comparison`` takes them."""
    found = {"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b}
    return found if params.log_likelihood is None else found | {"log_likelihood": params.log_likelihood}


def comparison_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| parameter (weeks) | fitted | published | difference |", "|---|---:|---:|---:|"]
    lines += [f"| {r.parameter} | {r.fitted:.4f} | {r.published:.4f} | {r.difference:+.4f} |" for r in rows]
    return "\n".join(lines)


def _days_in(units: str) -> int:
    if units not in DAYS_PER:
        raise ValueError(f"units must be one of {sorted(DAYS_PER)}, not {units!r}")
    return DAYS_PER[units]


@cache
def expected_fit() -> BgNbdParams:
    """What the demo's fit should find, in weeks: scoring's fit on ``expected_summary()``."""
    return fit_summary(expected_summary())


# -- command line ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cdnow", description="The CDNOW sample for the demo.")
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write purchases.csv, stores.csv and products.csv; print what to run")
    write.add_argument("folder", type=Path)
    write.add_argument("--run", default="cdnow")
    commands.add_parser("expected", help="scoring's fit on the expected summary next to the published estimates")
    compare = commands.add_parser("compare", help="read `services.scoring fit` output (file or -) and compare")
    compare.add_argument("fit_output", type=argparse.FileType("r"))
    args = parser.parse_args(argv)
    if args.command == "write":
        files = write_replay_files(args.folder, args.run)
        described = {
            "purchases_csv": str(files.purchases_csv),
            "stores_csv": str(files.stores_csv),
            "products_csv": str(files.products_csv),
            "shift_weeks": files.shift_weeks,
            "until": files.until,
            "customers": files.customers,
            "receipts": files.receipts,
            "receipts_by_calibration_end": files.receipts_by_calibration_end,
            "purchase_id_prefix": files.purchase_id_prefix,
        }
        print(json.dumps(described, indent=2))
    elif args.command == "expected":
        print(comparison_table(published_comparison(as_mapping(expected_fit()), PUBLISHED_UNITS)))
    else:
        print(comparison_table(published_comparison(parse_fit_output(args.fit_output.read()), SCORING_UNITS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
