"""Installs the mmav-mask MMAction2 plugin."""
from pathlib import Path

from setuptools import find_packages, setup


def read_requirements(name: str) -> list:
    lines = Path(__file__).with_name(name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


def read_version() -> str:
    scope: dict = {}
    exec(Path(__file__).with_name('mmav_mask').joinpath('version.py').read_text(), scope)
    return scope['__version__']


setup(
    name='mmav-mask',
    version=read_version(),
    description='Audio-visual masked video pretraining (AV-MaskEnhancer) for MMAction2',
    long_description=Path(__file__).with_name('README.md').read_text(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmav_mask', 'mmav_mask.*']),
    python_requires='>=3.11',
    install_requires=read_requirements('requirements.txt'),
    extras_require={'tests': read_requirements('requirements-tests.txt')},
    license='Apache-2.0',
)
