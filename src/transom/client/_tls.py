"""TLS settings: ``verify`` and ``cert`` -> an ``ssl.SSLContext``.

Verification is on by default, against the system trust store
(``ssl.create_default_context``): certificate chain and host name (SNI is
sent with the host name). ``verify=False`` turns both off; a path names a CA
bundle file (or a directory of hashed certificates); an ``SSLContext`` is
used as given.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

from transom.exceptions import ConfigurationError

__all__ = ["ssl_context"]


def ssl_context(verify: Any = True, cert: Any = None) -> ssl.SSLContext:
    """The context for ``verify`` and ``cert`` (see the module docstring).

    ``cert`` is a path to a PEM file holding the certificate and its key, a
    ``(certfile, keyfile)`` or a ``(certfile, keyfile, password)`` tuple.
    """
    if isinstance(verify, ssl.SSLContext):
        context = verify
    elif verify is True:
        context = ssl.create_default_context()
    elif verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str | os.PathLike):
        path = os.fspath(verify)
        if os.path.isdir(path):
            context = ssl.create_default_context(capath=path)
        elif os.path.isfile(path):
            context = ssl.create_default_context(cafile=path)
        else:
            raise ConfigurationError(f"verify={path!r}: no such CA bundle file or directory")
    else:
        raise ConfigurationError("verify must be True, False, a CA bundle path or an SSLContext")
    if cert is not None:
        try:
            if isinstance(cert, str | os.PathLike):
                context.load_cert_chain(cert)
            elif isinstance(cert, tuple) and len(cert) in (2, 3):
                context.load_cert_chain(*cert)
            else:
                raise ConfigurationError(
                    "cert must be a PEM path, (certfile, keyfile) or (certfile, keyfile, password)"
                )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"cannot load the client certificate {cert!r}: {exc}") from exc
    if not isinstance(verify, ssl.SSLContext):
        context.set_alpn_protocols(["http/1.1"])  # we speak HTTP/1.1 only
    return context
