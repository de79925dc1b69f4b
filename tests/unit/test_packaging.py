"""Packaging facts a fresh `pip install .` depends on."""

import configparser
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _listed_packages() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return {p.strip() for p in cfg["options"]["packages"].split() if p.strip()}


def test_every_subpackage_is_listed_in_setup_cfg():
    # setup.cfg lists packages explicitly (twisted/plugins has no __init__.py, so find: cannot be
    # used); a package missing here installs without that code.
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "twistd_redis").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= _listed_packages(), f"not in setup.cfg packages: {sorted(found - _listed_packages())}"


def test_plugin_is_a_single_servicemaker_without_package_init():
    plugin_dir = ROOT / "twisted" / "plugins"
    assert not (ROOT / "twisted" / "__init__.py").exists()
    assert not (plugin_dir / "__init__.py").exists()
    assert "twisted.plugins" in _listed_packages()
    assert 'ServiceMaker("twistd-redis", "twistd_redis.tap"' in (plugin_dir / "twistd_redis_plugin.py").read_text()
