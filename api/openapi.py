"""The API's OpenAPI 3.1 document, built from the code at /api/v1/openapi.json.

Nothing here is written by hand per endpoint: the document walks api/urls.py's patterns and
reads, for each, what `portal.api.api_view` recorded of its view (portal.api.ENDPOINTS): the
methods, whether a token and the admin role are needed, the success answers with the
TypedDict of their JSON, the error statuses, and the Django forms that validate the query or
the body. So it cannot drift from the code: a form's fields are the request's fields (their
types, bounds, choices, defaults, labels and help), the path converters are the path
parameters, the TypedDicts that type the views' JSON are the response schemas, and
api/tests/test_openapi.py fails for a URL pattern that has no declaration.

The document holds no data (the same for every caller, as docs/api.md), so it is served
without a token.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Iterator
from typing import Any, NotRequired, Union, get_args, get_origin, get_type_hints, is_typeddict

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, JsonResponse
from django.urls import URLPattern, converters
from django.utils import translation

from portal import api, cloud
from portal.identity import PortalRequest

PREFIX = "/api/v1/"
SECURITY = "keystoneToken"

# Statuses of every endpoint that takes a token (api_view, cloud_error, docs/api.md).
ERRORS = {
    400: "A field, the body or X-Stackdesk-Cloud is not valid, or OpenStack refused the "
    "request as invalid.",
    401: "No token, or Keystone does not accept it.",
    403: "Not allowed: an endpoint for administrators, or OpenStack's policy refused it.",
    404: "No such job, host or server (or not visible to you).",
    409: "Not possible now, or OpenStack said conflict.",
    503: "Keystone or the cloud did not answer; try again later.",
}
ALWAYS = (400, 401, 403, 503)
Schema = dict[str, Any]


# --- JSON Schema of the views' TypedDicts ---------------------------------------------------


def type_schema(hint: Any, defs: dict[str, Schema]) -> Schema:
    """A Python type of a TypedDict's value as JSON Schema; a nested TypedDict goes to defs."""
    if is_typeddict(hint):
        return {"$ref": "#/components/schemas/" + typed_dict_schema(hint, defs)}
    origin = get_origin(hint)
    if origin is NotRequired:
        return type_schema(get_args(hint)[0], defs)
    if origin in (Union, types.UnionType):
        options = [type_schema(arg, defs) for arg in get_args(hint)]
        if all(set(o) == {"type"} and isinstance(o["type"], str) for o in options):
            return {"type": [o["type"] for o in options]}
        return {"anyOf": options}
    if origin is list:
        return {"type": "array", "items": type_schema(get_args(hint)[0], defs)}
    if origin is dict:
        values = type_schema(get_args(hint)[1], defs)
        return {"type": "object", **({"additionalProperties": values} if values else {})}
    simple = {str: "string", int: "integer", bool: "boolean", float: "number"}
    if hint is type(None):
        return {"type": "null"}
    if hint in simple:
        return {"type": simple[hint]}
    if hint is Any:
        return {}
    raise TypeError(f"No JSON Schema for {hint!r}")


def typed_dict_schema(shape: type, defs: dict[str, Schema]) -> str:
    """The TypedDict's schema in defs, under its class name (returned)."""
    name = shape.__name__
    if name not in defs:
        defs[name] = {}  # a placeholder while its fields are built (a self-reference)
        hints = get_type_hints(shape, include_extras=True)
        # __required_keys__ misses a NotRequired[...] that is a string (postponed annotations)
        required = {
            key
            for key in shape.__required_keys__  # type: ignore[attr-defined]
            if get_origin(hints[key]) is not NotRequired
        }
        defs[name] = {
            "type": "object",
            "properties": {key: type_schema(hint, defs) for key, hint in hints.items()},
            "required": [key for key in hints if key in required],
        }
        if shape.__doc__ and shape.__doc__ != typing.TypedDict.__doc__:
            defs[name]["description"] = inspect.cleandoc(shape.__doc__)
    return name


# --- JSON Schema of a Django form's fields --------------------------------------------------


def field_schema(field: forms.Field, static: forms.Field | None) -> Schema:
    """A form field's JSON Schema. `static` is the class's own field: its choices, fixed in
    the code, are an enum; choices filled in when the form is built (hosts, projects) are
    the cloud's and so a plain string."""
    schema: Schema
    if isinstance(field, forms.MultipleChoiceField):
        schema = {"type": "array", "items": choice_schema(static)}
        if field.required:
            schema["minItems"] = 1
    elif isinstance(field, forms.ChoiceField):
        schema = choice_schema(static)
    elif isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
    elif isinstance(field, forms.FloatField | forms.DecimalField):
        schema = {"type": "number"}
    elif isinstance(field, forms.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, forms.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, forms.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, forms.CharField):
        schema = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        if field.required:
            schema["minLength"] = 1
    else:
        raise TypeError(f"No JSON Schema for the form field {field!r}")
    words = [str(text) for text in (field.label, field.help_text) if text]
    if words:
        schema["description"] = ". ".join(w.rstrip(".") for w in words) + "."
    return schema


def choice_schema(static: forms.Field | None) -> Schema:
    choices = list(getattr(static, "choices", None) or [])
    if not choices:
        return {"type": "string"}
    return {"type": "string", "enum": [str(value) for value, _label in choices]}


def built_form(fields: api.Fields) -> forms.Form:
    return fields.form(**fields.kwargs)


def form_properties(fields: api.Fields) -> Iterator[tuple[str, Schema, bool]]:
    """(name, schema, required) of each field, as the form is built for a request; a field
    with an initial value takes it when left out (portal.api.bound_form), so it is optional
    and that value is its default."""
    form = built_form(fields)
    static = getattr(fields.form, "base_fields", {})
    for name, field in form.fields.items():
        schema = field_schema(field, static.get(name))
        initial = form.get_initial_for_field(field, name)
        if initial not in (None, ""):
            schema["default"] = initial
        yield name, schema, field.required and initial in (None, "")


def body_schema(fields: api.Fields) -> Schema:
    properties, required = {}, []
    for name, schema, needed in form_properties(fields):
        properties[name] = schema
        if needed:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


# --- the document ---------------------------------------------------------------------------

ROUTE_PARAM = re.compile(r"<(?:[^>:]+:)?(?P<name>\w+)>")


def path_parameter(name: str, converter: Any) -> Schema:
    if isinstance(converter, converters.IntConverter):
        schema: Schema = {"type": "integer", "minimum": 0}
    else:
        # str: one path segment (Django's [^/]+), sent percent-encoded
        schema = {"type": "string", "pattern": f"^{converter.regex}$"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def api_patterns() -> Iterator[URLPattern]:
    from api import urls  # the assembly imports every app's api.py, and so this module

    for pattern in urls.urlpatterns:
        if not isinstance(pattern, URLPattern):
            raise TypeError("api/urls.py includes no other URL conf: declare its paths here")
        if pattern.callback is not api.no_endpoint:
            yield pattern


def openapi_path(pattern: URLPattern) -> str:
    route = str(pattern.pattern)
    return PREFIX + ROUTE_PARAM.sub(lambda m: "{" + m["name"] + "}", route)


def operation(pattern: URLPattern, endpoint: api.Endpoint, defs: dict[str, Schema]) -> Schema:
    doc = inspect.cleandoc(endpoint.view.__doc__ or "")
    found: Schema = {
        "operationId": (pattern.name or endpoint.view.__name__).replace("-", "_"),
        "tags": [endpoint.view.__module__.split(".")[0]],
        "summary": doc.split("\n\n")[0].replace("\n", " "),
    }
    parameters = [path_parameter(name, conv) for name, conv in pattern.pattern.converters.items()]
    if endpoint.query is not None:
        parameters += [
            {"name": name, "in": "query", "required": needed, "schema": schema}
            for name, schema, needed in form_properties(endpoint.query)
        ]
    parameters += [
        {"name": p.name, "in": "query", "required": False, "schema": dict(p.schema)}
        | {"description": p.description}
        for p in endpoint.params
    ]
    if endpoint.auth:
        parameters.append({"$ref": "#/components/parameters/cloud"})
    else:
        found["security"] = []
    if parameters:
        found["parameters"] = parameters
    if endpoint.body is not None:
        schema = body_schema(endpoint.body)
        found["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    responses: dict[str, Schema] = {}
    for status, reply in endpoint.replies.items():
        if reply.shape is not None:
            schema = {"$ref": "#/components/schemas/" + typed_dict_schema(reply.shape, defs)}
        else:
            schema = {"type": "string"} if reply.media_type != "application/json" else {}
        responses[str(status)] = {
            "description": reply.description,
            "content": {reply.media_type: {"schema": schema}},
        }
        if reply.location:
            responses[str(status)]["headers"] = {
                "Location": {"required": True, "schema": {"type": "string"}}
            }
    statuses = set(endpoint.errors) | (set(ALWAYS) if endpoint.auth else set())
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    found["responses"] = responses
    return found


def document() -> Schema:
    """The OpenAPI document of every endpoint in api/urls.py (English, whatever the caller's
    language: it describes the code, not a page)."""
    defs: dict[str, Schema] = {}
    paths: dict[str, Schema] = {}
    with translation.override("en"):
        for pattern in api_patterns():
            endpoint = api.ENDPOINTS.get(pattern.callback)
            if endpoint is None:
                raise ImproperlyConfigured(f"/api/v1/{pattern.pattern} is not an api_view")
            item = paths.setdefault(openapi_path(pattern), {})
            for method in endpoint.methods:
                item[method.lower()] = operation(pattern, endpoint, defs)
        error = typed_dict_schema(api.ErrorJson, defs)
    clouds = [name for c in cloud.available_clouds() for name in dict.fromkeys((c.key, c.name))]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stackdesk API",
            "version": "1",
            "description": "The portal's own long jobs, its usage report and its audit log "
            "(docs/api.md). Everything else is one OpenStack API call: make it directly.",
        },
        "paths": paths,
        "security": [{SECURITY: []}],
        "components": {
            "securitySchemes": {
                SECURITY: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Auth-Token",
                    "description": "Your own project-scoped Keystone token.",
                }
            },
            "parameters": {
                "cloud": {
                    "name": "X-Stackdesk-Cloud",
                    "in": "header",
                    "required": False,
                    "description": "The cloud (its clouds.yaml name, or name:region) when "
                    "the portal offers several; without it, the first.",
                    "schema": {"type": "string", "enum": clouds} if clouds else {"type": "string"},
                }
            },
            "responses": {
                str(status): {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{error}"}}
                    },
                }
                for status, text in ERRORS.items()
            },
            "schemas": defs,
        },
    }


class DocumentJson(typing.TypedDict):
    """This document (OpenAPI 3.1)."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


@api.api_view("GET", auth=False, replies={200: api.Reply("This document.", DocumentJson)})
def openapi(request: PortalRequest) -> HttpResponse:
    """The API's OpenAPI document, built from the code (api/openapi.py); no token needed."""
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})
