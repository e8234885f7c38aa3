"""The chain simulator: deterministic, every record what ingest makes of it, and the planted truth as planned."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import phonenumbers
import pytest
from typer.testing import CliRunner

from services.campaigns.adapters.reference_repository import products_from_csv as campaign_products
from services.campaigns.adapters.reference_repository import stores_from_csv as campaign_stores
from services.campaigns.domain.affinity import DEFAULT_PAIRS
from services.ingest.adapters.replay_files import records as replay_records
from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.identity import identifier, member_id_for
from services.ingest.domain.model import ChatDraft, CommunityDraft, Ignored, OrderVersion, Parsed, ReceiptDraft
from services.ingest.domain.normalise import parse_record
from services.ingest.domain.payloads import ParseContext
from services.ingest.domain.registries import products_from_csv, stores_from_csv
from services.ingest.domain.resolution import resolve
from services.ingest.entrypoints.settings import IngestSettings
from services.notifier.adapters.contacts_file import contacts_from_csv
from services.scoring.domain import bgnbd, gamma_gamma
from services.scoring.domain.complaints import lexicon
from services.scoring.domain.engagement import tier_at
from services.scoring.domain.member import MemberState
from services.scoring.domain.rules import DEFAULT_CHAT_WEIGHTS, EngagementRules
from shared.contracts import ChatKind, CommunityAction, EngagementTier
from tools.simulate import ChainSpec, Route, SimRecord, Simulation, simulate
from tools.simulate.__main__ import app
from tools.simulate.texts import CHATTER, OA_TEXTS, REPLIES, TOPICS

END = datetime(2026, 5, 1, tzinfo=UTC)
SMALL = ChainSpec(members=300, months=3, seed=3, end=END, stores=5, communities=5, run="t-small")
# A year, so churn, returns and engagement have time to show; ~17k records.
YEAR = ChainSpec(members=1500, months=12, seed=7, end=END, stores=20, communities=20, run="t-year")
SALT = IngestSettings().pii_salt.get_secret_value().encode()
CTX = ParseContext(salt=SALT, now=END)
COMMUNITY_KEYWORDS = (
    "奶粉",
    "婴儿配方",
    "baby formula",
    "infant formula",
    "baby milk",
    "尿布",
    "纸尿裤",
    "尿不湿",
    "diaper",
    "nappies",
    "猫粮",
    "狗粮",
    "cat food",
    "dog food",
    "kibble",
    "红酒",
    "葡萄酒",
    "香槟",
    "wine",
    "champagne",
    "车厘子",
    "榴莲",
    "草莓",
    "cherries",
    "durian",
    "strawberries",
)


@pytest.fixture(scope="module")
def small() -> Simulation:
    return simulate(SMALL)


@pytest.fixture(scope="module")
def year() -> Simulation:
    return simulate(YEAR)


@pytest.fixture(scope="module")
def parsed(year: Simulation) -> dict[int, Parsed | Ignored | InvalidRecord]:
    """What ingest's own parser makes of each record of the year (by position)."""
    out: dict[int, Parsed | Ignored | InvalidRecord] = {}
    for n, record in enumerate(year.records):
        try:
            out[n] = parse_record(record.source_format, record.body, CTX)
        except InvalidRecord as exc:
            out[n] = exc
    return out


def test_the_same_spec_gives_byte_identical_records_and_files(small: Simulation, tmp_path: Path) -> None:
    again = simulate(SMALL)
    assert again.records == small.records
    assert again.truth == small.truth
    small.write(tmp_path / "a")
    again.write(tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for name in files_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_different_seed_or_run_gives_different_records(small: Simulation) -> None:
    other_seed = simulate(ChainSpec(**{**SMALL.__dict__, "seed": 4}))
    assert [r.body for r in other_seed.records] != [r.body for r in small.records]
    other_run = simulate(ChainSpec(**{**SMALL.__dict__, "run": "t-other"}))
    refs = {r.ref for r in small.records}
    assert not refs & {r.ref for r in other_run.records}
    assert not {t["card_no"] or t["external_id"] for t in small.truth} & {
        t["card_no"] or t["external_id"] for t in other_run.truth
    }
    phones = {c["phone"] for c in small.contacts}
    assert not phones & {c["phone"] for c in other_run.contacts}, "two runs on one stack would merge members"


def test_every_record_is_what_ingest_makes_of_it(year: Simulation, parsed: dict[int, object]) -> None:
    wrong = []
    for n, record in enumerate(year.records):
        result = parsed[n]
        if record.expect.startswith("dlq:"):
            ok = isinstance(result, InvalidRecord) and result.code == record.expect[4:]
        elif record.expect == "ignored":
            ok = isinstance(result, Ignored)
        else:
            ok = isinstance(result, Parsed)
        if not ok:
            wrong.append((record.source_format, record.expect, repr(result)[:120]))
    assert not wrong, wrong[:5]
    expects = Counter(r.expect.split(":")[0] for r in year.records)
    assert expects["dlq"] > 10
    assert expects["duplicate"] > 50
    assert expects["ignored"] > 0


def test_accepted_records_have_unique_event_ids_and_duplicates_resend_one_byte_for_byte(
    year: Simulation, parsed: dict[int, object]
) -> None:
    keys: Counter[tuple[str, str]] = Counter()
    sent: dict[tuple[Route, bytes], datetime] = {}
    for n, record in enumerate(year.records):
        result = parsed[n]
        if record.expect == "accepted" and isinstance(result, Parsed):
            keys[(result.dedup_source, result.dedup_key)] += 1
            sent[(record.route, record.body)] = record.at
    assert max(keys.values()) == 1
    for record in year.records:
        if record.expect == "duplicate":
            first = sent[(record.route, record.body)]
            assert timedelta(0) < record.at - first <= timedelta(hours=2)
    dlq_refs = [r.ref for r in year.records if r.expect.startswith("dlq:")]
    assert len(dlq_refs) == len(set(dlq_refs))


def test_the_backfill_files_replay_record_for_record(year: Simulation, tmp_path: Path) -> None:
    year.write(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    backfill = Counter(r.source_format for r in year.backfill)
    assert {f["source"]: f["records"] for f in manifest["files"]} == dict(backfill)
    for entry in manifest["files"]:
        expected = [r for r in year.backfill if r.source_format == entry["source"]]
        bodies = [body for body, _ in replay_records(tmp_path / entry["path"], entry["layout"])]
        assert len(bodies) == len(expected), entry
        for body, record in zip(bodies, expected, strict=True):
            if entry["layout"] != "jsonl":  # XML is re-serialised and CSV regrouped by the replay tool
                assert isinstance(parse_record(entry["source"], body, CTX), Parsed | Ignored)
            else:
                assert body == record.body
    wechat = (tmp_path / "backfill" / "wechat_oa.xml").read_text()
    assert wechat.startswith('<?xml version="1.0" encoding="utf-8"?>\n<msgs>\n<xml>')
    export = (tmp_path / "backfill" / "purchases_csv.csv").read_text()
    assert export.startswith("receipt_id,store_id,")
    assert "\nreceipt_id," not in export, "one header"
    truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    assert len(truth) == len(year.truth)
    assert truth[0]["kind"] == "card_member"


def test_stores_and_products_load_with_the_registries_of_ingest_and_campaigns(year: Simulation, tmp_path: Path) -> None:
    year.write(tmp_path)
    stores = stores_from_csv((tmp_path / "stores.csv").read_text())
    products = products_from_csv((tmp_path / "products.csv").read_text())
    assert len(stores) == 20
    assert len(products) == len(year.products) > 100
    zones = Counter(s.timezone for s in stores)
    assert zones["Asia/Shanghai"] > 10
    assert {"Asia/Urumqi", "Asia/Almaty", "Asia/Tehran", "Europe/London"} <= set(zones)
    assert len(campaign_stores((tmp_path / "stores.csv").read_text())) == 20
    ranked = campaign_products((tmp_path / "products.csv").read_text())
    tiers = defaultdict(set)
    for product in ranked:
        assert product.price_tier is not None
        tiers[product.category].add(product.price_tier)
    assert all(len(ranks) == 3 for ranks in tiers.values()), "up-sell needs a next tier in every category"
    assert {c for key, pairs in DEFAULT_PAIRS.items() for c in (key, *pairs)} <= set(tiers)


def test_contacts_carry_valid_mobile_phones_locales_and_zones(year: Simulation) -> None:
    for contact in year.contacts:
        number = phonenumbers.parse(contact["phone"], "CN")
        assert phonenumbers.is_valid_number(number), contact["phone"]
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    assert {c["locale"] for c in year.contacts} == {"zh-CN", "en", "fa", "kk"}
    assert len({c["phone"] for c in year.contacts}) == len(year.contacts)
    # The notifier's contact loader takes them once card numbers are mapped to member ids.
    rows = ["member_id,phone,email,wechat_openid,app_user_id,locale,time_zone"]
    for c in year.contacts:
        member = member_id_for(identifier("card_no", c["card_no"], SALT))
        rows.append(
            ",".join(
                [member, c["phone"], c["email"], c["wechat_openid"], c["app_user_id"], c["locale"], c["time_zone"]]
            )
        )
    assert len(contacts_from_csv("\n".join(rows), "CN")) == len(year.contacts)


def test_each_card_member_is_first_seen_by_card_and_keeps_one_member_id(
    year: Simulation, parsed: dict[int, object]
) -> None:
    """Walking the accepted records in event time through ingest's resolution: no merges, one id per card."""
    cards = {t["card_no"] for t in year.truth if t["card_no"]}
    links: dict[str, str] = {}
    first_seen: dict[str, datetime] = {}
    seen_cards: set[str] = set()
    order = sorted((n for n, r in enumerate(year.records) if r.expect == "accepted"), key=lambda n: year.records[n].at)
    for n in order:
        record, result = year.records[n], parsed[n]
        assert isinstance(result, Parsed)
        resolution = resolve(result.identifiers, links, first_seen)
        assert not resolution.merges
        for linked in resolution.links:
            links[linked.digest] = resolution.member_id
        first_seen.setdefault(resolution.member_id, record.at)
        key = record.key.decode()
        if key in cards:
            card = identifier("card_no", key, SALT)
            if key not in seen_cards:
                assert result.identifiers[0] == card, "a card member's earliest record names the card"
                seen_cards.add(key)
            assert resolution.member_id == member_id_for(card)
    assert seen_cards == {t["card_no"] for t in year.truth if t["card_no"] and t["first_seen"]}
    assert all(t["first_seen"] for t in year.truth if t["kind"] == "card_member")


def test_web_orders_come_a_day_after_the_phone_was_linked_at_a_till(
    year: Simulation, parsed: dict[int, object]
) -> None:
    linked: dict[bytes, datetime] = {}
    gaps = []
    for n, record in sorted(enumerate(year.records), key=lambda item: item[1].at):
        result = parsed[n]
        if record.expect != "accepted" or not isinstance(result, Parsed):
            continue
        if isinstance(result.body, ReceiptDraft) and len(result.identifiers) == 2:
            linked.setdefault(record.key, record.at)
        if record.source_format == "ecom_order":
            gaps.append(record.at - linked[record.key])
    assert gaps
    assert min(gaps) >= timedelta(days=1)


@dataclass
class _Chatter:
    contribution: float = 0.0
    reactions: float = 0.0
    last_taking_part: datetime | None = None
    present: bool = True


def _community_tiers(sim: Simulation, parsed: dict[int, object], at: datetime) -> dict[str, Counter[str]]:
    """Scoring's engagement tier, at ``at``, of each present app-community member, per community."""
    rules = EngagementRules()
    chatters: dict[tuple[str, str], _Chatter] = defaultdict(_Chatter)
    for n, record in enumerate(sim.records):
        result = parsed[n]
        if record.at > at or record.expect != "accepted" or record.source_format != "chat_json":
            continue
        assert isinstance(result, Parsed)
        body = result.body
        assert isinstance(body, ChatDraft | CommunityDraft)
        chatter = chatters[(body.community_id, record.key.decode())]
        leaves = isinstance(body, CommunityDraft) and body.action is CommunityAction.LEAVE
        chatter.present = not leaves
        if not leaves and not (isinstance(body, ChatDraft) and body.kind is ChatKind.RECALL):
            chatter.last_taking_part = record.at  # records come in event-time order
        if isinstance(body, ChatDraft):
            decayed = 0.5 ** ((at - record.at).total_seconds() / 86400 / rules.contribution_half_life_days)
            if body.kind is ChatKind.REACTION:
                chatter.reactions += decayed
            else:
                chatter.contribution += DEFAULT_CHAT_WEIGHTS[body.kind] * decayed
    tiers: dict[str, Counter[str]] = defaultdict(Counter)
    for (community, key), chatter in chatters.items():
        if chatter.present:
            state = MemberState(
                key,
                at,
                at,
                contribution_score=chatter.contribution,
                reaction_score=chatter.reactions,
                scores_at=at,
                last_interaction_at=chatter.last_taking_part,
            )
            tiers[community][tier_at(state, at, rules).value] += 1
    return tiers


def test_active_members_stay_a_minority_of_every_community(year: Simulation, parsed: dict[int, object]) -> None:
    for months in (4, 8, 12):
        at = YEAR.start + timedelta(days=30.44 * months) - timedelta(seconds=1)
        tiers = _community_tiers(year, parsed, at)
        assert len(tiers) == YEAR.communities
        for community, counts in tiers.items():
            assert counts[EngagementTier.ACTIVE.value] <= 0.2 * sum(counts.values()), (community, counts)
        total = sum(tiers.values(), Counter())
        assert 0.02 < total[EngagementTier.ACTIVE.value] / sum(total.values()) <= 0.15, total
        assert total[EngagementTier.PARTICIPANT.value] > total[EngagementTier.ACTIVE.value]


def test_about_half_of_card_members_are_in_a_community_with_a_planned_habit(year: Simulation) -> None:
    card = [t for t in year.truth if t["kind"] == "card_member"]
    habits = Counter(t["chat_habit"] for t in card)
    in_community = len(card) - habits["none"]
    assert 0.42 < in_community / len(card) < 0.55
    assert 0.04 < habits["active"] / in_community < 0.15
    assert all((t["community_id"] is None) == (t["chat_habit"] == "none") for t in card)


def test_planted_churn_and_returns_are_in_the_planned_ranges(year: Simulation) -> None:
    card = [t for t in year.truth if t["kind"] == "card_member"]
    churned = [t for t in card if t["churned_at"]]
    assert 0.22 < len(churned) / len(card) < 0.33
    assert {t["churn_style"] for t in churned} == {"quiet", "left", "complained"}
    # Returns come 2-5 months after churning: count among churners the history gave that long.
    with_time = [t for t in churned if datetime.fromisoformat(t["churned_at"]) < YEAR.end - timedelta(days=150)]
    returned = [t for t in with_time if t["returned_at"]]
    assert 0.08 < len(returned) / len(with_time) < 0.3
    for t in (t for t in churned if t["returned_at"]):
        gap = datetime.fromisoformat(t["returned_at"]) - datetime.fromisoformat(t["churned_at"])
        assert timedelta(days=60, seconds=-1) <= gap <= timedelta(days=150, seconds=1)
    followers = [t for t in year.truth if t["kind"] == "wechat_follower"]
    assert any(t["churn_style"] == "unfollowed" for t in followers)


def test_churners_stop_buying_and_complainers_say_so(year: Simulation, parsed: dict[int, object]) -> None:
    truth = {t["card_no"]: t for t in year.truth if t["card_no"]}
    complaints = lexicon()
    complained: set[str] = set()
    for n, record in enumerate(year.records):
        result = parsed[n]
        person = truth.get(record.key.decode())
        if person is None or record.expect != "accepted" or not person["churned_at"]:
            continue
        assert isinstance(result, Parsed)
        churned_at = datetime.fromisoformat(person["churned_at"])
        back = datetime.fromisoformat(person["returned_at"]) if person["returned_at"] else YEAR.end
        if isinstance(result.body, ReceiptDraft) and result.body.kind.value == "sale":
            assert not churned_at <= record.at < back, "no sale between churn and return"
        if isinstance(result.body, ChatDraft) and complaints.matches(result.body.text):
            complained.add(record.key.decode())
    planted = {card for card, t in truth.items() if t["churn_style"] == "complained"}
    assert planted
    assert complained == planted


def test_ordinary_chatter_neither_complains_nor_names_an_interest_category() -> None:
    complaints = lexicon()
    texts = [t for pool in (CHATTER, REPLIES, TOPICS, OA_TEXTS) for texts in pool.values() for t in texts]
    assert not [t for t in texts if complaints.matches(t)]
    assert not [t for t in texts if any(k in t.casefold() for k in COMMUNITY_KEYWORDS)]


def test_interest_bursts_have_three_members_asking_within_a_day(year: Simulation) -> None:
    assert year.bursts
    chat = defaultdict(list)
    for record in year.records:
        if record.source_format == "chat_json" and record.expect == "accepted":
            event = json.loads(record.body)
            if any(k in event.get("text", "").casefold() for k in COMMUNITY_KEYWORDS):
                chat[event["community_id"]].append((record.at, record.key.decode()))
    for burst in year.bursts:
        start = datetime.fromisoformat(burst["at"])
        askers = {key for at, key in chat[burst["community_id"]] if start <= at < start + timedelta(hours=24)}
        assert len(askers) >= 3
        assert set(burst["members"]) <= askers


def test_routes_follow_the_backfill_rule(year: Simulation) -> None:
    originals = {}
    for record in year.records:
        if record.expect in ("accepted", "ignored"):
            originals[record.body] = record
            backfill = record.at < YEAR.backfill_until
            assert (record.route is Route.FILE) == backfill
            if not backfill:
                assert (record.route is Route.HTTP) == (record.source_format == "ecom_order")
        elif record.expect == "duplicate":
            assert originals[record.body].route is record.route
        else:
            assert record.route is Route.KAFKA or (
                record.route is Route.FILE and record.source_format in ("chat_json", "wecom_archive", "ecom_order")
            )
    assert {r.route for r in year.records} == set(Route)
    assert not [r for r in year.backfill if r.source_format == "purchases_csv" and r.expect == "duplicate"]


def test_records_come_backfill_first_then_live_each_in_event_time_order(year: Simulation) -> None:
    routes = [r.route is not Route.FILE for r in year.records]
    assert routes == sorted(routes)
    for part in (year.backfill, year.live):
        assert [r.at for r in part] == sorted(r.at for r in part)
    assert all(YEAR.start <= r.at < YEAR.end for r in year.records)


def test_volume_per_member_month_is_in_the_planned_range(year: Simulation, small: Simulation) -> None:
    # A year: about one record per card member and month (the default run: ~255k records).
    assert 0.8 < len(year.records) / (YEAR.members * YEAR.months) < 1.4
    # Every card member shops at least once and every community member joins, so a short history is denser.
    assert 0.8 < len(small.records) / (SMALL.members * SMALL.months) < 1.8
    formats = Counter(r.source_format for r in year.records if r.expect == "accepted")
    chat = formats["chat_json"] + formats["wecom_archive"] + formats["wechat_oa"]
    assert 0.08 < (formats["wecom_archive"] + formats["wechat_oa"]) / chat < 0.18, formats
    assert 0.05 < formats["ecom_order"] / (formats["pos_receipt"] + formats["purchases_csv"]) < 0.2


def test_baskets_teach_the_complementary_pairs(year: Simulation, parsed: dict[int, object]) -> None:
    categories = {p["sku"]: p["category"] for p in year.products}
    baskets = []
    for n, record in enumerate(year.records):
        result = parsed[n]
        if record.expect == "accepted" and isinstance(result, Parsed) and isinstance(result.body, ReceiptDraft):
            baskets.append({categories.get(line.sku) for line in result.body.lines})

    def lift(a: str, b: str) -> float:
        both = sum(1 for basket in baskets if a in basket and b in basket)
        return both * len(baskets) / (sum(a in basket for basket in baskets) * sum(b in basket for basket in baskets))

    assert lift("coffee", "dairy") > 1.5
    assert lift("pasta", "sauces") > 1.5
    assert lift("diapers", "baby_wipes") > 1.5
    assert all(1 <= len(basket) <= 4 for basket in baskets)
    assert not math.isnan(lift("tea", "snacks"))


def test_a_bgnbd_fit_on_the_sales_finds_the_planted_churners(year: Simulation, parsed: dict[int, object]) -> None:
    """Purchases follow BG/NBD's story, so scoring's own fit converges and P(alive) tells churners apart."""
    sales: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for n, record in enumerate(year.records):
        result = parsed[n]
        if record.expect != "accepted" or not isinstance(result, Parsed):
            continue
        body = result.body
        if isinstance(body, ReceiptDraft) and body.kind.value == "sale":
            sales[record.key.decode()].append((record.at, body.total_minor))
        elif isinstance(body, OrderVersion) and body.version == 1:
            sales[record.key.decode()].append((record.at, sum(item.amount_minor for item in body.items)))
    cards = sorted(sales)
    x, t_x, age, spend = [], [], [], []
    for card in cards:
        history = sorted(sales[card])
        first = history[0][0]
        x.append(len(history) - 1)
        t_x.append((history[-1][0] - first).total_seconds() / 86400)
        age.append((YEAR.end - first).total_seconds() / 86400)
        spend.append(float(np.mean([amount for _, amount in history[1:]])) if len(history) > 1 else 0.0)
    params = bgnbd.fit(np.array(x), np.array(t_x), np.array(age))
    assert 0.1 < params.r < 5
    alive = bgnbd.p_alive(params, np.array(x), np.array(t_x), np.array(age))
    truth = {t["card_no"]: t for t in year.truth if t["card_no"]}
    gone = [
        a for card, a in zip(cards, alive, strict=True) if truth[card]["churned_at"] and not truth[card]["returned_at"]
    ]
    stayed = [a for card, a in zip(cards, alive, strict=True) if not truth[card]["churned_at"]]
    assert np.mean(gone) < np.mean(stayed) - 0.1
    repeat = np.array(x) > 0
    spend_params = gamma_gamma.fit(np.array(x)[repeat], np.array(spend)[repeat])
    assert spend_params.p > 0
    assert spend_params.q > 1  # a finite mean spend


def test_volume_scales_with_members_and_months() -> None:
    base = len(simulate(ChainSpec(**{**SMALL.__dict__, "members": 200, "months": 2})).records)
    more_members = len(simulate(ChainSpec(**{**SMALL.__dict__, "members": 400, "months": 2})).records)
    more_months = len(simulate(ChainSpec(**{**SMALL.__dict__, "members": 200, "months": 4})).records)
    assert 1.6 < more_members / base < 2.4
    assert 1.6 < more_months / base < 2.4


def test_the_cli_writes_the_folder_and_summarises(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "--members",
            "120",
            "--months",
            "2",
            "--seed",
            "5",
            "--end",
            "2026-05-01",
            "--run",
            "t-cli",
            "--stores",
            "5",
            "--communities",
            "3",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "records" in result.output
    assert "replay backfill/chat_json.jsonl --source chat_json" in result.output
    for name in ("stores.csv", "products.csv", "contacts.csv", "truth.jsonl", "manifest.json"):
        assert (tmp_path / name).is_file()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["spec"]["run"] == "t-cli"
    assert manifest["records"] == sum(manifest["by_route"].values())


def test_each_persons_records_share_one_partition_key(small: Simulation) -> None:
    keys = {t["card_no"] or t["external_id"] for t in small.truth}
    accepted = [r for r in small.records if r.expect == "accepted"]
    assert {r.key.decode() for r in accepted} <= keys
    assert all(isinstance(r, SimRecord) for r in small.records)
