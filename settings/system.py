"""The system's constants: what the app deploys and the fixed values its settings are checked against.

Settings (``settings.catalog``, ``local.config``) vary between deployments; these do not. The stacks, the
functions and the local runtime import them from here, so a name such as an index or a tag is written once.
"""

from card_transactions.settings.model import Function

# --- what the app deploys: two stacks, four functions -------------------------------------------------

STATE_BACKEND_STACK = "state-backend"  # bootstrap: the state bucket and lock table (local state)
TRANSACTION_STACK = "transaction-processing"  # everything else (state in the bucket)
STACKS = (STATE_BACKEND_STACK, TRANSACTION_STACK)
# The transactions table's index by merchant and receive time: the stack creates it, the fraud-detection
# function's velocity rule counts a merchant's recent transactions through it.
MERCHANT_INDEX = "by-merchant"
# Its sparse index of pending records (attributes present only while pending, ``handlers.domain.records``):
# the reconciler finds stale pending transactions through it.
PENDING_INDEX = "pending-by-age"

VALIDATION = Function("validation", service="validation", timeout_seconds=10)
FRAUD_DETECTION = Function("fraud_detection", service="fraud-detection", timeout_seconds=30)
FAILED_TRANSACTION = Function("failed_transaction", service="failed-transaction", timeout_seconds=30)
RECONCILER = Function("reconciler", service="reconciler", timeout_seconds=120)
FUNCTIONS = (VALIDATION, FRAUD_DETECTION, FAILED_TRANSACTION, RECONCILER)

METRICS_NAMESPACE = "TransactionProcessing"
FUNCTION_LOG_LEVEL = "INFO"


def observability_environment(function: Function, environment_suffix: str) -> dict[str, str]:
    """What every function gets for Powertools (service, metrics namespace, log level) and as a label."""
    return {
        "POWERTOOLS_SERVICE_NAME": function.service,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": FUNCTION_LOG_LEVEL,
        "ENVIRONMENT": environment_suffix,
    }


# CloudWatch Logs accepts only these retention periods; PCI DSS 10.5.1 needs at least 365 days.
LOG_RETENTION_DAYS_ALLOWED = (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)

# API clients: API_CLIENTS items, ``name`` or ``name:rate:burst:quota``.
DEFAULT_API_CLIENT = "default"
API_CLIENT_PATTERN = r"[a-z][a-z0-9-]{0,31}(:[1-9][0-9]*:[1-9][0-9]*:[1-9][0-9]*)?"
# The tag naming an API key's client: the stack sets it, the local runtime hands each client its key.
API_CLIENT_TAG = "ApiClient"

# WAF: AWS managed rule groups for an API called by servers (docs/waf.md).
WAF_DEFAULT_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
# Merchant backends run on cloud hosting ranges: count that rule, keep Tor and VPN blocks.
WAF_DEFAULT_OVERRIDES = ("AWSManagedRulesAnonymousIpList:HostingProviderIPList=count",)
# Common rule set rules that block requests the API accepts: counted unless the settings say otherwise.
WAF_COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
WAF_NO_USER_AGENT_RULE = "NoUserAgent_HEADER"
WAF_BODY_SIZE_RULE = "SizeRestrictions_BODY"
WAF_RATE_WINDOWS = (60, 120, 300, 600)  # evaluation windows WAF accepts (seconds)
WAF_MAX_RATE_LIMIT = 2_000_000_000
