"""Debian azure-cli 2.45 packaging workaround for privlink (see docs/azure-cli.md).

az 2.45 pins Microsoft.Network API 2022-01-01 for its `latest` profile, but Debian's
python3-azure does not ship azure.mgmt.network.v2022_01_01, so every `az network ...` command
crashes while loading its arguments ('NoneType' object has no attribute 'standard_medium').
Debian's azure-mgmt-network 23.0.0b1 is the single-API client: it has operations only for
2022-07-01 (older versions ship models only), so az's SDK-based commands (`az network nic ...`)
also fail ("'network_interfaces' is not available in API version 2022-01-01").
Putting this directory on PYTHONPATH (1) makes azure.mgmt.network.v2022_01_01 an alias of
v2022_07_01 (same models, newer optional fields) and (2) moves az's `latest` profile for
Microsoft.Network to 2022-07-01 when azure.cli.core.profiles._shared loads; az itself stays
unmodified. AAZ-based commands (vnet, subnet, peering, lb probe/rule) keep sending
api-version=2022-01-01; SDK-based ones (nic) send 2022-07-01. privlinkd accepts both.
(3) gives azure-mgmt-authorization's operation classes the `config` attribute az 2.45's role
commands read (`az role assignment create|list|delete`).

Python imports the first `sitecustomize` on sys.path, so this file also runs the one it shadows
(Debian's), if any.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

# Most specific first. Debian's single-API SDK keeps its operations at azure.mgmt.network.operations.
_ALIASES = {
    "azure.mgmt.network.v2022_01_01.operations": "azure.mgmt.network.operations",
    "azure.mgmt.network.v2022_07_01.operations": "azure.mgmt.network.operations",
    "azure.mgmt.network.v2022_01_01": "azure.mgmt.network.v2022_07_01",
}


def _target(fullname):
    for alias, real in _ALIASES.items():
        if fullname == alias or fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if _target(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(_target(spec.name))
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module):
        pass  # the real module is already initialised


sys.meta_path.insert(0, _AliasFinder())

class _PostImportPatcher(importlib.abc.MetaPathFinder):
    """Lets each module whose name `matches` load normally, then calls `patch(module)`."""

    def __init__(self, matches, patch):
        self._matches = matches
        self._patch = patch

    def find_spec(self, fullname, path, target=None):
        if not self._matches(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module
        patch = self._patch

        def exec_module(module):
            original(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


_NETWORK_API = "2022-07-01"


def _pin_network_api(module):
    """Points az's Microsoft.Network profile entry at _NETWORK_API."""
    try:
        module.AZURE_API_PROFILES["latest"][module.ResourceType.MGMT_NETWORK] = _NETWORK_API
    except (AttributeError, KeyError):
        pass  # another az version: leave its profile alone


sys.meta_path.insert(0, _PostImportPatcher(
    lambda name: name == "azure.cli.core.profiles._shared", _pin_network_api))


def _add_operations_config(module):
    """az 2.45's role commands read `<operations>.config.subscription_id`, an attribute of the
    older azure-mgmt-authorization that Debian's newer one names `_config`; without it every
    `az role assignment|definition ...` command fails before sending a request. The *Operations
    classes of each azure.mgmt.authorization operations module get a read-only `config`
    property returning `_config`."""
    for name, value in list(vars(module).items()):
        if (isinstance(value, type) and name.endswith("Operations")
                and not hasattr(value, "config")):
            value.config = property(lambda self: self._config)


sys.meta_path.insert(0, _PostImportPatcher(
    lambda name: name.startswith("azure.mgmt.authorization.") and "operations" in name,
    _add_operations_config))


def _chain_shadowed_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == here:
            continue
        candidate = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as f:
                    code = compile(f.read(), candidate, "exec")
                exec(code, {"__name__": "sitecustomize", "__file__": candidate})
            except Exception:  # a broken distro hook must not break az
                pass
            return


_chain_shadowed_sitecustomize()
