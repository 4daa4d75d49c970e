"""X-Ray sampling of the API: which requests are traced end to end, and so what tracing costs."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct

RULE_PRIORITY = 100  # before X-Ray's Default rule (priority 10000)
MAX_RULE_NAME = 32


class ApiTraceSampling(Construct):
    """A sampling rule for the API stage: ``reservoir`` requests a second, then ``rate`` of the rest.

    Default settings: every method and path of the stage; the traced request carries its trace through
    the validation function and, on the message, to fraud detection. X-Ray decides when a request
    arrives, before its outcome is known: errors are found through metrics, alarms and the access log
    (which names each request's ``xrayTraceId``), not through sampling.
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, api_name: str, stage: str, reservoir: int, rate: float
    ) -> None:
        super().__init__(scope, id_)
        if len(name) > MAX_RULE_NAME:
            raise ValueError(
                f"an X-Ray sampling rule name has at most {MAX_RULE_NAME} characters, got {name!r}"
            )
        self.rule = XraySamplingRule(
            self,
            "Rule",
            rule_name=name,
            priority=RULE_PRIORITY,
            version=1,
            reservoir_size=reservoir,
            fixed_rate=rate,
            service_name=f"{api_name}/{stage}",
            service_type="AWS::ApiGateway::Stage",
            host="*",
            http_method="*",
            url_path="*",
            resource_arn="*",
        )
