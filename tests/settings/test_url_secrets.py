"""Secrets hiding in URLs are masked wherever ``referee config`` shows a URL."""

from __future__ import annotations

import json

import pytest

from referee.url_secrets import MASK, mask_url_secrets
from tests.helpers import run_cli

HIDDEN = "s3cr3tVALUE"


@pytest.mark.parametrize(
    "url",
    [
        f"https://llm.example/v1?api_key={HIDDEN}",
        f"https://llm.example/v1?model=x&apiKey={HIDDEN}",
        f"https://llm.example/v1?access_token={HIDDEN}&x=1",
        f"https://llm.example/v1?client_secret={HIDDEN}",
        f"https://llm.example/v1?password={HIDDEN}",
        f"https://llm.example/v1?passwd={HIDDEN}",
        f"https://bucket.example/o?X-Amz-Signature={HIDDEN}&X-Amz-Credential={HIDDEN}",
        f"https://llm.example/v1?sig={HIDDEN}",
        f"https://llm.example/v1?auth={HIDDEN}",
        f"https://llm.example/v1;key={HIDDEN}",
        f"https://user:{HIDDEN}@llm.example/v1",
        f"https://{HIDDEN}@llm.example/v1",
        f"redis://:{HIDDEN}@cache:6379/0",
        f"postgresql://app:{HIDDEN}@db/referee?sslpassword={HIDDEN}",
        f"https://llm.example/v1?KEY={HIDDEN}#frag",
    ],
)
def test_secrets_in_urls_are_masked(url: str) -> None:
    shown = mask_url_secrets(url)
    assert HIDDEN not in shown and MASK in shown


@pytest.mark.parametrize(
    "url",
    [
        "https://llm.example/v1?model=gpt-4o&region=eu",
        "postgresql://app@db/referee",
        "sqlite:///./referee.db",
        "https://llm.example/keys/list",  # 'key' in the path is no parameter
    ],
)
def test_harmless_urls_are_kept(url: str) -> None:
    assert mask_url_secrets(url) == url


def test_referee_config_masks_a_key_in_the_api_base(sqlite_url: str) -> None:
    env = {
        "REFEREE_API_BASE": f"https://llm.example/v1?api_key={HIDDEN}&model=m",
        "REFEREE_BROKER_URL": f"redis://:{HIDDEN}@127.0.0.1:6379/0",
    }
    for args in (("config",), ("config", "--json")):
        result = run_cli(sqlite_url, *args, env=env)
        assert result.exit_code == 0, result.output
        assert HIDDEN not in result.output
    doc = json.loads(run_cli(sqlite_url, "config", "--json", env=env).stdout)
    assert "model=m" in json.dumps(doc)  # the rest of the URL stays readable
