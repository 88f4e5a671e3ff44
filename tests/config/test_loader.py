"""Config loading: strict schema, ${ENV} references, WEDWATCH_* overrides, messages naming the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from wedwatch.config import Config, Phase, load_config, parse_config
from wedwatch.errors import ConfigError

TESTDATA = Path(__file__).parent / "testdata"
EXAMPLES = Path(__file__).parents[2] / "examples"

SMALLEST = """\
platform:
  base_url: http://127.0.0.1:8085
calendar:
  file: weddings.yml          # weddings: [{id, ceremony_at, timezone, guests, vendors}]
store:
  url: sqlite:///wedwatch.db  # or postgresql://user@host:5432/db
receiver:
  auth:
    bearer_token: ${WEDWATCH_RECEIVER_TOKEN}   # optional; when set, required on /alerts
"""


@pytest.mark.parametrize(
    ("name", "field", "reason"),
    [
        ("invalid-type.yml", "schedule.intervals.ceremony", "Input should be a valid number, unable to parse string as a number (got 'fast')"),
        ("invalid-unknown-key.yml", "platform.timeout", "unknown key"),
        ("invalid-missing-secret.yml", "receiver.auth.bearer_token", "environment variable WEDWATCH_TEST_MISSING_TOKEN is not set"),
        ("invalid-yaml.yml", "line 3, column 1", "invalid YAML: expected the node content, but found '<stream end>'"),
        ("invalid-threshold-order.yml", "thresholds", "p95_seconds must not decrease from medium to high to critical"),
        ("invalid-action-type.yml", "actions.definitions.page", "unknown type 'pager' (expected one of 'http', 'command', 'scale', 'cache_warm', 'notify', 'log')"),
        ("invalid-strategy-action.yml", "actions.strategies.emergency", "unknown action 'page_oncall'; define it under actions.definitions"),
        ("invalid-archived-interval.yml", "schedule.intervals.archived", "archived weddings are not probed"),
        ("invalid-two-sources.yml", "calendar", "choose one calendar source, not file and url"),
        ("invalid-top-level.yml", None, "the top level must be a mapping, not list"),
    ],
)  # fmt: skip
def test_invalid_files_name_file_field_and_reason(name: str, field: str | None, reason: str) -> None:
    path = TESTDATA / name
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert (info.value.field, info.value.reason) == (field, reason)
    assert str(info.value).startswith(f"{path}: ")


def test_unreadable_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yml: cannot read: No such file"):
        load_config(tmp_path / "nope.yml")


def test_smallest_config_from_design_works_as_written(tmp_path: Path) -> None:
    (tmp_path / "wedwatch.yml").write_text(SMALLEST)
    loaded = load_config(tmp_path / "wedwatch.yml", environ={"WEDWATCH_RECEIVER_TOKEN": "s3cret"})
    config = loaded.config
    assert config.platform.base_url == "http://127.0.0.1:8085"
    assert config.receiver.auth.bearer_token == "s3cret"
    # Paths inside the config are relative to the config file.
    assert config.calendar.file == str(tmp_path / "weddings.yml")
    assert config.store.url == f"sqlite:///{tmp_path}/wedwatch.db"


def test_defaults_are_the_seed_numbers() -> None:
    config = Config()
    t = config.thresholds
    assert (t.critical.p95_seconds, t.critical.error_ratio, t.critical.availability) == (5, 0.10, 0.95)
    assert (t.high.p95_seconds, t.high.error_ratio, t.high.availability) == (3, 0.05, 0.97)
    assert (t.medium.p95_seconds, t.medium.error_ratio, t.medium.availability) == (2, 0.02, 0.99)
    wd = t.wedding_day
    assert (wd.response_seconds, wd.availability, wd.error_ratio) == (0.5, 0.999, 0.001)
    assert wd.operation_seconds == {"guest_list": 1.0, "photo_upload": 5.0, "timeline_sync": 0.1}
    assert config.schedule.intervals == {
        Phase.CEREMONY: 10, Phase.WEDDING_DAY: 15, Phase.EVE: 30, Phase.AFTER: 300,
        Phase.WEEK: 60, Phase.MONTH: 300, Phase.PLANNING: 900,
    }  # fmt: skip
    assert config.schedule.max_tracked_weddings == 2000
    bounds = config.actions.capacity
    assert (bounds.db_connections.min, bounds.db_connections.max) == (20, 100)
    assert (bounds.cache_mb.min, bounds.cache_mb.max) == (256, 1024)
    assert (bounds.instances.min, bounds.instances.max) == (2, 10)
    assert config.forecast.mode == "recommend"


def test_partial_intervals_keep_the_other_defaults() -> None:
    config = parse_config("schedule:\n  intervals:\n    ceremony: 5\n").config
    assert config.schedule.intervals[Phase.CEREMONY] == 5
    assert config.schedule.intervals[Phase.PLANNING] == 900


def test_env_references_defaults_and_escapes() -> None:
    text = "platform:\n  headers:\n    Authorization: Bearer ${TOKEN}\n    X-Env: ${MISSING:-fallback}\n    X-Lit: $${NOT_A_VAR}\n"
    headers = parse_config(text, environ={"TOKEN": "abc"}).config.platform.headers
    assert headers == {"Authorization": "Bearer abc", "X-Env": "fallback", "X-Lit": "${NOT_A_VAR}"}


def test_env_reference_in_list_names_index() -> None:
    text = "actions:\n  allowed_executables: [/bin/true, '${NOPE}']\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, environ={})
    assert info.value.field == "actions.allowed_executables[1]"


def test_wedwatch_overrides_with_double_underscore() -> None:
    env = {
        "WEDWATCH_SCHEDULE__MAX_TRACKED_WEDDINGS": "25",
        "WEDWATCH_STORE__URL": "postgresql://u@db:5432/w",
        "WEDWATCH_RECEIVER_TOKEN": "not-an-override",
        "WEDWATCH_CONFIG": "also-not",
    }
    config = parse_config("schedule:\n  max_tracked_weddings: 100\n", environ=env).config
    assert config.schedule.max_tracked_weddings == 25
    assert config.store.url == "postgresql://u@db:5432/w"


def test_bad_override_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("", environ={"WEDWATCH_SCHEDULE__MAX_TRACKED_WEDDINGS": "many"})
    assert info.value.field == "schedule.max_tracked_weddings"


@pytest.mark.parametrize(
    ("variable", "field"),
    [
        ("PERFORMANCE_MONITORING_ENABLED", "performance_monitoring"),
        ("WEDDING_DAY_ENHANCED_MONITORING", "wedding_day_enhanced_monitoring"),
        ("PREDICTIVE_SCALING_ENABLED", "predictive_scaling"),
    ],
)
def test_seed_flags_switch_features_off(variable: str, field: str) -> None:
    features = parse_config("", environ={variable: "false"}).config.features
    assert getattr(features, field) is False
    assert sum(not v for v in features.model_dump().values()) == 1


def test_example_config_documents_every_section() -> None:
    loaded = load_config(EXAMPLES / "wedwatch.yml", environ={"WEDWATCH_RECEIVER_TOKEN": "t", "PLATFORM_API_TOKEN": "p"})
    text = (EXAMPLES / "wedwatch.yml").read_text()
    for section in Config.model_fields:
        assert f"\n{section}:" in f"\n{text}", f"examples/wedwatch.yml lacks the {section} section"
    assert loaded.config.calendar.file == str(EXAMPLES / "weddings.yml")
