-- A record's headers packed as MessagePack (an array of [name, bytes] pairs) instead of jsonb.
-- Building and parsing the jsonb form was a Python step per header of every record, in every
-- consumer batch and again in the relay; MessagePack packs or unpacks a record's headers in one
-- C call, and keeps header values as bytes (jsonb needed them to be UTF-8 text).
-- Rows written before this migration keep their jsonb headers and are read from there.
ALTER TABLE outbox ADD COLUMN packed_headers bytea;
