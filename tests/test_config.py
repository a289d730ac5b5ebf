import pytest

from bot.cli import main
from bot.config import ConfigError, parse_config


def test_defaults_are_valid() -> None:
    config = parse_config({})
    assert config.polling.default_interval == 900 and config.polling.initial_posts == 1
    assert config.network.allow_private is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"polling": {"intervall": 5}}, "polling.intervall: unknown key"),
        ({"pollig": {}}, "pollig: unknown section"),
        ({"polling": {"default_interval": "fast"}}, "polling.default_interval: expected a whole number"),
        ({"polling": {"min_interval": 5}}, "polling.min_interval: must be at least 30"),
        ({"fetch": {"timeout": -1}}, "fetch.timeout: must not be negative"),
        ({"network": {"allowed_networks": ["not-a-net"]}}, "network.allowed_networks[0]"),
        ({"feeds": [{"channel_id": 1}]}, "feeds[0].url: required"),
        ({"feeds": [{"url": "ftp://x"}]}, "feeds[0].url: must start with http"),
        ({"bot": {"log_level": "LOUD"}}, "bot.log_level"),
        ({"summaries": {"language": "German"}}, "summaries.language: 'German' is not a language code"),
    ],
)
def test_errors_name_the_key(data, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(data)


def test_token_from_env_wins_over_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "token.txt").write_text("from-file\n")
    config = parse_config({"discord": {"token_file": "token.txt"}}, base_dir=tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert config.token() == "from-file"
    monkeypatch.setenv("DISCORD_TOKEN", "from-env")
    assert config.token() == "from-env"


def test_check_config_cli(tmp_path, capsys) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[polling]\ndefault_interval = 600\n[[feeds]]\nurl = "https://a.test/feed"\n')
    assert main(["check-config", "-c", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("[polling]\ndefault_intervall = 600\n")
    assert main(["check-config", "-c", str(bad)]) == 2
    assert "polling.default_intervall: unknown key" in capsys.readouterr().err
    assert main(["check-config", "-c", str(tmp_path / "missing.toml")]) == 2


def test_example_config_documents_every_setting() -> None:
    import tomllib
    from dataclasses import fields
    from pathlib import Path

    from bot.config import Config

    text = Path(__file__).parent.parent.joinpath("config.example.toml").read_text()
    data = tomllib.loads(text)
    config = parse_config(data)
    for section in fields(Config):
        if section.name in ("feeds", "base_dir"):
            continue
        for key in fields(getattr(config, section.name)):
            assert f"{key.name} =" in text, f"config.example.toml lacks {section.name}.{key.name}"
