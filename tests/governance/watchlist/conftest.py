from tests.governance.watchlist.support import (  # noqa: F401
    btp_api,
    btp_submitter,
    camden_api,
    camden_submitter,
    met_api,
    met_submitter,
)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _strict_pillow():
    """Loading the scenario imports WeasyPrint, which turns on Pillow's LOAD_TRUNCATED_IMAGES globally;
    put it back so later tests (the engine's truncated-image checks) see Pillow's default."""
    from PIL import ImageFile

    yield
    ImageFile.LOAD_TRUNCATED_IMAGES = False
