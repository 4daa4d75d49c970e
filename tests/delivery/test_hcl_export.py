"""The post-processing of the CDK's HCL synth (tools/hcl_export.py), on small inputs in its own layout."""

from __future__ import annotations

import pytest

from tools.hcl_export import (
    HclError,
    fix_hcl,
    lone_interpolation,
    unquote_meta_references,
    untyped_arguments_as_blocks,
    unwrap_interpolations,
)

WARNING = """
# Warning: The following attribute is of an unexpected type. Either there's a problem with the provider
# or {cdk} has chosen to skip generating a detailed type for this because it increases the size of the provider library significantly.
# Please check if this resource is included in our skip list:
# https://github.com/hashicorp/terraform-cdk/blob/1fb8588/packages/%40cdktf/provider-generator/lib/get/generator/skipped-attributes.ts
# and if not, please check with the provider authors to see if the provider schema is accurate.
#
# We understand this is not ideal, so we suggest using JSON synthesis instead of HCL synthesis for this particular case.
"""  # noqa: E501 - verbatim from the CDK

WAF_RULE = """rule {{
name = "RateLimit"
priority = 4
{warning}
statement = {{
rate_based_statement = [
{{
limit = 2000
aggregate_key_type = "IP"
}},
]
}}

visibility_config {{
metric_name = "RateLimit"
}}
}}
"""


@pytest.mark.parametrize("cdk", ["CDKTF", "CDKTN"])
def test_an_untyped_argument_becomes_nested_blocks_and_its_warning_goes(cdk):
    fixed = untyped_arguments_as_blocks(WAF_RULE.format(warning=WARNING.format(cdk=cdk)))
    assert fixed == (
        'rule {\nname = "RateLimit"\npriority = 4\n'
        'statement {\nrate_based_statement {\nlimit = 2000\naggregate_key_type = "IP"\n}\n}\n'
        'visibility_config {\nmetric_name = "RateLimit"\n}\n}\n'
    )


def test_objects_become_blocks_lists_of_objects_repeat_them_and_values_stay_arguments():
    source = (
        f"rule {{\n{WARNING}\nstatement = {{\nand_statement = {{\nstatement = [\n"
        '{\ngeo_match_statement = [\n{\ncountry_codes = [\n"US",\n"CA",\n]\n},\n]\n},\n'
        '{\nlabel_match_statement = [\n{\nkey = "${aws_x.y.name}"\nscope = "LABEL"\n},\n]\n},\n'
        "]\n}\nnot_statement = {\n}\n}\n}\n"
    )
    assert untyped_arguments_as_blocks(source) == (
        "rule {\nstatement {\nand_statement {\n"
        'statement {\ngeo_match_statement {\ncountry_codes = ["US", "CA"]\n}\n}\n'
        'statement {\nlabel_match_statement {\nkey = "${aws_x.y.name}"\nscope = "LABEL"\n}\n}\n'
        "}\nnot_statement {\n}\n}\n}\n"
    )


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ('statement = "x"', r"line 2: the warning is not followed by an object or list argument"),
        ("statement = [\n]", r"'statement' is neither an object nor a list of objects"),
        ('statement = [\n"a",\n]', r"'statement' is neither an object nor a list of objects"),
        ("statement = {\nrules = [\n]\n}", r"'rules' is neither an object nor a list of objects"),
    ],
)
def test_an_untyped_argument_of_another_shape_is_refused_not_guessed(argument, message):
    with pytest.raises(HclError, match=message):
        untyped_arguments_as_blocks(f"rule {{{WARNING}{argument}\n}}\n")


def test_quoted_references_in_meta_arguments_are_unquoted_and_nothing_else():
    source = (
        'resource "aws_s3_object" "Code" {\nbucket = "aws_s3_bucket.b"\n'
        'depends_on = [\n"aws_s3_bucket_versioning.V",\n"aws_iam_role_policy.P"\n]\n'
        'tags = [\n"aws_s3_bucket.b",\n]\n'
        'lifecycle {\nignore_changes = [\n"tags",\n]\n}\n}\n'
    )
    assert unquote_meta_references(source) == (
        'resource "aws_s3_object" "Code" {\nbucket = "aws_s3_bucket.b"\n'
        "depends_on = [\naws_s3_bucket_versioning.V,\naws_iam_role_policy.P\n]\n"
        'tags = [\n"aws_s3_bucket.b",\n]\n'
        'lifecycle {\nignore_changes = [\n"tags",\n]\n}\n}\n'
    )


@pytest.mark.parametrize(
    ("value", "inner"),
    [
        ('"${aws_kms_key.K.arn}"', "aws_kms_key.K.arn"),
        ('"${jsonencode({"a" = "${var.b}"})}"', 'jsonencode({"a" = "${var.b}"})'),
        ('"${element(x, 0)}"', "element(x, 0)"),
        ('"arn:${x}"', None),
        ('"${x}:*"', None),
        ('"${x}${y}"', None),
        ('"$${literal}"', None),
        ('"%{if x}y%{endif}"', None),
        ("3", None),
    ],
)
def test_lone_interpolation(value, inner):
    assert lone_interpolation(value) == inner


def test_only_block_arguments_are_unwrapped_as_terraform_fmt_does():
    source = (
        'resource "aws_kms_alias" "A" {\ntarget_key_id = "${aws_kms_key.K.key_id}"\n'
        'tags = {\nKey = "${aws_kms_key.K.key_id}"\n}\n'
        'resources = [\n"${aws_kms_key.K.arn}"\n]\n}\n'
    )
    assert unwrap_interpolations(source) == (
        'resource "aws_kms_alias" "A" {\ntarget_key_id = aws_kms_key.K.key_id\n'
        'tags = {\nKey = "${aws_kms_key.K.key_id}"\n}\n'
        'resources = [\n"${aws_kms_key.K.arn}"\n]\n}\n'
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a {\nb = <<EOT\nx\nEOT\n}\n", "heredocs are not supported"),
        ("a {\nb = [1, [\n2]]\n}\n", r"line 2: unsupported layout"),
        ("a {\n}\n}\n", r"line 3: unbalanced"),
        ("a {\nb = {\n", "unclosed object"),
        ('a {\nb = "open\n}\n', "unterminated string"),
    ],
)
def test_a_layout_the_scanner_does_not_know_stops_it(source, message):
    with pytest.raises(HclError, match=message):
        unwrap_interpolations(source)


def test_the_fixed_hcl_is_formatted_like_terraform_fmt():
    source = (
        'resource "aws_wafv2_web_acl" "Acl" {\nname = "acl"\ndescription = "${var.d}"\n'
        f"rule {{\npriority = 0\n{WARNING}\nstatement = {{\nmanaged_rule_group_statement = [\n"
        '{\nname = "AWSManagedRulesCommonRuleSet"\nvendor_name = "AWS"\n},\n]\n}\n\n}\n'
        'depends_on = [\n"aws_iam_role.R",\n]\n}\n'
    )
    assert fix_hcl(source) == (
        'resource "aws_wafv2_web_acl" "Acl" {\n'
        '  name        = "acl"\n'
        "  description = var.d\n"
        "  rule {\n"
        "    priority = 0\n"
        "    statement {\n"
        "      managed_rule_group_statement {\n"
        '        name        = "AWSManagedRulesCommonRuleSet"\n'
        '        vendor_name = "AWS"\n'
        "      }\n"
        "    }\n"
        "  }\n"
        "  depends_on = [\n"
        "    aws_iam_role.R,\n"
        "  ]\n"
        "}\n"
    )
