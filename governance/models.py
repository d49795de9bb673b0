"""Django's entry point for the governance models; each subdomain keeps its own module."""

from governance.administration.models import Invitation  # noqa: F401, E402
from governance.agreements.models import (  # noqa: F401
    Agreement,
    AgreementGroupObjectPermission,
    AgreementUserObjectPermission,
)
from governance.api.models import ApiToken, IdempotencyRecord  # noqa: F401, E402
from governance.audit.models import (  # noqa: F401
    AuditEvent,
    AuditEventOrganisation,
    AuditLeaf,
    AuditPending,
    AuditSeal,
    AuditTreeHead,
    AuditTreeNode,
)
from governance.breaches.models import Breach, BreachParty  # noqa: F401, E402
from governance.dpia.models import DPIA, DPIADeployment, DPIARisk, PolicyDocument  # noqa: F401, E402
from governance.organisations.models import Organisation, User  # noqa: F401
from governance.reports.models import PrincipleCommentary, PublishedReport  # noqa: F401, E402
from governance.subject_access.door.models import DoorCode, DoorFile, DoorReply, DoorSubmission  # noqa: F401, E402
from governance.subject_access.models import (  # noqa: F401, E402
    RecipientNotification,
    SubjectRequest,
    SubjectRequestAction,
    SubjectRequestExport,
    SubjectRequestItem,
    SubjectRequestPause,
    SupplierConsultation,
)
from governance.watchlist.models import (  # noqa: F401, E402
    DeletionCertificate,
    WatchlistBulkItem,
    WatchlistBulkUpload,
    WatchlistImage,
    WatchlistImageContent,
    WatchlistImageGroupObjectPermission,
    WatchlistImageUpload,
    WatchlistImageUserObjectPermission,
)
