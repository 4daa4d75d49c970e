"""API Gateway REST API: POST /transaction and GET /transaction/{transaction_id}."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cdktf import Fn, ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct

from card_transactions.handlers.gateway_responses import GATEWAY_RESPONSES
from card_transactions.stacks.config import CustomDomain
from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.api_clients import ApiClients, logical_id
from card_transactions.stacks.constructs.logs import encrypted_log_group
from card_transactions.stacks.constructs.python_function import PythonFunction

STAGE_NAME = "prod"
# The region's API Gateway logging setting and its role, made here by earlier versions (now the
# bootstrap stack's): forgotten, never destroyed.
FORMER_ACCOUNT_RESOURCES = (
    ("aws_api_gateway_account", "Account"),
    ("aws_iam_role", "CloudWatchRole"),
    ("aws_iam_role_policy", "CloudWatchRolePolicy"),
)
# One JSON line per request; no request or response bodies, no API key value (only its id).
ACCESS_LOG_FORMAT: Mapping[str, str] = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integration.error",
    "apiKeyId": "$context.identity.apiKeyId",
    "wafStatus": "$context.waf.status",
    "xrayTraceId": "$context.xrayTraceId",
}


def provider_normalized_json(value: Any) -> str:
    """``value`` as JSON exactly as the AWS provider normalizes it into the state (Go's encoding/json:
    sorted keys, no spaces, ``<``, ``>`` and ``&`` escaped). The provider sends the configured text and
    API Gateway returns it verbatim on refresh: any other spelling reads back as a change made outside
    Terraform, and the deployment trigger that hashes the schema then replaces the deployment."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


class TransactionApi(Construct):
    """Regional REST API with Lambda proxy integrations, the clients' API keys and usage plans.

    Default settings:
      * API key required on every method; each client's usage plan (rate, burst, daily quota) bound
        to the stage (``ApiClients``);
      * request parameters required by a validator that never looks at bodies: API Gateway's body
        validation quotes invalid values in its execution-log messages, so POST bodies are validated
        by the function against the same JSON Schema (the model stays as the body's documentation);
      * stage ``prod`` with X-Ray tracing and JSON access logs to a KMS-encrypted group;
      * method settings: metrics on, ERROR execution logging (INFO writes each request's path, which
        can carry whatever a client put there; group pre-created, encrypted, retained), data trace off,
        stage throttling equal to the usage plan;
      * X-Ray traces every POST but no GET (a sampling rule of rate 0): a trace of the API stage
        records the request URL, the GET's path included;
      * every error API Gateway answers by itself (``handlers.gateway_responses``) in the API's error
        shape ``{"error": {"code", "message", "details", "request_id"}}``, no-store, nosniff;
      * Lambda permissions scoped to this API's execution ARN and the two routes;
      * rest API and deployment replaced create-before-destroy, redeployed when routes change;
      * with a custom domain: a regional domain name with a TLS 1.2+ security policy mapped to the
        stage, the default execute-api endpoint (which negotiates TLS 1.0) disabled, and an alias
        record in the given Route 53 zone.

    API Gateway writes both logs through the region's account setting, which this construct never
    touches: the bootstrap stack sets it (``ApiGatewayLogging``), or the account's owners do. The
    setting and its role that an earlier version made here are forgotten by the state, never destroyed
    (``former_account_addresses``: with provider 6, destroying ``aws_api_gateway_account`` resets the
    region's setting, and every API of the region would lose its logs).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        handler: PythonFunction,
        request_schema: Mapping[str, Any],
        clients: ApiClients,
        rate_limit: int,
        burst_limit: int,
        kms_key_arn: str,
        retention_days: int,
        account: Account,
        domain: CustomDomain | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.former_account_addresses = [
            f"{resource_type}.{logical_id(id_, construct)}"
            for resource_type, construct in FORMER_ACCOUNT_RESOURCES
        ]
        self.rest_api = ApiGatewayRestApi(
            self,
            "RestApi",
            name=name,
            description="Card-transaction submission and status",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            disable_execute_api_endpoint=True if domain else None,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        api_id = self.rest_api.id
        triggers, dependencies = self._routes(api_id, request_schema, handler, account)
        deployment = ApiGatewayDeployment(
            self,
            "Deployment",
            rest_api_id=api_id,
            description="Managed by cdktf",
            triggers={"redeployment": Fn.sha1(Fn.jsonencode(triggers))},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=dependencies,
        )
        self._stage(
            name,
            api_id,
            deployment,
            rate_limit=rate_limit,
            burst_limit=burst_limit,
            kms_key_arn=kms_key_arn,
            retention_days=retention_days,
            account=account,
        )
        XraySamplingRule(
            self,
            "UntracedReads",
            rule_name=f"{name}-get"[-32:],
            priority=1,
            version=1,
            reservoir_size=0,
            fixed_rate=0,
            service_name=f"{name}/{STAGE_NAME}",
            service_type="AWS::ApiGateway::Stage",
            http_method="GET",
            host="*",
            url_path="*",
            resource_arn="*",
        )
        clients.subscribe(api_id, self.stage.stage_name)
        self.endpoint = f"{self.stage.invoke_url}/transaction"
        self.domain_name: ApiGatewayDomainName | None = None
        if domain is not None:
            self.domain_name = self._custom_domain(domain, api_id)
            self.endpoint = f"https://{domain.name}/transaction"

    def _routes(
        self, api_id: str, request_schema: Mapping[str, Any], handler: PythonFunction, account: Account
    ) -> tuple[list[Any], list[ITerraformDependable]]:
        """POST /transaction and GET /transaction/{id} to ``handler``, and the gateway's own responses:
        what redeploys the stage when it changes, and what the deployment waits for."""
        params_validator = ApiGatewayRequestValidator(
            self,
            "ParamsValidator",
            rest_api_id=api_id,
            name="path-parameters",
            validate_request_body=False,
            validate_request_parameters=True,
        )
        model = ApiGatewayModel(
            self,
            "TransactionModel",
            rest_api_id=api_id,
            name="Transaction",
            content_type="application/json",
            description="Transaction submission",
            schema=provider_normalized_json(request_schema),
        )
        collection, item = self._resources(api_id)
        post = ApiGatewayMethod(
            self,
            "PostTransaction",
            rest_api_id=api_id,
            resource_id=collection.id,
            http_method="POST",
            authorization="NONE",
            api_key_required=True,
            request_validator_id=params_validator.id,
            request_models={"application/json": model.name},
        )
        get = ApiGatewayMethod(
            self,
            "GetTransaction",
            rest_api_id=api_id,
            resource_id=item.id,
            http_method="GET",
            authorization="NONE",
            api_key_required=True,
            request_validator_id=params_validator.id,
            request_parameters={"method.request.path.transaction_id": True},
        )
        integrations = [
            ApiGatewayIntegration(
                self,
                f"{method_id}Integration",
                rest_api_id=api_id,
                resource_id=method.resource_id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=handler.invoke_arn,
            )
            for method_id, method in (("PostTransaction", post), ("GetTransaction", get))
        ]
        self._invoke_permissions(handler, account)
        gateway_responses = self._gateway_responses(api_id)
        triggers = [
            collection.id,
            item.id,
            post.id,
            get.id,
            model.schema,
            *[i.id for i in integrations],
            *[i.uri for i in integrations],
            params_validator.id,
            *[r.id for r in gateway_responses],
            *[r.response_templates for r in gateway_responses],
        ]
        return triggers, [*integrations, post, get, *gateway_responses]

    def _resources(self, api_id: str) -> tuple[ApiGatewayResource, ApiGatewayResource]:
        """``/transaction`` and ``/transaction/{transaction_id}``."""
        collection = ApiGatewayResource(
            self,
            "TransactionResource",
            rest_api_id=api_id,
            parent_id=self.rest_api.root_resource_id,
            path_part="transaction",
        )
        item = ApiGatewayResource(
            self,
            "TransactionItemResource",
            rest_api_id=api_id,
            parent_id=collection.id,
            path_part="{transaction_id}",
        )
        return collection, item

    def _invoke_permissions(self, handler: PythonFunction, account: Account) -> None:
        for route_id, path in (("Post", "POST/transaction"), ("Get", "GET/transaction/*")):
            LambdaPermission(
                self,
                f"Invoke{route_id}",
                statement_id=f"AllowApiGateway{route_id}",
                action="lambda:InvokeFunction",
                function_name=handler.function.function_name,
                qualifier=handler.qualifier,
                principal="apigateway.amazonaws.com",
                source_arn=f"{self.rest_api.execution_arn}/*/{path}",
                source_account=account.account_id,
            )

    def _gateway_responses(self, api_id: str) -> list[ApiGatewayGatewayResponse]:
        return [
            ApiGatewayGatewayResponse(
                self,
                "GatewayResponse" + response.response_type.title().replace("_", ""),
                rest_api_id=api_id,
                response_type=response.response_type,
                status_code=str(int(response.status)) if response.status is not None else None,
                response_templates={"application/json": response.template()},
                response_parameters=response.header_parameters(),
            )
            for response in GATEWAY_RESPONSES
        ]

    def _stage(
        self,
        name: str,
        api_id: str,
        deployment: ApiGatewayDeployment,
        *,
        rate_limit: int,
        burst_limit: int,
        kms_key_arn: str,
        retention_days: int,
        account: Account,
    ) -> None:
        """The stage with its encrypted access and execution logs, and its method settings."""
        access_logs = encrypted_log_group(
            self,
            "AccessLogGroup",
            name=f"/aws/apigateway/{name}/access",
            kms_key_arn=kms_key_arn,
            retention_days=retention_days,
            card_data_partition=account.partition,
        )
        execution_logs = encrypted_log_group(
            self,
            "ExecutionLogGroup",
            name=f"API-Gateway-Execution-Logs_{api_id}/{STAGE_NAME}",
            kms_key_arn=kms_key_arn,
            retention_days=retention_days,
            card_data_partition=account.partition,
        )
        self.stage = ApiGatewayStage(
            self,
            "Stage",
            rest_api_id=api_id,
            deployment_id=deployment.id,
            stage_name=STAGE_NAME,
            xray_tracing_enabled=True,
            cache_cluster_enabled=False,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=access_logs.arn, format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))
            ),
            depends_on=[execution_logs],
        )
        ApiGatewayMethodSettings(
            self,
            "MethodSettings",
            rest_api_id=api_id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="ERROR",
                data_trace_enabled=False,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                caching_enabled=False,
                cache_data_encrypted=True,
            ),
        )

    def _custom_domain(self, domain: CustomDomain, api_id: str) -> ApiGatewayDomainName:
        """The stage at the root of ``domain``, TLS 1.2+ only, with its DNS alias when a zone is given."""
        domain_name = ApiGatewayDomainName(
            self,
            "DomainName",
            domain_name=domain.name,
            regional_certificate_arn=domain.certificate_arn,
            security_policy=domain.security_policy,
            endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
        )
        ApiGatewayBasePathMapping(
            self,
            "BasePathMapping",
            api_id=api_id,
            stage_name=self.stage.stage_name,
            domain_name=domain_name.domain_name,
        )
        if domain.hosted_zone_id:
            Route53Record(
                self,
                "DomainRecord",
                zone_id=domain.hosted_zone_id,
                name=domain_name.domain_name,
                type="A",
                alias=Route53RecordAlias(
                    name=domain_name.regional_domain_name,
                    zone_id=domain_name.regional_zone_id,
                    evaluate_target_health=False,
                ),
            )
        return domain_name
