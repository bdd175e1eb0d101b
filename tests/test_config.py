"""Settings: the TOML file, FOCAL_* variables and overrides, each value checked and its
origin known; `focal config`; the example focal.toml."""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from focal.cli import app
from focal.config import (
    SETTING_NAMES,
    ConfigurationError,
    Origin,
    Settings,
    load_settings,
    machine_cores,
    resolve_settings,
    shown_values,
)
from focal.pipeline import Limits

EXAMPLE = Path(__file__).resolve().parents[1] / "focal.toml"
runner = CliRunner()


def refusal(environ: dict[str, str], **overrides: object) -> str:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ=environ, **overrides)
    return str(raised.value)


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "focal.toml"
    path.write_text(text)
    return path


# --- types and ranges ------------------------------------------------------------------------


def test_a_value_of_the_wrong_type_names_the_variable_and_what_is_allowed() -> None:
    message = refusal({"FOCAL_PORT": "80a"})
    assert message == "FOCAL_PORT=80a: port must be a whole number from 1 to 65535"
    assert "invalid literal" not in message


def test_a_value_in_the_file_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = config_file(tmp_path, 'port = "80a"\nhost = 7\n')
    message = refusal({"FOCAL_CONFIG": str(path)})
    assert f"port = '80a' in {path}: port must be a whole number from 1 to 65535" in message
    assert f"host = 7 in {path}: host must be non-empty text" in message  # every problem at once


def test_an_override_names_the_setting() -> None:
    assert (
        refusal({}, workers=-1)
        == "workers=-1 (command line): workers must be a whole number, 0 or more"
    )


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("FOCAL_QUEUE_SIZE", "-5", "queue_size must be a whole number, 0 or more"),
        ("FOCAL_PORT", "0", "port must be a whole number from 1 to 65535"),
        ("FOCAL_PORT", "65536", "port must be a whole number from 1 to 65535"),
        ("FOCAL_MAX_SIDE", "0", "max_side must be a whole number, 1 or more"),
        ("FOCAL_RESULT_CACHE_BYTES", "-1", "result_cache_bytes must be a whole number, 0 or more"),
        ("FOCAL_FETCH_TIMEOUT", "0", "fetch_timeout must be a number greater than 0"),
        ("FOCAL_TRANSFORM_TIMEOUT", "-1", "transform_timeout must be a number, 0 or more"),
        ("FOCAL_PRICE_PER_1000_TRANSFORMATIONS", "cheap", "a number, 0 or more"),
        ("FOCAL_DETECT_MAX_SIDE", "16", "detect_max_side must be a whole number, 32 or more"),
        ("FOCAL_HOST", "", "host must be non-empty text"),
    ],
)
def test_values_out_of_range_are_refused(variable: str, value: str, allowed: str) -> None:
    message = refusal({variable: value})
    assert message.startswith(f"{variable}={value}: ")
    assert allowed in message


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FOCAL_TRANSFORM_TIMEOUT", "0", 0.0),  # 0: no limit
        ("FOCAL_CONCURRENCY", "0", 0),  # 0: one per core
        ("FOCAL_QUEUE_SIZE", "0", 0),
        ("FOCAL_PORT", "65535", 65535),
        ("FOCAL_FETCH_TIMEOUT", "2.5", 2.5),
        ("FOCAL_MAX_SIDE", "4000", 4000),
    ],
)
def test_values_at_the_edges_of_their_range_are_accepted(
    variable: str, value: str, expected: object
) -> None:
    name = variable.removeprefix("FOCAL_").lower()
    assert getattr(load_settings(environ={variable: value}), name) == expected


# --- booleans --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("yes", True), ("ON", True), ("false", False), ("0", False)],
)
def test_booleans_take_the_usual_words(value: str, expected: bool) -> None:
    assert load_settings(environ={"FOCAL_FLEXIBLE_VARIANTS": value}).flexible_variants is expected


@pytest.mark.parametrize("value", ["enabled", "disabled", "2", ""])
def test_any_other_word_for_a_boolean_is_an_error_naming_the_accepted_ones(value: str) -> None:
    message = refusal({"FOCAL_FLEXIBLE_VARIANTS": value})
    assert message == (
        f"FOCAL_FLEXIBLE_VARIANTS={value}: flexible_variants must be true or false "
        "(also 1/0, yes/no, on/off)"
    )


# --- lists, paths --------------------------------------------------------------------------


def test_lists_are_comma_separated_in_the_environment_and_lists_in_the_file(
    tmp_path: Path,
) -> None:
    settings = load_settings(environ={"FOCAL_API_TOKENS": " one, two,,three "})
    assert settings.api_tokens == ("one", "two", "three")
    path = config_file(tmp_path, 'allowed_origins = ["a.test", "b.test"]\n')
    assert load_settings(environ={"FOCAL_CONFIG": str(path)}).allowed_origins == (
        "a.test",
        "b.test",
    )
    assert load_settings(environ={"FOCAL_ALLOWED_ORIGINS": ""}).allowed_origins == ()


def test_option_strings_and_presets_take_semicolons_in_the_environment_and_tables_in_the_file(
    tmp_path: Path,
) -> None:
    env = {
        "FOCAL_PRESETS": "thumb=w=200,h=200,fit=cover,trim=10;0;10;0; hero = width=1600",
        "FOCAL_UNSIGNED_OPTIONS": "preset=thumb;width=400,format=auto;",
        "FOCAL_URL_SIGNING_KEYS": "new,old",
    }
    settings = load_settings(environ=env)
    thumb = "w=200,h=200,fit=cover,trim=10;0;10;0"
    assert settings.presets == {"thumb": thumb, "hero": "width=1600"}
    assert settings.unsigned_options == ("preset=thumb", "width=400,format=auto")
    assert settings.url_signing_keys == ("new", "old")
    text = 'unsigned_options = ["preset=thumb", "w=1,h=2"]\n[presets]\nthumb = "w=200,h=200"\n'
    from_file = load_settings(environ={"FOCAL_CONFIG": str(config_file(tmp_path, text))})
    assert from_file.presets == {"thumb": "w=200,h=200"}
    assert from_file.unsigned_options == ("preset=thumb", "w=1,h=2")
    assert shown_values(settings)["url_signing_keys"] == ["***", "***"]


@pytest.mark.parametrize(
    "env,message",
    [
        ({"FOCAL_PRESETS": "thumb=w=abc"}, "FOCAL_PRESETS=thumb=w=abc: preset 'thumb': w='abc'"),
        ({"FOCAL_PRESETS": "9x=w=1"}, "preset name '9x' must be a letter"),
        (
            {"FOCAL_UNSIGNED_OPTIONS": "preset=thumb"},
            "unsigned_options (FOCAL_UNSIGNED_OPTIONS): 'preset=thumb': unknown preset 'thumb'",
        ),
        ({"FOCAL_UNSIGNED_OPTIONS": "width=big"}, "'width=big': width='big' is not valid"),
    ],
)
def test_a_wrong_preset_or_unsigned_option_string_is_refused_with_its_reason(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ=env)
    assert message in str(caught.value)


def test_option_string_settings_of_the_wrong_type_say_what_is_allowed(tmp_path: Path) -> None:
    text = "presets = 5\nunsigned_options = 5\n"
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={"FOCAL_CONFIG": str(config_file(tmp_path, text))})
    assert "presets must be a table of name = option string" in str(caught.value)
    assert "unsigned_options must be a list of option strings (';'-separated" in str(caught.value)


def test_an_empty_origin_dir_means_the_one_in_the_data_folder() -> None:
    settings = load_settings(environ={"FOCAL_ORIGIN_DIR": "", "FOCAL_DATA_DIR": "/srv/focal"})
    assert settings.origin_dir is None
    assert settings.origin_path == Path("/srv/focal/origin")
    assert load_settings(environ={"FOCAL_ORIGIN_DIR": "/pics"}).origin_path == Path("/pics")


# --- unknown names -----------------------------------------------------------------------------


def test_an_unknown_key_in_the_file_is_refused_with_the_closest_setting(tmp_path: Path) -> None:
    path = config_file(tmp_path, "prot = 9000\n")
    assert refusal({"FOCAL_CONFIG": str(path)}) == (
        f"{path}: unknown setting prot (did you mean port?)"
    )


def test_a_misspelled_variable_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # The environment is shared with other programs: a stray FOCAL_ name is no reason to stop.
    with caplog.at_level(logging.WARNING, logger="focal.config"):
        settings = load_settings(environ={"FOCAL_QUEUE_SIZ": "5", "FOCAL_CONFIG": ""})
    assert settings.queue_size == 64
    assert caplog.messages == [
        "FOCAL_QUEUE_SIZ is not a Focal setting (did you mean queue_size?); it is ignored"
    ]


def test_an_unknown_override_is_refused() -> None:
    assert refusal({}, prot=9000) == "unknown setting prot (did you mean port?)"


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    assert refusal({"FOCAL_CONFIG": str(missing)}) == f"FOCAL_CONFIG={missing}: no such file"
    broken = config_file(tmp_path, "port = \n")
    assert refusal({"FOCAL_CONFIG": str(broken)}).startswith(f"{broken} is not valid TOML")


# --- sources and their order ----------------------------------------------------------------


def test_the_file_then_the_environment_then_overrides_each_win_and_are_reported(
    tmp_path: Path,
) -> None:
    path = config_file(tmp_path, 'port = 9000\nworkers = 2\nhost = "0.0.0.0"\n')
    resolved = resolve_settings(
        {"FOCAL_CONFIG": str(path), "FOCAL_WORKERS": "3", "FOCAL_HOST": "::"}, host="10.0.0.1"
    )
    settings = resolved.settings
    assert (settings.port, settings.workers, settings.host) == (9000, 3, "10.0.0.1")
    assert resolved.origins["port"] == Origin("file", str(path))
    assert resolved.origins["workers"] == Origin("environment", "FOCAL_WORKERS")
    assert resolved.origins["host"] == Origin("command line")
    assert resolved.origins["queue_size"] == Origin("default")
    assert set(resolved.origins) == set(SETTING_NAMES)


# --- the Settings object ----------------------------------------------------------------------


def test_settings_construct_from_keywords_only_and_are_immutable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOCAL_PORT", "9999")
    settings = Settings(allowed_origins=("a.test",), fetch_timeout=5)
    assert settings.port == 8080  # construction reads no environment
    assert settings.allowed_origins == ("a.test",)
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
    assert settings.replace(port=9000).port == 9000
    assert settings.port == 8080
    with pytest.raises(ConfigurationError, match="port must be"):
        settings.replace(port=-1)
    assert settings.image_concurrency >= 1
    assert Settings(concurrency=3).image_concurrency == 3


def test_image_work_is_sized_from_the_machine_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert machine_cores() == 2
    # `focal serve` starts one process per core; two images per core, each on one libvips
    # thread, keep the cores busy. The jobs, the queue and the face workers are shared.
    assert Settings().processes_to_start == 2
    two = Settings(workers=2)
    assert (two.processes, two.image_concurrency, two.image_vips_threads) == (2, 2, 1)
    assert (two.process_queue_size, two.process_detector_workers) == (32, 1)
    # An app built with workers = 0 by other means than `focal serve` is one process.
    one = Settings()
    assert (one.processes, one.image_concurrency, one.image_vips_threads) == (1, 4, 1)
    assert (one.process_queue_size, one.process_detector_workers) == (64, 2)
    assert Settings(workers=2, concurrency=3).image_concurrency == 2  # rounded up
    # Fewer jobs than cores: the cores are shared among them.
    assert Settings(workers=1, concurrency=1).image_vips_threads == 2
    assert Settings(concurrency=8, vips_threads=3).image_vips_threads == 3
    # RTMP ingest and calls keep their state in one process.
    assert Settings(stream_enabled=True).processes_to_start == 1
    assert Settings(calls_enabled=True).processes_to_start == 1


def test_ingest_and_calls_refuse_several_processes() -> None:
    message = refusal({"FOCAL_STREAM_ENABLED": "true"}, workers=2)
    assert "workers=2: RTMP ingest (stream_enabled) runs in one server process" in message
    assert "`focal stream serve`" in message


def test_the_source_limits_default_to_the_pipelines_own() -> None:
    # The SDK runs with Limits(); a server with no configuration runs with the same.
    settings, limits = Settings(), Limits()
    assert (settings.max_source_bytes, settings.max_pixels, settings.max_side) == (
        limits.max_bytes,
        limits.max_pixels,
        limits.max_side,
    )
    assert (settings.max_output_pixels, settings.max_gif_output_pixels) == (
        limits.max_output_pixels,
        limits.max_gif_output_pixels,
    )
    assert settings.transform_timeout == limits.transform_timeout


# --- focal config ----------------------------------------------------------------------------


def test_focal_config_reports_each_value_and_its_source(tmp_path: Path) -> None:
    path = config_file(tmp_path, "port = 9000\n")
    env = {"FOCAL_CONFIG": str(path), "FOCAL_WORKERS": "3", "FOCAL_API_TOKENS": "secret1,secret2"}
    result = runner.invoke(app, ["config", "--json", "--host", "0.0.0.0"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["port"] == {"value": 9000, "source": "file", "from": str(path)}
    assert report["workers"] == {"value": 3, "source": "environment", "from": "FOCAL_WORKERS"}
    assert report["host"] == {"value": "0.0.0.0", "source": "command line", "from": None}
    assert report["queue_size"] == {"value": 64, "source": "default", "from": None}
    assert report["api_tokens"]["value"] == ["***", "***"]  # tokens are never printed
    assert list(report) == list(SETTING_NAMES)


def test_focal_config_prints_toml_lines_and_hides_passwords(tmp_path: Path) -> None:
    env = {"FOCAL_CATALOG_URL": "postgresql://focal:hunter2@db/focal", "FOCAL_CONFIG": ""}
    result = runner.invoke(app, ["config"], env=env)
    assert result.exit_code == 0, result.output
    assert re.search(
        r'^catalog_url = "postgresql://focal:\*\*\*@db/focal" +# environment FOCAL_CATALOG_URL$',
        result.stdout,
        re.MULTILINE,
    )
    assert "hunter2" not in result.stdout
    assert re.search(r"^queue_size = 64 +# default$", result.stdout, re.MULTILINE)
    # Without the comments, the output is a configuration file giving the same settings.
    path = config_file(tmp_path, result.stdout.replace("***", "hunter2"))
    assert load_settings(environ={"FOCAL_CONFIG": str(path)}) == load_settings(environ=env)


def test_focal_commands_refuse_wrong_settings_with_the_message() -> None:
    for command in (["config"], ["serve"]):
        result = runner.invoke(app, command, env={"FOCAL_PORT": "80a", "FOCAL_CONFIG": ""})
        assert result.exit_code == 2
        assert "FOCAL_PORT=80a: port must be a whole number from 1 to 65535" in result.stderr


# --- the example focal.toml ------------------------------------------------------------------


def example_assignments() -> dict[str, object]:
    """The example's commented `# key = value` lines, parsed as TOML."""
    values: dict[str, object] = {}
    for line in EXAMPLE.read_text().splitlines():
        if re.fullmatch(r"# [a-z_0-9]+ = .+", line):
            values.update(tomllib.loads(line.removeprefix("# ")))
    return values


def test_the_example_file_shows_every_setting_with_its_default() -> None:
    shown = example_assignments()
    assert sorted(set(SETTING_NAMES) - set(shown)) == []  # a setting missing from focal.toml
    assert sorted(set(shown) - set(SETTING_NAMES)) == []
    from_file = Settings(**shown)  # type: ignore[arg-type]
    assert from_file == Settings(), "a default in focal.toml differs from config.py"


def test_the_example_file_uncommented_is_a_valid_configuration(tmp_path: Path) -> None:
    text = "\n".join(
        line.removeprefix("# ") if re.fullmatch(r"# [a-z_0-9]+ = .+", line) else line
        for line in EXAMPLE.read_text().splitlines()
    )
    path = config_file(tmp_path, text)
    resolved = resolve_settings({"FOCAL_CONFIG": str(path)})
    assert resolved.settings == Settings()
    assert {origin.kind for origin in resolved.origins.values()} == {"file"}
