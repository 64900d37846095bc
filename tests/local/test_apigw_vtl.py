"""Unit tests pinning the API Gateway mapping-template behaviours emulated by ``apigw_vtl``.

Each test pins one behaviour; see the module docstring of ``local.apigw.apigw_vtl`` for the
sources behind each choice.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

import pytest

from local.apigw.apigw_vtl import (
    OverrideConflictError,
    Rendered,
    RequestParams,
    TemplateRuntimeError,
    TemplateSyntaxError,
    default_context,
    render,
)


def text(template: str, **kwargs) -> str:
    return render(template, **kwargs).text


def body_of(**values) -> str:
    return json.dumps(values)


# ---------------------------------------------------------------------------------------------
# $input.body / $input.json / $input.path
# ---------------------------------------------------------------------------------------------


def test_input_body_is_the_raw_payload_text():
    assert text("$input.body", body='{ "a" :1 }') == '{ "a" :1 }'


def test_input_body_of_an_empty_payload_is_an_empty_json_object():
    assert text("$input.body", body="") == "{}"


def test_input_json_returns_a_string_value_quoted_and_json_escaped():
    assert text("$input.json('$.s')", body=body_of(s='say "hi" \\ now\n')) == r'"say \"hi\" \\ now\n"'


def test_input_json_returns_objects_and_arrays_as_compact_json_in_document_order():
    payload = '{"z": {"b": [1, 2], "a": "x/y"}, "y": []}'
    assert text("$input.json('$')", body=payload) == '{"z":{"b":[1,2],"a":"x/y"},"y":[]}'


def test_input_json_returns_numbers_booleans_and_null_as_json_literals():
    payload = body_of(i=42, f=1.5, t=True, n=None)
    rendered = text("$input.json('$.i') $input.json('$.f') $input.json('$.t') $input.json('$.n')", body=payload)
    assert rendered == "42 1.5 true null"


def test_input_json_of_a_missing_path_is_a_json_empty_string():
    assert text("$input.json('$.missing')", body=body_of(a=1)) == '""'


def test_input_json_round_trips_quotes_backslashes_and_non_ascii_text():
    url = 'https://例え.jp/ä?q="x"&p=\\path\\\t💡\u2028end'
    rendered = render('{"url": $input.json(\'$.url\')}', body=body_of(url=url))
    assert rendered.json() == {"url": url}


def test_input_path_returns_a_list_whose_size_can_be_taken():
    assert text("$input.path('$.Items').size()", body=body_of(Items=[{}, {}, {}])) == "3"


def test_input_path_items_can_be_iterated_and_navigated_with_properties():
    payload = body_of(Items=[{"url": {"S": "https://a"}}, {"url": {"S": "https://b"}}])
    template = "#foreach($item in $input.path('$.Items'))$item.url.S;#end"
    assert text(template, body=payload) == "https://a;https://b;"


def test_input_path_supports_dot_bracket_and_index_notation():
    payload = body_of(a=[{"b": "first"}, {"b": "last"}], c={"d e": "spaced"})
    template = (
        "$input.path('$.a[0].b') $input.path(\"$['a'][1]['b']\") "
        "$input.path('$.a[-1].b') $input.path(\"$.c['d e']\")"
    )
    assert text(template, body=payload) == "first last last spaced"


def test_input_path_supports_wildcards_and_deep_scan_returning_lists():
    payload = body_of(a=[{"id": 1}, {"id": 2}], b={"id": 3})
    assert text("$input.path('$.a[*].id') $input.path('$..id')", body=payload) == "[1,2] [1,2,3]"


def test_input_path_object_renders_like_a_java_map():
    payload = body_of(bigger="dict", to="test", nested={"foo": "bar"}, n=None)
    assert text("$input.path('$')", body=payload) == "{bigger=dict, to=test, nested={foo=bar}, n=null}"


def test_input_path_array_renders_as_json_with_escaped_slashes():
    payload = body_of(list=[{"url": "https://x/y"}, "a/b"])
    assert text("$input.path('$.list')", body=payload) == r'[{"url":"https:\/\/x\/y"},"a\/b"]'


def test_input_path_decimal_numbers_render_like_java_doubles():
    payload = '{"one": 1.0, "price": 249.99, "big": 1e20, "tiny": 0.000015, "int": 7}'
    template = " ".join(f"$input.path('$.{key}')" for key in ("one", "price", "big", "tiny", "int"))
    assert text(template, body=payload) == "1.0 249.99 1.0E20 1.5E-5 7"


def test_input_path_of_a_missing_path_equals_empty_string_and_null():
    template = (
        '#set($result = $input.path("$.nonExisting"))'
        '{"body": $result, "isNull": #if($result == $null)"true"#else"false"#end, '
        '"isEmptyString": #if($result == "")"true"#else"false"#end}'
    )
    assert text(template, body=body_of(a=1)) == '{"body": , "isNull": "true", "isEmptyString": "true"}'


def test_input_path_on_a_non_json_body_finds_nothing_below_the_root():
    assert text("[$input.path('$.message')]", body="not json") == "[]"


def test_input_json_on_a_non_json_body_returns_a_json_empty_string():
    assert text("$input.json('$.message')", body="not json") == '""'


def test_input_path_with_a_filter_expression_is_rejected_explicitly():
    with pytest.raises(TemplateRuntimeError, match="filter expressions are not supported"):
        render("$input.path('$.a[?(@.b)]')", body=body_of(a=[]))


# ---------------------------------------------------------------------------------------------
# $input.params
# ---------------------------------------------------------------------------------------------


def test_input_params_name_prefers_path_then_querystring_then_header():
    params = RequestParams(path={"id": "from-path"}, querystring={"id": "from-qs", "q": "from-qs"},
                           header={"id": "from-header", "q": "from-header", "h": "from-header"})  # fmt: skip
    assert text("$input.params('id') $input.params('q') $input.params('h')", params=params) == (
        "from-path from-qs from-header"
    )


def test_input_params_header_lookup_ignores_case():
    params = RequestParams(header={"X-Api-Key": "secret"})
    assert text("$input.params('x-api-key') $input.params().header.get('X-API-KEY')", params=params) == (
        "secret secret"
    )


def test_input_params_name_is_empty_string_when_absent():
    assert text("[$input.params('nope')]#if($input.params('nope') == '') absent#end") == "[] absent"


def test_input_params_map_has_path_querystring_and_header_in_that_order():
    assert text("$input.params().keySet()") == "[path, querystring, header]"


def test_input_params_nested_map_get_returns_a_single_parameter():
    params = RequestParams(path={"code": "abc123"}, querystring={"page": "2"})
    template = "$input.params().path.get('code') $input.params().querystring.page $input.params().path.size()"
    assert text(template, params=params) == "abc123 2 1"


def test_aws_docs_all_params_template_passes_every_parameter():
    template = """#set($allParams = $input.params())
{
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}
"""
    params = RequestParams(path={"code": "a/b"}, querystring={"x": "1", "y": "2"}, header={"Accept": "*/*"})
    assert render(template, params=params).json() == {
        "params": {"path": {"code": "a/b"}, "querystring": {"x": "1", "y": "2"}, "header": {"Accept": "*/*"}}
    }


# ---------------------------------------------------------------------------------------------
# $util.escapeJavaScript and the replaceAll idiom
# ---------------------------------------------------------------------------------------------


def test_escape_javascript_backslash_escapes_quotes_backslash_and_slash():
    rendered = text("$util.escapeJavaScript($input.path('$.s'))", body=body_of(s="it's \"q\" \\ a/b"))
    assert rendered == r"it\'s \"q\" \\ a\/b"


def test_escape_javascript_uses_short_escapes_for_common_control_characters():
    rendered = text("$util.escapeJavaScript($input.path('$.s'))", body=body_of(s="\b\f\n\r\t"))
    assert rendered == r"\b\f\n\r\t"


def test_escape_javascript_writes_other_control_characters_as_unicode_escapes():
    rendered = text("$util.escapeJavaScript($input.path('$.s'))", body=body_of(s="\x00\x01\x1f"))
    assert rendered == r"\u0000\u0001\u001F"


def test_escape_javascript_writes_non_ascii_as_uppercase_utf16_escapes():
    rendered = text("$util.escapeJavaScript($input.path('$.s'))", body=body_of(s="é中😀"))
    assert rendered == r"\u00E9\u4E2D\uD83D\uDE00"


def test_escape_javascript_output_with_a_single_quote_is_not_valid_json():
    rendered = render("""{"name": "$util.escapeJavaScript($input.path('$.name'))"}""", body=body_of(name="O'Brien"))
    assert rendered.text == r'{"name": "O\'Brien"}'
    with pytest.raises(AssertionError, match="not valid JSON"):
        rendered.json()


def test_replace_all_idiom_from_aws_docs_turns_escaped_single_quotes_back_into_valid_json():
    template = r"""{"name": "$util.escapeJavaScript($input.path('$.name')).replaceAll("\\'","'")"}"""
    name = "O'Brien says \"hi\" \\ 😀"
    rendered = render(template, body=body_of(name=name))
    assert rendered.json() == {"name": name}


def test_double_quoted_velocity_string_literals_keep_backslashes_verbatim():
    assert text(r"""#set($s = "\\'")$s $s.length()""") == r"\\' 3"


def test_replace_all_interprets_its_pattern_as_a_java_regex():
    assert text("""#set($s = "a.b.c")$s.replaceAll(".", "x") $s.replaceAll("[.]", "-")""") == "xxxxx a-b-c"


def test_replace_all_supports_java_group_references_in_the_replacement():
    template = r"""#set($s = "Hello World")$s.replaceAll("(\w+) (\w+)", '$2 $1') $s.replaceAll("o", '\$')"""
    assert text(template) == "World Hello Hell$ W$rld"


# ---------------------------------------------------------------------------------------------
# Other $util functions
# ---------------------------------------------------------------------------------------------


def test_parse_json_returns_an_object_navigable_with_properties_and_indexes():
    payload = body_of(errorMessage='{"key1":"var1","key2":{"arr":[1,2,3]}}')
    template = "#set($obj = $util.parseJson($input.path('$.errorMessage')))$obj.key2.arr[0] $obj.key1"
    assert text(template, body=payload) == "1 var1"


def test_url_encode_follows_java_url_encoder_rules():
    assert text("$util.urlEncode('a b*~é/+._-')") == "a+b*%7E%C3%A9%2F%2B._-"


def test_url_decode_turns_plus_into_space_and_decodes_utf8_escapes():
    assert text("$util.urlDecode('a+b%20c%C3%A9%2F')") == "a b cé/"


def test_url_decode_raises_on_a_malformed_escape():
    with pytest.raises(TemplateRuntimeError, match="IllegalArgumentException"):
        render("$util.urlDecode('100%zz')")


def test_base64_encode_uses_utf8_and_standard_padding():
    assert text("$util.base64Encode('héllo')") == "aMOpbGxv"


def test_base64_decode_returns_utf8_text():
    assert text("$util.base64Decode('aMOpbGxv')") == "héllo"


# ---------------------------------------------------------------------------------------------
# Java String methods
# ---------------------------------------------------------------------------------------------


def test_string_length_counts_utf16_code_units_like_java():
    assert text("#set($s = 'a😀')$s.length()") == "3"


def test_string_contains_starts_with_and_ends_with():
    template = "#set($u = 'https://example.com')$u.contains('example') $u.startsWith('https://') $u.endsWith('.org')"
    assert text(template) == "true true false"


def test_string_matches_requires_the_whole_string_to_match():
    template = "#set($u = 'https://x.io')$u.matches('https?://.+') $u.matches('x')"
    assert text(template) == "true false"


def test_string_trim_and_case_conversion():
    assert text("#set($s = '  MiXed ')[$s.trim()] $s.toLowerCase() $s.toUpperCase()") == "[MiXed]   mixed    MIXED "


def test_string_substring_and_index_of_follow_java():
    template = "#set($s = 'abcdef')$s.substring(2) $s.substring(1, 3) $s.indexOf('cd') $s.indexOf('z')"
    assert text(template) == "cdef bc 2 -1"


def test_string_substring_out_of_range_raises_a_template_runtime_error():
    with pytest.raises(TemplateRuntimeError, match="StringIndexOutOfBoundsException"):
        render("#set($s = 'abc')$s.substring(0, 10)")


def test_string_equals_is_type_strict_unlike_the_equality_operator():
    assert text("#set($s = '1')$s.equals('1') $s.equals(1) #if($s == 1)eq#end") == "true false eq"


def test_string_split_uses_a_regex_and_drops_trailing_empty_strings():
    template = "#set($s = 'a1b22c,,')#set($parts = $s.split('[0-9]+|,'))$parts.size() $parts.get(0) $parts.get(2)"
    assert text(template) == "3 a c"


def test_string_replace_is_literal_not_regex():
    assert text("#set($s = 'a.b.c')$s.replace('.', '/')") == "a/b/c"


def test_string_is_empty():
    assert text("#set($e = '')#set($s = 'x')$e.isEmpty() $s.isEmpty()") == "true false"


# ---------------------------------------------------------------------------------------------
# Map and List methods
# ---------------------------------------------------------------------------------------------


def test_map_methods_get_contains_key_key_set_size_and_is_empty():
    payload = body_of(Item={"code": {"S": "abc"}, "url": {"S": "https://x"}})
    template = (
        "#set($item = $input.path('$.Item'))"
        "$item.get('code').S $item.containsKey('url') $item.containsKey('nope') "
        "$item.keySet() $item.size() $item.isEmpty()"
    )
    assert text(template, body=payload) == "abc true false [code, url] 2 false"


def test_list_methods_size_get_and_is_empty():
    payload = body_of(Items=["x", "y"], Empty=[])
    template = "$input.path('$.Items').size() $input.path('$.Items').get(1) $input.path('$.Empty').isEmpty()"
    assert text(template, body=payload) == "2 y true"


def test_list_get_out_of_range_raises_a_template_runtime_error():
    with pytest.raises(TemplateRuntimeError, match="IndexOutOfBoundsException"):
        render("$input.path('$.Items').get(5)", body=body_of(Items=[]))


def test_unknown_method_renders_empty_and_is_reported_as_a_warning():
    rendered = render("#set($s = 'abc')[$s.lenght()]")
    assert rendered.text == "[]"
    assert rendered.warnings == ("no method lenght() on String; rendered as empty string",)


# ---------------------------------------------------------------------------------------------
# Velocity semantics as run by API Gateway
# ---------------------------------------------------------------------------------------------


def test_undefined_reference_renders_as_empty_string_unlike_stock_velocity():
    # Stock Velocity would print "$undefinedThing" literally; API Gateway prints nothing.
    assert text("[$undefinedThing][$context.nope.deeper]") == "[][]"


def test_quiet_reference_renders_as_empty_string():
    assert text("[$!undefinedThing][$!{undefinedThing}]") == "[][]"


def test_missing_nested_property_compares_equal_to_empty_string():
    assert text("#if($foo.bar.stuff != '')set#{else}unset#end") == "unset"


def test_if_treats_zero_empty_string_and_empty_list_as_true():
    assert text("#set($l = [])#if(0)zero #end#if('')empty #end#if($l)list #end#if($l.size())size#end") == (
        "zero empty list size"
    )


def test_if_treats_false_as_false_and_negation_as_true():
    assert text("#if($input.path('$.flag'))yes#{else}no#end #if(!$input.path('$.flag'))negated#end",
                body=body_of(flag=False)) == "no negated"  # fmt: skip


def test_if_on_a_missing_value_is_true_because_it_is_an_empty_string():
    assert text("#if($input.path('$.missing'))rendered#end #if(!$input.path('$.missing'))not#end", body="{}") == (
        "rendered "
    )


def test_if_elseif_else_renders_the_first_true_branch():
    template = "#foreach($n in [1, 2, 3])#if($n == 1)one#elseif($n == 2)two#{else}other#end #end"
    assert text(template) == "one two other "


def test_foreach_exposes_has_next_index_count_and_velocity_count():
    template = "#foreach($x in ['a', 'b'])$x:$foreach.index:$foreach.count:$velocityCount:$foreach.hasNext #end"
    assert text(template) == "a:0:1:1:true b:1:2:2:false "


def test_foreach_over_a_map_iterates_its_values():
    assert text("#foreach($v in {'a': 'A', 'b': 'B'})$v#end") == "AB"


def test_foreach_over_a_missing_value_renders_nothing():
    rendered = render("#foreach($i in $input.path('$.Items'))x#end.", body="{}")
    assert rendered.text == "."
    assert rendered.warnings == ("#foreach over a non-collection (''): no iterations",)


def test_set_inside_foreach_is_visible_after_the_loop():
    assert text("#foreach($i in [1, 2, 3])#set($last = $i)#end$last [$i]") == "3 []"


def test_equality_compares_numbers_and_strings_by_their_string_forms():
    assert text("#if(3 == '3')a#end #if(true == 'true')b#end #if(3.0 == '3')c#{else}no#end") == "a b no"


def test_equality_compares_integers_and_decimals_numerically():
    assert text("#if(1 == 1.0)equal#end") == "equal"


def test_relational_operators_on_strings_are_false():
    rendered = render("#if('a' < 'b')less#{else}not-comparable#end")
    assert rendered.text == "not-comparable"
    assert rendered.warnings == ("'a' < 'b': relational operators need numbers (false)",)


def test_and_or_short_circuit():
    # The right-hand side would raise StringIndexOutOfBoundsException if it were evaluated.
    assert text("#set($s = '')#if(false && $s.substring(1) == 'x')a#end#if(true || $s.substring(1))b#end") == "b"


def test_integer_division_truncates_toward_zero_like_java():
    assert text("#set($a = 7 / 2)#set($b = -7 / 2)#set($c = -7 % 3)$a $b $c") == "3 -3 -1"


def test_plus_concatenates_when_one_operand_is_a_string():
    assert text("#set($s = 'n' + 1 + 2)#set($n = 1 + 2)$s $n") == "n12 3"


def test_macro_renders_its_body_with_arguments():
    assert text("#macro(pair $k $v)\"$k\": \"$v\"#end{#pair('a' 'b')}") == '{"a": "b"}'


def test_syntax_error_raises_template_syntax_error():
    with pytest.raises(TemplateSyntaxError, match=r"line 1, column 18: expected \) in parameter list"):
        render("$input.path('$.x'")


# ---------------------------------------------------------------------------------------------
# $context.responseOverride / $context.requestOverride
# ---------------------------------------------------------------------------------------------


def test_response_status_override_is_captured_as_an_int():
    rendered = render("#set($context.responseOverride.status = 409)")
    assert rendered.status_override == 409


def test_response_status_override_given_as_string_is_converted_to_int():
    assert render('#set($context.responseOverride.status = "302")').status_override == 302


def test_response_header_override_is_captured():
    template = '#set($context.responseOverride.header.Location = "https://x.io/$input.params(\'code\')")'
    rendered = render(template, params=RequestParams(path={"code": "abc"}))
    assert rendered.header_overrides == {"Location": "https://x.io/abc"}


def test_request_overrides_are_captured_per_location():
    template = (
        "#set($context.requestOverride.header.X-Trace = 't1')"
        "#set($context.requestOverride.querystring.page = 2)"
        "#set($context.requestOverride.path.code = 'abc')"
    )
    assert render(template).request_overrides == {
        "header": {"X-Trace": "t1"},
        "querystring": {"page": "2"},
        "path": {"code": "abc"},
    }


def test_overriding_the_same_parameter_twice_raises_like_api_gateway_5xx():
    with pytest.raises(OverrideConflictError, match="overridden twice"):
        render("#set($context.responseOverride.status = 400)#set($context.responseOverride.status = 409)")


def test_header_overrides_conflict_case_insensitively():
    with pytest.raises(OverrideConflictError, match="overridden twice"):
        render(
            "#set($context.responseOverride.header.Location = 'a')"
            "#set($context.responseOverride.header.location = 'b')"
        )


def test_invalid_status_override_raises():
    with pytest.raises(TemplateRuntimeError, match="not a valid HTTP status code"):
        render("#set($context.responseOverride.status = 'teapot')")


def test_override_can_be_read_back_after_it_is_set():
    template = "#set($context.responseOverride.status = 404)status=$context.responseOverride.status"
    assert text(template) == "status=404"


def test_rendering_without_overrides_reports_none():
    rendered = render("plain")
    assert (rendered.status_override, rendered.header_overrides, rendered.request_overrides) == (
        None,
        {},
        {"header": {}, "querystring": {}, "path": {}},
    )


# ---------------------------------------------------------------------------------------------
# $context defaults, $stageVariables
# ---------------------------------------------------------------------------------------------


def test_default_context_has_request_time_in_clf_matching_the_epoch():
    context = default_context(now=datetime(2019, 12, 27, 21, 21, 17, tzinfo=timezone.utc))
    assert text("$context.requestTime|$context.requestTimeEpoch", context=context) == (
        "27/Dec/2019:21:21:17 +0000|1577481677000"
    )


def test_default_context_generates_a_fresh_request_id_each_time():
    first, second = default_context()["requestId"], default_context()["requestId"]
    assert first != second
    assert str(uuid.UUID(first)) == first


def test_default_context_with_email_adds_cognito_claims_with_a_stable_sub():
    context = default_context(email="alice@example.com")
    rendered = text("$context.authorizer.claims.email $context.authorizer.claims.sub", context=context)
    assert rendered == f"alice@example.com {default_context(email='alice@example.com')['authorizer']['claims']['sub']}"
    assert default_context(email="bob@example.com")["authorizer"]["claims"]["sub"] not in rendered


def test_context_argument_is_deep_merged_over_the_defaults():
    context = {"httpMethod": "POST", "resourcePath": "/app", "identity": {"sourceIp": "192.0.2.1"}}
    template = "$context.httpMethod $context.resourcePath $context.identity.sourceIp $context.stage"
    rendered = text(template, context=context)
    assert rendered == "POST /app 192.0.2.1 prod"


def test_authorizer_claims_map_itself_renders_as_empty():
    assert text("[$context.authorizer.claims]", context=default_context(email="a@b.c")) == "[]"


def test_stage_variables_support_dot_and_bracket_access():
    stage_variables = {"tableName": "Links"}
    template = "$stageVariables.tableName $stageVariables['tableName'] ${stageVariables['tableName']}"
    assert text(template, stage_variables=stage_variables) == "Links Links Links"


# ---------------------------------------------------------------------------------------------
# Rendered
# ---------------------------------------------------------------------------------------------


def test_rendered_json_parses_valid_output():
    assert Rendered(text='{"a": [1]}', status_override=None, header_overrides={}).json() == {"a": [1]}


def test_rendered_json_raises_assertion_error_showing_the_text():
    with pytest.raises(AssertionError, match=re.escape('1 | {"a": }')):
        Rendered(text='{"a": }', status_override=None, header_overrides={}).json()


# ---------------------------------------------------------------------------------------------
# A realistic DynamoDB response template
# ---------------------------------------------------------------------------------------------


def test_dynamodb_query_response_template_renders_items_as_json():
    template = r"""#set($items = $input.path('$.Items'))
{
  "links": [
#foreach($item in $items)
    {
      "code": "$item.code.S",
      "url": "$util.escapeJavaScript($item.url.S).replaceAll("\\'","'")",
      "createdAt": $item.createdAt.N
    }#if($foreach.hasNext),#end
#end
  ],
  "count": $items.size()
}
#if($items.size() == 0)#set($context.responseOverride.status = 404)#end
"""
    dynamodb_response = {
        "Items": [
            {"code": {"S": "abc"}, "url": {"S": "https://x.io/it's?q=\"é\""}, "createdAt": {"N": "1577481677"}},
            {"code": {"S": "def"}, "url": {"S": "https://y.io"}, "createdAt": {"N": "2"}},
        ],
        "Count": 2,
        "ScannedCount": 2,
    }
    rendered = render(template, body=json.dumps(dynamodb_response))
    assert rendered.json() == {
        "links": [
            {"code": "abc", "url": "https://x.io/it's?q=\"é\"", "createdAt": 1577481677},
            {"code": "def", "url": "https://y.io", "createdAt": 2},
        ],
        "count": 2,
    }
    assert rendered.status_override is None
    assert rendered.warnings == ()
