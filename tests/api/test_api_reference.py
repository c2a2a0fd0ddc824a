"""The API reference is off by default, for leads only when on, and no page the server sends
loads anything from another origin."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine
from test_api_review import auth

from referee.api.app import create_app
from referee.api.pages import CONTENT_SECURITY_POLICY
from referee.db.engine import transaction
from referee.review.tokens import add_reviewer
from referee.settings import Settings

# a URL with a host: scheme://host, or protocol-relative //host in src/href/url()/import
EXTERNAL = re.compile(
    r"""(?ix)
    (?:https?|wss?|ftp):// (?!www\.w3\.org/2000/svg)   # the SVG namespace is a name, not a fetch
    | (?:src|href|action)\s*=\s*["']?//
    | url\(\s*["']?//
    | \bimport\s*\(?\s*["']//
    """
)


def served(docs: bool, engine: Engine) -> TestClient:
    settings = Settings(database_url=str(engine.url))
    return TestClient(create_app(engine, settings, docs=docs))


def test_reference_is_off_by_default(sqlite_engine: Engine) -> None:
    client = served(False, sqlite_engine)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path
    with transaction(sqlite_engine) as s:
        _, lead = add_reviewer(s, "lena", role="lead")
    assert client.get("/v1/openapi.json", headers=auth(lead)).status_code == 404


def test_reference_with_docs_needs_a_lead_token(sqlite_engine: Engine) -> None:
    make_routed_dataset(sqlite_engine, n_review=1)
    _, reviewer = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        _, lead = add_reviewer(s, "lena", role="lead")
    client = served(True, sqlite_engine)
    assert client.get("/v1/openapi.json").status_code == 401
    assert client.get("/v1/openapi.json", headers=auth(reviewer)).status_code == 403
    doc = client.get("/v1/openapi.json", headers=auth(lead))
    assert doc.status_code == 200 and "/v1/items/{pair_id}/label" in doc.json()["paths"]
    assert client.get("/openapi.json").status_code == 404  # only the token-guarded one
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "swagger" not in page.text.lower() and "cdn" not in page.text.lower()


def test_no_served_page_or_asset_loads_from_another_origin(sqlite_engine: Engine) -> None:
    client = served(True, sqlite_engine)
    pages = ["/", "/review", "/lead", "/docs", "/redoc"]
    assets: set[str] = set()
    for path in pages:
        resp = client.get(path)
        assert resp.status_code == 200
        assert "default-src 'none'" in resp.headers["content-security-policy"]
        assert not EXTERNAL.search(resp.text), (path, EXTERNAL.search(resp.text))
        assets.update(re.findall(r"/static/[\w.-]+", resp.text))
    imported = set()
    for asset in sorted(assets):
        body = client.get(asset)
        assert body.status_code == 200, asset
        assert not EXTERNAL.search(body.text), (asset, EXTERNAL.search(body.text))
        imported.update(re.findall(r"""from\s+["']\./([\w.-]+)["']""", body.text))
    for name in imported:
        text = client.get(f"/static/{name}").text
        assert not EXTERNAL.search(text), name
    assert {"/static/review.js", "/static/lead.js", "/static/docs.js"} <= assets


def test_the_scan_finds_what_it_looks_for() -> None:
    for bad in ('<script src="https://cdn.example/x.js">', "<img src=//evil.example/p>",
                "background: url(//evil.example/a.png)", "fetch('http://evil.example')"):  # fmt: skip
        assert EXTERNAL.search(bad), bad
