"""Fixtures for the data-pipeline tests: default scope and synthetic clips."""
import pytest
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _mmaction_scope():
    """Pipelines are built from MMAction2's registries, as in a config."""
    init_default_scope('mmaction')
