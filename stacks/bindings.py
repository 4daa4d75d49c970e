"""Which CDK toolkit builds the stacks, fast loading of its AWS provider bindings, and Node for jsii.

Nothing here runs on import: the app's entry point (``main.py``) and the test harness call
``activate()`` first. Two toolkits synthesize this app, chosen by ``CDK_TOOLKIT``
(``make synth CDK_TOOLKIT=cdktn``):

- ``cdktf`` (default): CDK for Terraform 0.21.0 with ``cdktf-cdktf-provider-aws`` 21.22.1, from the main
  environment (``Pipfile``). HashiCorp archived it on 2025-12-10; these are its last releases.
- ``cdktn``: CDK Terrain 0.24.0, the community fork, with ``cdktn-provider-aws`` 25.8.1, from its own
  locked environment ``tools/cdktn/.venv`` (``tools/cdktn/Pipfile``). Same classes, renamed packages.

The code imports ``cdktf`` and ``cdktf_cdktf_provider_aws`` either way. Under CDK Terrain a meta-path
finder answers those imports with the very modules of ``cdktn`` and ``cdktn_provider_aws`` (same
objects, so each jsii assembly is loaded once), so the stacks exist in one copy and the import rename
stays in this file. ``tests/infra/test_cdk_terrain.py`` proves both toolkits write the same stacks.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all ~2,200 resource modules
(20-30 s, ~600 MB). The modules only need their package object and the jsii assembly in ``_jsii``; both
are loaded on demand when a resource module is imported. So under cdktf the package is registered in
``sys.modules`` without running its ``__init__`` and each construct imports the few modules it uses.
``tests/infra/test_fast_import.py`` proves the synthesized JSON is byte-identical to the plain import.
Set ``CDKTF_PROVIDER_PLAIN_IMPORT=1`` to use the plain import. ``cdktn_provider_aws`` imports its
modules lazily by itself.

jsii prints an end-of-life banner on Node 20. ``npm ci`` installs a pinned Node 22 (``package.json``);
when present it is used for the jsii runtime unless ``JSII_NODE`` is already set.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
TOOLKIT_ENV = "CDK_TOOLKIT"
PLAIN_IMPORT_ENV = "CDKTF_PROVIDER_PLAIN_IMPORT"
PINNED_NODE = ROOT / "node_modules" / "node" / "bin" / "node"


@dataclass(frozen=True)
class Toolkit:
    """A CDK toolkit: its core and AWS provider packages, and the environment that holds them."""

    name: str
    core: str
    provider: str
    environment: Path

    @property
    def python(self) -> Path:
        return self.environment / "bin" / "python"


CDKTF = Toolkit("cdktf", "cdktf", "cdktf_cdktf_provider_aws", ROOT / ".venv")
CDKTN = Toolkit("cdktn", "cdktn", "cdktn_provider_aws", ROOT / "tools" / "cdktn" / ".venv")
TOOLKITS = {toolkit.name: toolkit for toolkit in (CDKTF, CDKTN)}
# The module names the code imports; another toolkit is served under them.
PACKAGE = CDKTF.provider


def selected_toolkit(environ: Mapping[str, str] = os.environ) -> Toolkit:
    name = environ.get(TOOLKIT_ENV, CDKTF.name)
    if name not in TOOLKITS:
        raise ValueError(f"{TOOLKIT_ENV} must be one of {sorted(TOOLKITS)}, got {name!r}")
    return TOOLKITS[name]


# The jsii runtime calls ``util.isArray``, which Node 22 reports as deprecated (DEP0044) on every synth.
QUIET_NODE_OPTION = "--disable-warning=DEP0044"


def use_pinned_node() -> None:
    """Point jsii at the project's pinned Node unless the caller chose one, without the runtime's
    deprecation notice (a synth prints no banner)."""
    if "JSII_NODE" not in os.environ and PINNED_NODE.exists():
        os.environ["JSII_NODE"] = str(PINNED_NODE)
        options = os.environ.get("NODE_OPTIONS", "")
        if QUIET_NODE_OPTION not in options:
            os.environ["NODE_OPTIONS"] = f"{options} {QUIET_NODE_OPTION}".strip()


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


class PackageAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``alias`` and ``alias.<sub>`` as the very module objects of ``target`` and ``target.<sub>``.

    Aliasing only the package in ``sys.modules`` is not enough: its submodules would then be found
    through the package path and executed a second time under the alias name (two copies of every
    class, each registering itself with jsii).
    """

    def __init__(self, alias: str, target: str) -> None:
        self.alias = alias
        self.target = target

    def _target_name(self, fullname: str) -> str | None:
        if fullname == self.alias or fullname.startswith(self.alias + "."):
            return self.target + fullname[len(self.alias) :]
        return None

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if self._target_name(fullname) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        target_name = self._target_name(spec.name)
        assert target_name is not None  # find_spec only answers for alias names
        module = importlib.import_module(target_name)
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias spec on the (already executed) module: give its own back.
        module.__spec__ = module.__spec__.loader_state  # type: ignore[union-attr]


def alias_toolkit(toolkit: Toolkit) -> None:
    """Serve ``toolkit``'s packages under cdktf's module names, the ones the code imports."""
    if importlib.util.find_spec(toolkit.core) is None:
        raise ModuleNotFoundError(
            f"{TOOLKIT_ENV}={toolkit.name} needs the {toolkit.core} package: run `make synth "
            f"{TOOLKIT_ENV}={toolkit.name}`, which runs the app with {toolkit.python.relative_to(ROOT)}"
        )
    for alias, target in ((CDKTF.core, toolkit.core), (CDKTF.provider, toolkit.provider)):
        if alias in sys.modules and sys.modules[alias].__name__ != target:
            raise RuntimeError(f"{alias} was imported before {TOOLKIT_ENV}={toolkit.name} took effect")
        if not any(isinstance(f, PackageAlias) and f.alias == alias for f in sys.meta_path):
            sys.meta_path.insert(0, PackageAlias(alias, target))


def activate(environ: Mapping[str, str] = os.environ) -> Toolkit:
    """Switch the toolkit, the fast provider import and the pinned Node on for this process; call it
    first in an entry point (``main.py``), before any CDK module is imported. Importing ``stacks``
    changes nothing in the process: a host app imports the construct without it."""
    toolkit = selected_toolkit(environ)
    use_pinned_node()
    if toolkit is CDKTF:
        register_provider_package()
    else:
        alias_toolkit(toolkit)
    return toolkit
