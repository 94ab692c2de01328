"""Shared helpers of the Python tool tests: paths and loading extension-less scripts."""
import importlib.machinery
import importlib.util
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPTS = os.path.join(ROOT, 'scripts')
PYTHON = '/usr/bin/python3'
FAKE_DARKNET = os.path.join(ROOT, 'tests', 'py', 'fake_darknet.py')


def load_script(name):
    """Import scripts/NAME (with or without .py) as a module."""
    path = os.path.join(SCRIPTS, name)
    modname = name.replace('.py', '').replace('-', '_')
    loader = importlib.machinery.SourceFileLoader(modname, path)
    spec = importlib.util.spec_from_loader(modname, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def run(args, env=None, cwd=None):
    """Run a command; returns CompletedProcess with text stdout/stderr."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e,
                          cwd=cwd or ROOT)
