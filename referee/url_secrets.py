"""Secrets hiding in URLs, masked before a URL is shown (``referee config``, error messages).

A URL can carry a secret in two places: its user info (``scheme://user:PASSWORD@host``, and a
token alone as ``scheme://TOKEN@host``) and its query (``?api_key=...``, ``&sig=...``). Both are
replaced by ``****``; the scheme, host, path and harmless parameters stay readable.

>>> mask_url_secrets("https://u:pw@h.example/v1?api_key=abc&model=x")
'https://u:****@h.example/v1?api_key=****&model=x'
>>> mask_url_secrets("https://TOKEN@h.example/?sig=1&X-Amz-Signature=2")
'https://****@h.example/?sig=****&X-Amz-Signature=****'
"""

from __future__ import annotations

import re

#: query parameter names that hold a secret: key, token, secret, password, signature, sig, auth
SECRET_PARAMETER = re.compile(
    r"(key|token|secret|passw(or)?d|pwd|signature|^sig$|sig[_-]|auth|credential|session)",
    re.IGNORECASE,
)
_USER_INFO = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://)(?P<info>[^/?#@\s]*)@", re.IGNORECASE)
_PARAMETER = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&;#\s]+)=(?P<value>[^&;#\s]*)")
MASK = "****"


def _masked_info(match: re.Match[str]) -> str:
    user, colon, _password = match.group("info").partition(":")
    if colon:
        return f"{match.group('head')}{user}:{MASK}@"
    if match.group("head").lower().startswith("http"):  # a token alone: https://TOKEN@host
        return f"{match.group('head')}{MASK}@"
    return match.group(0)  # a database user name, no secret


def _masked_parameter(match: re.Match[str]) -> str:
    name = match.group("name")
    if SECRET_PARAMETER.search(name) and match.group("value"):
        return f"{match.group('sep')}{name}={MASK}"
    return match.group(0)


def mask_url_secrets(text: str) -> str:
    """``text`` with every URL's user-info secret and secret-named query values masked."""
    return _PARAMETER.sub(_masked_parameter, _USER_INFO.sub(_masked_info, text))


__all__ = ["MASK", "SECRET_PARAMETER", "mask_url_secrets"]
