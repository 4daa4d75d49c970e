"""Fast, output-identical loading of the prebuilt AWS provider bindings, and a supported Node for jsii.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all ~2,200 resource modules
(20-30 s, ~600 MB). The modules only need their package object and the jsii assembly in ``_jsii``; both
are loaded on demand when a resource module is imported. So the package is registered in
``sys.modules`` without running its ``__init__`` and each construct imports the few modules it uses.
``tests/infra/test_fast_import.py`` proves the synthesized JSON is byte-identical to the plain import.
Set ``CDKTF_PROVIDER_PLAIN_IMPORT=1`` to use the plain import.

jsii prints an end-of-life banner on Node 20. ``npm ci`` installs a pinned Node 22 (``package.json``);
when present it is used for the jsii runtime unless ``JSII_NODE`` is already set.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
PLAIN_IMPORT_ENV = "CDKTF_PROVIDER_PLAIN_IMPORT"
PINNED_NODE = Path(__file__).resolve().parent.parent / "node_modules" / "node" / "bin" / "node"


def use_pinned_node() -> None:
    """Point jsii at the project's pinned Node unless the caller chose one."""
    if "JSII_NODE" not in os.environ and PINNED_NODE.exists():
        os.environ["JSII_NODE"] = str(PINNED_NODE)


def register_provider_package() -> None:
    """Make ``cdktf_cdktf_provider_aws.<module>`` importable without importing every module."""
    if PACKAGE in sys.modules:
        return
    if os.environ.get(PLAIN_IMPORT_ENV) == "1":
        importlib.import_module(PACKAGE)
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        raise ModuleNotFoundError(f"{PACKAGE} is not installed; run `make install`")
    sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)


use_pinned_node()
register_provider_package()
