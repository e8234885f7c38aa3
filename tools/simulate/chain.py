"""The chain's reference data: stores, the product catalog, shopper personas and store communities.

Everything here is fixed by the spec alone (no randomness), so two runs with the same store count
load identical registries. Money is CNY everywhere, even at the Almaty, Tehran and London stores:
scoring keeps one currency per member and sums money without conversion, so the simulated chain
settles in one currency (as a chain reporting in its home currency would).
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY = "CNY"
PRICE_TIERS = ("budget", "standard", "premium")  # ranks 1, 2 and 4 in campaigns' catalog loader
_TIER_FACTOR = {"budget": 0.55, "standard": 1.0, "premium": 1.85}
_BRANDS = {"budget": "Everyday", "standard": "MemberPulse Select", "premium": "Golden Harvest Reserve"}


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    timezone: str
    region: str
    city: str
    calendar: str  # holidays and weekend: cn, kz, ir or uk
    country: str  # ISO 3166 region of its members' phones
    weight: float  # relative number of members
    locales: tuple[tuple[str, float], ...]  # the members' languages and their shares
    # "pos": live tills (pos_receipt); "csv": the till vendor only exports CSV (purchases_csv, also live).
    till: str = "pos"

    def row(self) -> dict[str, str]:
        return {
            "store_id": self.store_id,
            "name": self.name,
            "timezone": self.timezone,
            "region": self.region,
            "city": self.city,
        }


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    brand: str
    price_tier: str
    price_minor: int

    def row(self) -> dict[str, str]:
        return {
            "sku": self.sku,
            "name": self.name,
            "category": self.category,
            "brand": self.brand,
            "price_tier": self.price_tier,
        }


@dataclass(frozen=True)
class Persona:
    name: str
    weight: float
    categories: tuple[str, ...]
    staple: str | None  # bought on a rhythm by the persona's regular shoppers (replenishment)


@dataclass(frozen=True)
class Community:
    community_id: str
    name: str
    store: Store

    def row(self) -> dict[str, str]:
        return {"community_id": self.community_id, "name": self.name, "store_id": self.store.store_id}


_ZH = (("zh-CN", 0.95), ("en", 0.05))


def _china(code: str, district: str, region: str, city: str, weight: float) -> Store:
    """A store in the Asia/Shanghai zone, with Chinese-speaking members."""
    return Store(
        f"store-{code}", f"MemberPulse Market {district}", "Asia/Shanghai", region, city, "cn", "CN", weight, _ZH
    )


# The first five cover every time zone and language, so a small spec (--stores 5) still has them all.
_STORES = (
    _china("sha-01", "Pudong", "East China", "Shanghai", 1.6),
    Store(
        "store-urc-01", "MemberPulse Market Urumqi Hongshan", "Asia/Urumqi", "Northwest China", "Urumqi", "cn", "CN",
        0.9, (("zh-CN", 0.82), ("kk", 0.13), ("en", 0.05)),
    ),
    Store(
        "store-ala-01", "MemberPulse Market Almaty Dostyk", "Asia/Almaty", "Kazakhstan", "Almaty", "kz", "KZ", 1.0,
        (("kk", 0.75), ("en", 0.15), ("zh-CN", 0.10)),
    ),
    Store(
        "store-thr-01", "MemberPulse Market Tehran Vanak", "Asia/Tehran", "Iran", "Tehran", "ir", "IR", 0.8,
        (("fa", 0.9), ("en", 0.1)), till="csv",
    ),
    Store(
        "store-lon-01", "MemberPulse Market London Chinatown", "Europe/London", "United Kingdom", "London", "uk", "GB",
        0.7, (("en", 0.8), ("zh-CN", 0.2)),
    ),
    _china("sha-02", "Xuhui", "East China", "Shanghai", 1.4),
    _china("pek-01", "Chaoyang", "North China", "Beijing", 1.4),
    _china("hgh-01", "West Lake", "East China", "Hangzhou", 1.1),
    _china("szx-01", "Nanshan", "South China", "Shenzhen", 1.2),
    _china("can-01", "Tianhe", "South China", "Guangzhou", 1.1),
    _china("ctu-01", "Jinjiang", "Southwest China", "Chengdu", 1.0),
    _china("nkg-01", "Gulou", "East China", "Nanjing", 0.9),
    _china("sha-03", "Jing'an", "East China", "Shanghai", 1.0),
    _china("pek-02", "Haidian", "North China", "Beijing", 1.0),
    _china("wuh-01", "Jianghan", "Central China", "Wuhan", 0.9),
    _china("xiy-01", "Yanta", "Northwest China", "Xi'an", 0.8),
    Store(
        "store-khg-01", "MemberPulse Market Kashgar", "Asia/Urumqi", "Northwest China", "Kashgar", "cn", "CN", 0.5,
        (("zh-CN", 0.85), ("kk", 0.1), ("en", 0.05)), till="csv",
    ),
    Store(
        "store-nqz-01", "MemberPulse Market Astana Esil", "Asia/Almaty", "Kazakhstan", "Astana", "kz", "KZ", 0.7,
        (("kk", 0.7), ("en", 0.2), ("zh-CN", 0.1)),
    ),
    _china("suz-01", "Industrial Park", "East China", "Suzhou", 0.8),
    _china("tsn-01", "Heping", "North China", "Tianjin", 0.8),
)  # fmt: skip

# category: (standard price in fen, six product names: two budget, two standard, two premium)
_CATALOG: dict[str, tuple[int, tuple[str, ...]]] = {
    "coffee": (6800, ("Ground coffee 250g", "Instant coffee 40 sticks", "Yunnan arabica beans 500g",
                      "Colombian beans 500g", "Geisha single-origin beans 250g", "Jamaica Blue Mountain 250g")),
    "tea": (4500, ("Jasmine tea bags 100", "Green tea bags 100", "Longjing green tea 100g", "Tieguanyin oolong 150g",
                   "Da Hong Pao gift tin 100g", "Aged Pu'er cake 357g")),
    "dairy": (1600, ("UHT milk 1L", "Plain yoghurt 1kg", "Fresh milk 950ml", "Greek yoghurt 500g",
                     "Organic A2 milk 1L", "Organic Greek yoghurt 500g")),
    "bakery": (1500, ("Sliced white bread", "Milk rolls 6", "Sourdough loaf", "Croissants 4",
                      "Stone-baked rye loaf", "French-butter croissants 6")),
    "cereal": (2800, ("Corn flakes 500g", "Oat porridge 1kg", "Granola 450g", "Muesli 750g",
                      "Organic granola 400g", "Nut clusters 350g")),
    "eggs": (1850, ("Eggs 10", "Eggs 30 tray", "Free-range eggs 12", "Omega-3 eggs 12",
                    "Organic eggs 12", "Heritage-breed eggs 10")),
    "pasta": (1200, ("Spaghetti 500g", "Penne 500g", "Durum spaghetti 500g", "Fusilli 500g",
                     "Bronze-cut linguine 500g", "Egg tagliatelle 250g")),
    "sauces": (1900, ("Tomato sauce 500g", "Chili sauce 300g", "Basil pesto 190g", "Arrabbiata 400g",
                      "Truffle sauce 180g", "Aged balsamic 250ml")),
    "cheese": (4500, ("Cheese slices 200g", "Mozzarella 250g", "Cheddar 400g", "Parmesan wedge 200g",
                      "Comte 24-month 200g", "Burrata 2 x 125g")),
    "rice": (5500, ("Rice 5kg", "Long-grain rice 5kg", "Northeast rice 5kg", "Jasmine rice 5kg",
                    "Wuchang fragrant rice 5kg", "Koshihikari rice 5kg")),
    "cooking_oil": (5900, ("Soybean oil 5L", "Blended oil 5L", "Peanut oil 5L", "Rapeseed oil 5L",
                           "Extra virgin olive oil 1L", "Camellia oil 2L")),
    "snacks": (1500, ("Potato chips 150g", "Crackers 300g", "Mixed nuts 200g", "Dried mango 200g",
                      "Macadamias 500g", "Artisan chocolate 100g")),
    "fresh_fruit": (3000, ("Apples 2kg", "Bananas 1kg", "Kiwis 12", "Blueberries 250g",
                           "Chilean cherries 1kg", "Musang King durian 1kg")),
    "wine": (8900, ("Table red 750ml", "Table white 750ml", "Ningxia Cabernet 750ml", "Rioja Crianza 750ml",
                    "Bordeaux grand cru 750ml", "Champagne brut 750ml")),
    "baby_formula": (22800, ("Infant formula stage 1 800g", "Follow-on formula stage 2 800g",
                             "Infant formula stage 1 900g", "Growing-up formula stage 3 900g",
                             "Organic infant formula 800g", "A2 infant formula 900g")),
    "diapers": (9900, ("Diapers M 60", "Diapers L 54", "Ultra-thin diapers M 58", "Pull-ups L 44",
                       "Premium diapers M 64", "Organic cotton diapers L 52")),
    "baby_wipes": (2500, ("Baby wipes 80 x 3", "Baby wipes 80 x 6", "Sensitive baby wipes 80 x 3",
                          "Water wipes 60 x 4", "Organic baby wipes 60 x 6", "Biodegradable wipes 64 x 6")),
    "pet_food": (11900, ("Dry cat food 2kg", "Dry dog food 3kg", "Grain-free cat food 2kg", "Adult dog food 6kg",
                         "Freeze-dried cat food 1.5kg", "Fresh-cooked dog food 3kg")),
    "pet_treats": (2900, ("Cat treats 60g", "Dog chews 200g", "Tuna cat sticks 20", "Dental dog sticks 28",
                          "Freeze-dried salmon 100g", "Yak milk chews 3")),
    "shampoo": (4900, ("Shampoo 750ml", "Anti-dandruff shampoo 400ml", "Herbal shampoo 500ml",
                       "Repair shampoo 500ml", "Salon shampoo 300ml", "Argan shampoo 300ml")),
    "conditioner": (4900, ("Conditioner 750ml", "Daily conditioner 400ml", "Herbal conditioner 500ml",
                           "Repair conditioner 500ml", "Salon conditioner 300ml", "Argan conditioner 300ml")),
    "skincare": (15900, ("Moisturiser 100ml", "Sunscreen SPF30 60ml", "Hydrating serum 30ml", "Night cream 50ml",
                         "Retinol serum 30ml", "Caviar face cream 50ml")),
    "cosmetics": (12900, ("Lip balm", "Mascara", "Cushion foundation", "Lipstick",
                          "Luxury lipstick", "Eye palette 12 shades")),
    "detergent": (3900, ("Laundry powder 3kg", "Laundry liquid 2kg", "Laundry liquid 3kg", "Laundry pods 52",
                         "Eco laundry liquid 2L", "Fragrance-free pods 60")),
    "toilet_paper": (3500, ("Toilet paper 12 rolls", "Toilet paper 24 rolls", "3-ply toilet paper 20 rolls",
                            "Bamboo toilet paper 12 rolls", "Lotion tissue 24 rolls", "Organic bamboo rolls 24")),
}  # fmt: skip

# What goes with what, in the chain's baskets: a basket with the key often also holds one of these,
# so campaigns' affinity learning finds the pairs (the first ones match its fallback pairs).
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "coffee": ("dairy", "bakery"),
    "dairy": ("bakery", "cereal"),
    "cereal": ("dairy",),
    "pasta": ("sauces", "cheese"),
    "sauces": ("pasta",),
    "baby_formula": ("diapers", "baby_wipes"),
    "diapers": ("baby_wipes", "baby_formula"),
    "baby_wipes": ("diapers",),
    "tea": ("snacks",),
    "wine": ("cheese", "snacks"),
    "cheese": ("wine", "bakery"),
    "shampoo": ("conditioner",),
    "skincare": ("cosmetics",),
    "pet_food": ("pet_treats",),
    "rice": ("cooking_oil",),
    "cooking_oil": ("rice",),
    "detergent": ("toilet_paper",),
    "toilet_paper": ("detergent",),
    "eggs": ("dairy",),
}

PERSONAS = (
    Persona("breakfast", 0.22, ("coffee", "dairy", "bakery", "cereal", "eggs", "fresh_fruit"), "coffee"),
    Persona("home_cook", 0.22, ("pasta", "sauces", "cheese", "rice", "cooking_oil", "eggs"), "rice"),
    Persona("tea_and_snacks", 0.15, ("tea", "snacks", "fresh_fruit"), "tea"),
    Persona("young_family", 0.10, ("baby_formula", "diapers", "baby_wipes", "dairy"), "diapers"),
    Persona("pet_owner", 0.08, ("pet_food", "pet_treats", "snacks"), "pet_food"),
    Persona("wine_and_cheese", 0.07, ("wine", "cheese", "bakery", "snacks"), None),
    Persona("beauty", 0.08, ("skincare", "cosmetics", "shampoo", "conditioner"), "shampoo"),
    Persona("household", 0.08, ("detergent", "toilet_paper", "rice", "cooking_oil"), "detergent"),
)

_ESTATES = (
    "Jinqiao Garden", "Lakeside Court", "Century Park Residences", "Riverside Mansions", "Maple Village",
    "Harmony Gardens", "Sunshine Towers", "Bamboo Grove", "Pearl Bay", "Golden Oriole Estate", "Orchid Court",
    "Ginkgo Terrace", "Willow Bank", "Jade Hill", "Cloud Gate Residences",
)  # fmt: skip


def stores_for(count: int) -> tuple[Store, ...]:
    """The first ``count`` stores; beyond the 20 named ones, more Asia/Shanghai stores."""
    extra = tuple(
        _china(f"cn-{n:03d}", f"No. {n}", "East China", "Shanghai", 0.8) for n in range(len(_STORES) + 1, count + 1)
    )
    return (_STORES + extra)[:count]


def catalog() -> tuple[Product, ...]:
    products = []
    for category, (standard, names) in _CATALOG.items():
        code = category.upper().replace("_", "")
        for n, name in enumerate(names):
            tier = PRICE_TIERS[n // 2]
            price = round(standard * _TIER_FACTOR[tier] * (0.92 if n % 2 == 0 else 1.08) / 100) * 100 - 10
            sku = f"SKU-{code}-{tier[0].upper()}{n % 2 + 1}"
            products.append(Product(sku, name, category, _BRANDS[tier], tier, max(price, 190)))
    return tuple(products)


def communities_for(run: str, count: int, stores: tuple[Store, ...]) -> tuple[Community, ...]:
    """``count`` communities: one per store first (in store order), the rest to the stores with most members."""
    owners = list(stores[:count])
    while len(owners) < count:
        # The store with the most members per community so far gets the next one: deterministic, no draws.
        owners.append(max(stores, key=lambda s: (s.weight / (1 + owners.count(s)), -stores.index(s))))
    communities = []
    for n, store in enumerate(owners):
        estate = _ESTATES[(n * 7) % len(_ESTATES)]
        communities.append(Community(f"{run}-estate-{n + 1:03d}", f"{store.city} {estate}", store))
    return tuple(communities)
