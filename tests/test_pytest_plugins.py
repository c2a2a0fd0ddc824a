"""The suite loads only the pytest plugins it names (pyproject: --disable-plugin-autoload).

Autoloaded, every installed distribution declaring a pytest plugin has all its modules marked for
assertion rewriting, whether or not the plugin is wanted; faker (a plain library here) then had
its locale modules parsed by pytest, which once failed on CPython 3.11 under load.
"""

from __future__ import annotations

import pytest


def test_only_the_named_plugins_are_loaded(pytestconfig: pytest.Config) -> None:
    manager = pytestconfig.pluginmanager
    assert manager.has_plugin("timeout") and manager.has_plugin("hypothesispytest")
    for unwanted in ("faker", "anyio", "requests_mock", "typeguard"):
        assert not manager.has_plugin(unwanted), unwanted


def test_faker_is_not_rewritten_by_pytest(pytestconfig: pytest.Config) -> None:
    hook = pytestconfig.pluginmanager.rewrite_hook
    marked = getattr(hook, "_must_rewrite", set())
    assert not any(name == "faker" or name.startswith("faker.") for name in marked)
