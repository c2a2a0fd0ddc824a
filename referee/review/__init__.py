"""Human review queues: leases, labels, gold checks, final labels and the spot-check alarm.

Entry points (API, terminal, demo) open a session and call :func:`lease_next`,
:func:`submit_label`, :func:`release_item`, :func:`queue_stats`; :func:`final_labels` and
:func:`spot_check_alarm` read the results.
"""

from referee.review.config import GOLD_QUEUE, QUEUES, QueueConfig
from referee.review.errors import (
    AuthenticationFailed,
    InvalidSubmission,
    LeaseConflict,
    NotFound,
    NotLeased,
    ReviewError,
)
from referee.review.final_labels import (
    FinalLabel,
    SpotCheckReport,
    Vote,
    final_labels,
    spot_check_alarm,
    spot_check_report,
)
from referee.review.quality import AnnotatorQuality, annotator_quality, gold_labels
from referee.review.queue_build import ensure_queue, get_dataset, rebuild_queue
from referee.review.service import (
    LabelSubmission,
    Lease,
    ReviewItem,
    lease_next,
    release_item,
    submit_label,
)
from referee.review.simulate import answer_queue_from_gold
from referee.review.stats import QueueCounts, QueueStats, queue_stats
from referee.review.tokens import (
    add_reviewer,
    authenticate,
    get_reviewer,
    list_reviewers,
    set_reviewer_active,
)

__all__ = [
    "GOLD_QUEUE",
    "QUEUES",
    "AnnotatorQuality",
    "AuthenticationFailed",
    "FinalLabel",
    "InvalidSubmission",
    "LabelSubmission",
    "Lease",
    "LeaseConflict",
    "NotFound",
    "NotLeased",
    "QueueConfig",
    "QueueCounts",
    "QueueStats",
    "ReviewError",
    "ReviewItem",
    "SpotCheckReport",
    "Vote",
    "add_reviewer",
    "annotator_quality",
    "answer_queue_from_gold",
    "authenticate",
    "ensure_queue",
    "final_labels",
    "get_dataset",
    "get_reviewer",
    "gold_labels",
    "lease_next",
    "list_reviewers",
    "queue_stats",
    "rebuild_queue",
    "release_item",
    "set_reviewer_active",
    "spot_check_alarm",
    "spot_check_report",
    "submit_label",
]
