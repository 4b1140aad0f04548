"""Build script.  Until the Cython fallback lands this builds the pure-Python package only;
all metadata lives in pyproject.toml."""
from setuptools import setup

setup()
