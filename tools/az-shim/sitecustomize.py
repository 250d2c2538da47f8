"""Debian azure-cli 2.45 packaging workaround for privlink (see docs/azure-cli.md).

az 2.45 pins Microsoft.Network API 2022-01-01 for its `latest` profile, but Debian's
python3-azure does not ship azure.mgmt.network.v2022_01_01, so every `az network ...` command
crashes while loading its arguments ('NoneType' object has no attribute 'standard_medium').
Putting this directory on PYTHONPATH makes that module an alias of v2022_07_01 (same models,
newer optional fields); az itself stays unmodified. The network commands privlink uses are AAZ
code that sends api-version=2022-01-01 on the wire regardless.

Python imports the first `sitecustomize` on sys.path, so this file also runs the one it shadows
(Debian's), if any.
"""

import importlib
import importlib.abc
import importlib.util
import os
import sys

_ALIASES = {"azure.mgmt.network.v2022_01_01": "azure.mgmt.network.v2022_07_01"}


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
