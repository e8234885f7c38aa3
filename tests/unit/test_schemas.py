"""JSON Schema export: one schema per topic, written to disk and checked for drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.contracts.schemas import main, rendered
from shared.contracts.topics import ALL_TOPICS, TopicSpec


def test_rendered_gives_one_schema_file_per_topic() -> None:
    files = rendered()

    assert sorted(files) == sorted(f"{spec.name}.schema.json" for spec in ALL_TOPICS)


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=lambda spec: spec.name)
def test_each_schema_describes_its_topic(spec: TopicSpec) -> None:
    document = json.loads(rendered()[f"{spec.name}.schema.json"])

    assert document["$id"] == f"urn:memberpulse:topic:{spec.name}"
    assert document["title"] == spec.contract.__name__
    assert document["x-memberpulse-topic"] == {
        "name": spec.name,
        "key": spec.key,
        "partitions": spec.partitions,
        "config": spec.config,
        "event_type": getattr(spec.contract, "event_type", None),
    }


def test_the_chat_schema_requires_an_offset_aware_member_event() -> None:
    document = json.loads(rendered()["member.chat.v1.schema.json"])

    assert {"member_id", "occurred_at", "community_id", "kind", "source", "source_event_id"} <= set(
        document["required"]
    )
    assert document["additionalProperties"] is False
    assert document["x-memberpulse-topic"]["event_type"] == "memberpulse.member.chat.v1"


def test_rendering_is_deterministic() -> None:
    assert rendered() == rendered()


def test_check_fails_on_an_empty_directory(tmp_path: Path) -> None:
    assert main(["--check", str(tmp_path)]) == 1


def test_check_passes_after_the_schemas_were_written(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(rendered())
    assert main(["--check", str(tmp_path)]) == 0


def test_check_fails_when_a_schema_file_was_edited(tmp_path: Path) -> None:
    main([str(tmp_path)])
    tampered = tmp_path / "member.chat.v1.schema.json"
    original = tampered.read_text()
    tampered.write_text(original.replace('"member_id"', '"customer_id"', 1))
    assert tampered.read_text() != original

    assert main(["--check", str(tmp_path)]) == 1


def test_check_fails_when_a_schema_file_is_missing(tmp_path: Path) -> None:
    main([str(tmp_path)])
    (tmp_path / "offer.issued.v1.schema.json").unlink()

    assert main(["--check", str(tmp_path)]) == 1


def test_check_fails_on_a_schema_of_a_topic_that_no_longer_exists(tmp_path: Path) -> None:
    main([str(tmp_path)])
    (tmp_path / "member.retired.v1.schema.json").write_text("{}\n")

    assert main(["--check", str(tmp_path)]) == 1


def test_writing_removes_stale_schemas_but_leaves_other_files(tmp_path: Path) -> None:
    (tmp_path / "member.retired.v1.schema.json").write_text("{}\n")
    (tmp_path / "README.md").write_text("notes\n")

    assert main([str(tmp_path)]) == 0

    assert not (tmp_path / "member.retired.v1.schema.json").exists()
    assert (tmp_path / "README.md").read_text() == "notes\n"
    assert main(["--check", str(tmp_path)]) == 0
