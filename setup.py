# Binder (repo2docker) runs `pip install .` when it finds a setup.py; the real metadata is in
# pyproject.toml. This shim makes `abteach` importable in every Binder session.
from setuptools import setup

setup()
