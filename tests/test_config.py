from __future__ import annotations

from pathlib import Path

import pytest

from scraper.config import Settings, load_settings
from scraper.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_config_toml_loads_and_matches_the_defaults() -> None:
    shipped = load_settings(ROOT / "config.toml", env={})
    assert shipped.out == Settings().out and shipped.max_body_bytes == Settings().max_body_bytes
    assert shipped.connect_to == ()


def test_precedence_defaults_file_env_command_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[output]\ndir = "from-file"\n[network]\nuser_agent = "file-agent"\n[reclean]\njobs = 3\n')
    settings = load_settings(config, env={"SCRAPER_USER_AGENT": "env-agent", "SCRAPER_JOBS": "4"}, jobs=2)
    assert settings.out == Path("from-file")  # file over default
    assert settings.user_agent == "env-agent"  # environment over file
    assert settings.jobs == 2  # command line over environment
    assert settings.timeout == Settings().timeout  # default where nobody said


def test_config_from_the_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[network]\nretries = 7\n")
    assert load_settings(env={"SCRAPER_CONFIG": str(config)}).retries == 7


def test_connect_to_origins_are_normalised(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[network.connect_to]\n"https://WWW.Interfax.ru:443/" = "http://127.0.0.1:8080/x"\n')
    assert load_settings(config, env={}).connect_to == (("https://www.interfax.ru", "http://127.0.0.1:8080"),)


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"\$SCRAPER_JOBS must be a whole number"):
        load_settings(env={"SCRAPER_JOBS": "many"})


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(tmp_path / "nope.toml", env={})
