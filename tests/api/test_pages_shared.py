"""What the review page and the lead's page share is written once and served to both."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from referee.api import pages
from referee.api.app import create_app
from referee.settings import Settings


def client_for(engine: Engine) -> TestClient:
    return TestClient(create_app(engine, Settings(database_url=str(engine.url))))


def test_both_pages_open_with_the_shared_head(engine: Engine) -> None:
    client = client_for(engine)
    head = pages._shipped("_head.html")
    assert head is not None and head.startswith(b"<!doctype html>")
    for path, title in (("/", "review"), ("/review", "review"), ("/lead", "lead")):
        body = client.get(path).content
        assert body.startswith(head), path  # doctype, meta tags, style sheet, session.js
        assert b"#include" not in body, path
        assert f"<title>Referee · {title}</title>".encode() in body, path
        assert body.count(b"<head>") == 1 and body.count(b"</head>") == 1, path


def test_partials_are_not_served_alone(engine: Engine) -> None:
    client = client_for(engine)
    assert client.get("/static/_head.html").status_code == 404
    assert pages.asset("_head.html") is None


def test_every_module_the_pages_import_is_served(engine: Engine) -> None:
    client = client_for(engine)
    for script in ("review.js", "lead.js"):
        source = client.get(f"/static/{script}").text
        imported = re.findall(r'^import .* from "\./([\w.-]+\.js)";$', source, re.MULTILINE)
        assert "session.js" in imported, script  # the token handling, written once
        for name in imported:
            resp = client.get(f"/static/{name}")
            assert resp.status_code == 200, name
            assert resp.headers["content-type"].startswith("text/javascript"), name


def test_an_include_that_is_not_shipped_fails_loudly() -> None:
    match = pages.INCLUDE.search(b"<!--#include _missing.html -->\n")
    assert match is not None
    with pytest.raises(FileNotFoundError, match=r"_missing\.html"):
        pages._included(match)
