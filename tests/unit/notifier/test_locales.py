"""Locales: the documented fallback chain for templates, and which way the text runs."""

from __future__ import annotations

import pytest

from services.notifier.domain.locales import RTL_LANGUAGES, direction, locale_chain, normalise_locale

# -- normalisation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "normalised"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh-cn", "zh-CN"),
        ("ZH_CN", "zh-CN"),
        ("en", "en"),
        ("EN", "en"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("ZH_HANT_TW", "zh-Hant-TW"),
        ("sr-latn", "sr-Latn"),
        ("es-419", "es-419"),
        ("fa-IR", "fa-IR"),
        ("ckb", "ckb"),
        ("de-CH-1996", "de-CH-1996"),
        ("ca-ES-VALENCIA", "ca-ES-valencia"),
        (" en-US ", "en-US"),
    ],
)
def test_language_is_lower_script_title_and_region_upper_with_hyphens(tag: str, normalised: str) -> None:
    assert normalise_locale(tag) == normalised


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "e",
        "english",
        "en-",
        "-en",
        "en--US",
        "en US",
        "en_US.UTF-8",
        "C",
        "../../etc",
        "zh-CN-",
        "١٢",
        "en-٣٣٣",
    ],
    ids=repr,
)
def test_what_is_not_a_locale_tag_does_not_normalise(garbage: str) -> None:
    assert normalise_locale(garbage) is None


# -- the fallback chain ----------------------------------------------------------------------------


def test_the_chain_is_requested_then_its_language_then_default_then_its_language() -> None:
    assert locale_chain("fa-IR", "zh-CN") == ("fa-IR", "fa", "zh-CN", "zh")


def test_the_requested_locale_is_normalised_before_it_is_looked_up() -> None:
    assert locale_chain("zh_cn", "en") == ("zh-CN", "zh", "en")


def test_a_locale_with_a_script_falls_back_through_the_script_before_the_bare_language() -> None:
    assert locale_chain("zh-hant-tw", "zh-CN") == ("zh-Hant-TW", "zh-Hant", "zh", "zh-CN")


def test_locales_already_in_the_chain_are_not_repeated() -> None:
    assert locale_chain("zh-CN", "zh-CN") == ("zh-CN", "zh")
    assert locale_chain("zh", "zh-CN") == ("zh", "zh-CN")
    assert locale_chain("en-GB", "en") == ("en-GB", "en")


def test_the_requested_locales_place_wins_over_the_defaults() -> None:
    assert locale_chain("zh-TW", "zh-CN") == ("zh-TW", "zh", "zh-CN")


@pytest.mark.parametrize("requested", [None, "", "klingon!", "en_US.UTF-8"], ids=repr)
def test_a_missing_or_garbage_requested_locale_falls_straight_to_the_default(requested: str | None) -> None:
    assert locale_chain(requested, "zh-CN") == ("zh-CN", "zh")


def test_the_default_is_normalised_too() -> None:
    assert locale_chain(None, "EN_us") == ("en-US", "en")


@pytest.mark.parametrize("default", ["", "nonsense!", "e"], ids=repr)
def test_a_garbage_default_is_a_configuration_error(default: str) -> None:
    with pytest.raises(ValueError, match="default locale"):
        locale_chain("en", default)


# -- direction -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(RTL_LANGUAGES))
def test_right_to_left_languages_run_right_to_left(language: str) -> None:
    assert direction(language) == "rtl"


@pytest.mark.parametrize("locale", ["fa-IR", "ar_EG", "AR", "he-IL", "ur-PK", "ckb-IQ"])
def test_direction_reads_the_language_whatever_the_region_or_case(locale: str) -> None:
    assert direction(locale) == "rtl"


@pytest.mark.parametrize("locale", ["zh-CN", "en", "kk-KZ", "ru", "zh-Hant-TW", "tr"])
def test_left_to_right_languages_run_left_to_right(locale: str) -> None:
    assert direction(locale) == "ltr"


def test_a_script_subtag_decides_over_the_language() -> None:
    assert direction("sd-Deva-IN") == "ltr"
    assert direction("ug-Latn") == "ltr"
    assert direction("pa-Arab-PK") == "rtl"
    assert direction("az-arab") == "rtl"


@pytest.mark.parametrize("garbage", ["", "nonsense!", "fa IR"], ids=repr)
def test_a_garbage_locale_runs_left_to_right(garbage: str) -> None:
    assert direction(garbage) == "ltr"


def test_the_rtl_languages_are_the_documented_ten() -> None:
    assert frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "yi", "dv", "sd", "ug"}) == RTL_LANGUAGES
