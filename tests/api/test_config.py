from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from aegisd.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def _model(annotation: Any) -> type[BaseModel] | None:
    kinds = get_args(annotation) or (annotation,)
    return next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)


def _tables(name: str, section: type[BaseModel]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every table under ``section`` (``notifications.smtp`` too) with its keys' fields."""
    keys = {}
    for key, field in section.model_fields.items():
        nested = _model(field.annotation)
        if nested is None:
            keys[field.alias or key] = field
        else:
            yield from _tables(f"{name}.{key}" if name else key, nested)
    if name:
        yield name, keys


def test_example_config_loads_as_is_and_documents_every_key() -> None:
    config = load_config(ROOT / "config.example.toml", environ={})
    assert config.server.port == 8600
    text = (ROOT / "config.example.toml").read_text()
    for table, keys in _tables("", Config):
        assert f"[{table}]" in text, table
        for key in keys:
            assert f"{key} =" in text, f"{table}.{key} is not documented"


def test_every_field_has_a_docstring() -> None:
    for table, keys in _tables("", Config):
        for key, field in keys.items():
            assert field.description, f"{table}.{key} has no docstring"


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    path = tmp_path / "aegisd.toml"
    path.write_text('[server]\nport = 8700\nhost = "127.0.0.2"\n[api]\nplan = "business"\n')
    from_file = load_config(path, environ={})
    assert (from_file.server.port, from_file.server.host, from_file.api.plan) == (
        8700,
        "127.0.0.2",
        "business",
    )

    env = {"AEGISD_SERVER__PORT": "8701", "AEGISD_BROWSERS__HEADLESS": "false", "HOME_X": "1"}
    from_env = load_config(path, environ=env)
    assert from_env.server.port == 8701
    assert from_env.server.host == "127.0.0.2"
    assert from_env.browsers.headless is False

    from_flags = load_config(path, environ=env, overrides={"server": {"port": 8702}})
    assert from_flags.server.port == 8702
    assert from_flags.api.plan == "business"

    assert load_config(environ={}).server.port == 8600


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ("[server]\nport = 70000\n", {}, "server.port"),
        ("", {"AEGISD_SERVER__PORT": "eighty"}, "server.port"),
        ('[api]\nplan = "gold"\n', {}, "api.plan"),
        ("[sever]\nport = 1\n", {}, "sever"),
        ("[server]\nprot = 1\n", {}, "server.prot"),
        ("[server\n", {}, "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], named: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(path, environ=env)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.toml", environ={})


def test_the_smtp_password_stays_out_of_config_errors() -> None:
    env = {"AEGISD_NOTIFICATIONS__SMTP__HOST": "mail.internal",
           "AEGISD_NOTIFICATIONS__SMTP__FROM": "aegisd@example.test",
           "AEGISD_NOTIFICATIONS__SMTP__USERNAME": "aegisd",
           "AEGISD_NOTIFICATIONS__SMTP__PASSWORD": "hunter2-hunter2"}  # fmt: skip
    smtp = load_config(environ=env).notifications.smtp
    assert smtp is not None and smtp.password is not None
    assert smtp.password.get_secret_value() == "hunter2-hunter2"
    assert "hunter2" not in repr(smtp) and (smtp.port, smtp.starttls) == (587, True)
    for key, value in [("PORT", "0"), ("TLS", "1")]:
        with pytest.raises(ConfigError) as error:
            load_config(environ={**env, f"AEGISD_NOTIFICATIONS__SMTP__{key}": value})
        assert "notifications.smtp" in str(error.value) and "hunter2" not in str(error.value)
    without = {k: v for k, v in env.items() if not k.endswith("PASSWORD")}
    with pytest.raises(ConfigError, match="username and password go together"):
        load_config(environ=without)
