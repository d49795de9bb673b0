from tests.governance.watchlist.support import (  # noqa: F401
    btp_api,
    btp_submitter,
    camden_api,
    camden_submitter,
    met_api,
    met_submitter,
)
