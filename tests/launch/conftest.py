"""The ``fake`` fixture: a fake gcloud on PATH recording every call (tests/launch/fake_gcloud.py)."""
import pytest
from fake_gcloud import make_world


@pytest.fixture
def fake(tmp_path):
    """A fake-gcloud world: bin dir on PATH, call log, and a HOME that already has a gcloud key."""
    return make_world(tmp_path)
