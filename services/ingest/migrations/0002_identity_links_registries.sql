-- Identity resolution, the store and product registries, e-commerce order history,
-- webhook replay protection and the tally of unknown stores and SKUs.

-- A merged member keeps its row, pointing at the member it was folded into.
ALTER TABLE member_identities ADD COLUMN merged_into text;

-- Which member an upstream identifier names. Only keyed hashes are stored, never raw values.
CREATE TABLE identity_links (
    digest    text PRIMARY KEY,
    kind      text NOT NULL,
    member_id text NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_links_member ON identity_links (member_id);

CREATE TABLE stores (
    store_id   text PRIMARY KEY,
    name       text NOT NULL,
    timezone   text NOT NULL,
    region     text NOT NULL DEFAULT '',
    city       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    sku        text PRIMARY KEY,
    name       text NOT NULL,
    category   text NOT NULL,
    brand      text NOT NULL DEFAULT '',
    price_tier text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The latest version seen of each web-shop order, so a refund after a payment is one refund.
CREATE TABLE ecom_orders (
    order_id   text PRIMARY KEY,
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Signatures of accepted webhook requests inside the replay window: a replay is refused.
CREATE TABLE webhook_requests (
    source      text NOT NULL,
    signature   text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, signature)
);
CREATE INDEX webhook_requests_received_at ON webhook_requests (received_at);

-- Stores and SKUs events referred to that the registries do not know: accepted, flagged, counted.
CREATE TABLE unknown_references (
    kind          text NOT NULL CHECK (kind IN ('store', 'sku')),
    ref           text NOT NULL,
    occurrences   bigint NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, ref)
);
