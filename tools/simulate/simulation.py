"""``simulate(spec)``: the whole chain's history as upstream records, plus what was planted in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.simulate import identities, output
from tools.simulate.calendar import Intensities, Window
from tools.simulate.chain import catalog, communities_for, stores_for
from tools.simulate.chat import community_chat
from tools.simulate.events import Burst, Draft
from tools.simulate.faults import duplicates, malformed
from tools.simulate.formats import Renderer
from tools.simulate.model import ChainSpec, Route, SimRecord, seeded
from tools.simulate.people import CARD, FOLLOWER, WECOM, Person, people
from tools.simulate.purchases import Catalog, member_purchases
from tools.simulate.social import follower_pushes, staff_notices, wecom_messages


@dataclass(frozen=True)
class Simulation:
    spec: ChainSpec
    window: Window
    stores: list[dict[str, str]]  # stores.csv rows
    products: list[dict[str, str]]  # products.csv rows
    communities: list[dict[str, str]]  # community_id, name, store_id
    contacts: list[dict[str, str]]  # card_no, phone, email, wechat_openid, app_user_id, locale, time_zone
    truth: list[dict[str, Any]]  # one per person
    bursts: list[dict[str, Any]]  # planted community-interest bursts
    # Backfill (FILE) records in event-time order, then live (KAFKA and HTTP) records in event-time order.
    records: list[SimRecord]

    @property
    def backfill(self) -> list[SimRecord]:
        return [r for r in self.records if r.route is Route.FILE]

    @property
    def live(self) -> list[SimRecord]:
        return [r for r in self.records if r.route is not Route.FILE]

    def manifest(self) -> dict[str, Any]:
        return output.manifest(self)

    def write(self, folder: Path) -> list[Path]:
        return output.write(self, folder)


def iter_live(sim: Simulation) -> Iterator[SimRecord]:
    """The live records (Kafka and HTTP) in event-time order, as a clock would release them."""
    return iter(sim.live)


def simulate(spec: ChainSpec, progress: Callable[[str], None] = lambda _: None) -> Simulation:
    window = Window(spec.start, spec.end, spec.backfill_until)
    hours = window.hours
    stores = stores_for(spec.stores)
    communities = communities_for(spec.run, spec.communities, stores)
    products = catalog()
    progress(f"people: {spec.members} card members")
    persons = people(spec, stores, communities, hours)
    intensities = Intensities(window)
    drafts: list[Draft] = []
    shop = Catalog(products)
    by_kind: dict[str, list[Person]] = defaultdict(list)
    for person in persons:
        by_kind[person.kind].append(person)
    progress("purchases")
    for person in by_kind[CARD]:
        drafts += member_purchases(person, shop, intensities, spec.seed)
    progress("community chat")
    bursts: list[Burst] = []
    for n, community in enumerate(communities):
        members = [p for p in by_kind[CARD] if p.community is community]
        chat, asked = community_chat(n, community, members, intensities, spec.seed)
        drafts += chat
        bursts += asked
    progress("official account and WeCom")
    for person in by_kind[FOLLOWER]:
        drafts += follower_pushes(person, intensities, spec.seed)
    rooms: dict[str, list[Person]] = defaultdict(list)
    for person in by_kind[WECOM]:
        rooms[identities.wecom_room(spec.run, person.store.store_id)].append(person)
    for room, contacts in rooms.items():
        for person in contacts:
            drafts += wecom_messages(person, room, intensities, spec.seed)
        drafts += staff_notices(room, contacts, intensities, spec.seed)
    progress(f"rendering {len(drafts)} records")
    drafts.sort(key=lambda d: d.t)  # stable: simultaneous drafts keep their (deterministic) creation order
    renderer = Renderer(spec, window)
    records = []
    for draft in drafts:
        rendered = renderer.render(draft)
        at = window.second(draft.t)
        records.append(
            SimRecord(
                at,
                rendered.source_format,
                rendered.body,
                rendered.key.encode(),
                rendered.route,
                rendered.expect,
                rendered.ref,
                rendered.amount,
                rendered.meaning,
            )
        )
    rng = seeded(spec.seed, "faults")
    planted = duplicates(records, window.end, rng) + malformed(records, spec.run, window.end, rng, spec.bad_share)
    records = sorted(records + planted, key=lambda r: (r.route is not Route.FILE, r.at))
    progress("truth and manifest")
    return Simulation(
        spec=spec,
        window=window,
        stores=[s.row() for s in stores],
        products=[p.row() for p in products],
        communities=[c.row() for c in communities],
        contacts=[p.contact for p in by_kind[CARD]],
        truth=output.truth(persons, records, window, spec.run),
        bursts=[_burst(b, window) for b in bursts],
        records=records,
    )


def _burst(burst: Burst, window: Window) -> dict[str, Any]:
    return {
        "community_id": burst.community_id,
        "category": burst.category,
        "at": window.second(burst.first_t).isoformat(),
        "members": list(burst.members),
    }
