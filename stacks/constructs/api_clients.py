"""The API's clients: one usage plan (rate, burst, daily quota) each; their keys live outside Terraform."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cdktf_cdktf_provider_aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from constructs import Construct

from card_transactions.settings.system import API_CLIENT_TAG
from card_transactions.stacks.config import ApiClient

# Resources an earlier version of this construct created per client: the keys (their values sat in the
# Terraform state) and their usage plan membership. Dropped from the configuration, kept in AWS.
FORMER_KEY_RESOURCES = (
    ("aws_api_gateway_api_key", "Key"),
    ("aws_api_gateway_usage_plan_key", "UsagePlanKey"),
)


def logical_id(*path: str) -> str:
    """The logical id CDK for Terraform gives a construct at ``path`` under the stack (its readable path
    joined with ``_`` and the first 8 hex digits of the MD5 of the path, upper case)."""
    digest = hashlib.md5("/".join(path).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    return "_".join(path) + "_" + digest


class ApiClients(Construct):
    """One usage plan per client, bound to the stage once it exists (``subscribe``).

    Default settings: each plan named ``{api}-{client}`` and tagged ``ApiClient={client}``, so
    ``python -m tools.clients`` finds it, creates the client's keys through API Gateway's API and adds
    them to it by id; Terraform never creates, reads or stores a key. Keys that an earlier version
    created in Terraform are forgotten by the state without being destroyed (``removed`` blocks with
    ``destroy = false`` in ``removed.tf``): they keep working until rotated or revoked.
    """

    def __init__(self, scope: Construct, id_: str, *, api_name: str, clients: Sequence[ApiClient]) -> None:
        super().__init__(scope, id_)
        self._api_name = api_name
        self.clients = tuple(clients)
        self.plans: dict[str, ApiGatewayUsagePlan] = {}
        # Addresses Terraform is to forget, not destroy (``removed.tf``, written by ``stacks.app``).
        self.former_key_addresses = [
            f"{resource_type}.{logical_id(id_, f'{prefix}-{client.name}')}"
            for client in self.clients
            for resource_type, prefix in FORMER_KEY_RESOURCES
        ]

    @property
    def plan_ids(self) -> dict[str, str]:
        """Client name -> usage plan id (a reference, known at apply)."""
        return {name: plan.id for name, plan in self.plans.items()}

    def subscribe(self, rest_api_id: str, stage_name: str) -> None:
        """One usage plan per client on the stage."""
        for client in self.clients:
            self.plans[client.name] = ApiGatewayUsagePlan(
                self,
                f"UsagePlan-{client.name}",
                name=f"{self._api_name}-{client.name}",
                description=f"Limits of the client {client.name}",
                api_stages=[ApiGatewayUsagePlanApiStages(api_id=rest_api_id, stage=stage_name)],
                throttle_settings=ApiGatewayUsagePlanThrottleSettings(
                    rate_limit=client.rate_limit, burst_limit=client.burst_limit
                ),
                quota_settings=ApiGatewayUsagePlanQuotaSettings(limit=client.quota_per_day, period="DAY"),
                tags={API_CLIENT_TAG: client.name},
            )
