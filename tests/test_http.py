"""The HTTP types of the `workers` module: Headers, Request, Response, FetchResponse, FormData,
Blob and File, with the SDK's names and workerd's error messages."""

import json
from http import HTTPMethod

import pytest
from pyodide.ffi import JsException
from workers import DurableObject

from durable_dojo._core.http import (
    Blob,
    FetchResponse,
    File,
    FormData,
    Headers,
    Request,
    Response,
    body_to_bytes,
)

BODY_USED = (
    "Body has already been used. It can only be used once. Use tee() first if you need to read it twice."
)
URL = "https://example.com/path"


# ----- Headers -----


def test_headers_names_are_case_insensitive():
    headers = Headers({"Content-Type": "text/html"})
    assert headers.get("content-type") == "text/html"
    assert headers.get("CONTENT-TYPE") == "text/html"
    assert headers["Content-type"] == "text/html"
    assert "content-TYPE" in headers
    assert headers.has("Content-Type")


def test_headers_get_returns_none_when_missing():
    headers = Headers()
    assert headers.get("x-missing") is None
    assert headers["x-missing"] is None
    assert headers.get("x-missing", "fallback") == "fallback"
    assert "x-missing" not in headers


def test_headers_join_repeated_values_with_comma_space():
    headers = Headers()
    headers.append("Accept", "text/html")
    headers.append("accept", "application/json")
    assert headers.get("accept") == "text/html, application/json"
    assert headers.get_all("accept") == ["text/html", "application/json"]


def test_headers_set_replaces_all_values():
    headers = Headers([("x-a", "1"), ("x-a", "2")])
    headers.set("X-A", "3")
    assert headers.get("x-a") == "3"


def test_headers_delete_removes_the_name():
    headers = Headers({"x-a": "1"})
    headers.delete("X-A")
    assert not headers.has("x-a")
    headers.delete("x-a")  # deleting a missing name is fine
    del headers["x-b"]


def test_headers_iterate_lowercased_pairs_sorted_by_name():
    headers = Headers([("Zeta", "z"), ("alpha", "a"), ("Mid", "m1"), ("mid", "m2")])
    assert list(headers) == [("alpha", "a"), ("mid", "m1, m2"), ("zeta", "z")]
    assert headers.items() == [("alpha", "a"), ("mid", "m1, m2"), ("zeta", "z")]
    assert headers.keys() == ["alpha", "mid", "zeta"]
    assert headers.values() == ["a", "m1, m2", "z"]
    assert len(headers) == 3


def test_headers_keep_set_cookie_values_apart_when_iterating():
    headers = Headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert list(headers) == [("set-cookie", "a=1"), ("set-cookie", "b=2")]
    assert headers.get("set-cookie") == "a=1, b=2"


def test_headers_from_list_of_pairs_keeps_repeats():
    headers = Headers([("X-Num", "1"), ("x-num", "2"), ("Host", "example.com")])
    assert headers.get("x-num") == "1, 2"
    assert headers.get("host") == "example.com"


def test_headers_from_other_headers_is_a_copy():
    original = Headers({"x-a": "1"})
    copy = Headers(original)
    copy.set("x-a", "2")
    assert original.get("x-a") == "1"
    assert copy.get("x-a") == "2"


def test_headers_pairs_must_have_two_elements():
    with pytest.raises(TypeError) as info:
        Headers([("x-a", "1", "extra")])
    assert str(info.value) == (
        "To initialize a Headers object from a sequence, each inner sequence must have exactly two elements."
    )


@pytest.mark.parametrize("name", ["", "bad name", "x:y", "caf\u00e9", "a\nb"])
def test_headers_reject_invalid_names(name):
    with pytest.raises(TypeError) as info:
        Headers().set(name, "v")
    assert str(info.value) == "Invalid header name."


@pytest.mark.parametrize("name", ["bad name", "x:y", "caf\u00e9"])
def test_an_invalid_header_name_is_rejected_every_time_it_is_used(name):
    # valid names are remembered once checked (the fetch path looks them up); an invalid one never is
    headers = Headers()
    for write in (headers.set, headers.append, headers.set):
        with pytest.raises(TypeError, match="Invalid header name"):
            write(name, "v")
    for read in (headers.get, headers.has, headers.delete):
        with pytest.raises(TypeError, match="Invalid header name"):
            read(name)
    assert headers.items() == []


def test_a_copy_of_headers_has_its_own_values():
    # Headers(other), clone() and the stub's hop each copy the headers: a change on one side
    # (append to a repeated name, set, delete) never shows on the other
    original = Headers([("x-a", "1"), ("x-b", "2")])
    request = Request(URL, headers=original)
    response = Response(None, headers=original)
    copies = [Headers(original), request.clone().headers, response.clone().headers]
    for copy in copies:
        copy.append("x-a", "more")
        copy.delete("x-b")
    original.append("x-a", "orig")
    assert original.items() == [("x-a", "1, orig"), ("x-b", "2")]
    assert request.headers.items() == response.headers.items() == [("x-a", "1"), ("x-b", "2")]
    assert [copy.items() for copy in copies] == [[("x-a", "1, more")]] * 3


def test_headers_reject_values_with_newlines():
    with pytest.raises(TypeError) as info:
        Headers().set("x-a", "one\r\ntwo")
    assert str(info.value) == "Invalid header value."


def test_headers_trim_whitespace_and_stringify_values():
    headers = Headers({"x-a": "  padded\t", "x-n": 5, "x-b": True})
    assert headers.get("x-a") == "padded"
    assert headers.get("x-n") == "5"
    assert headers.get("x-b") == "true"


# ----- Request -----


def test_request_defaults():
    request = Request(URL)
    assert request.url == URL
    assert request.method == "GET"
    assert request.method is HTTPMethod.GET
    assert isinstance(request.headers, Headers)
    assert list(request.headers) == []
    assert request.body is None
    assert request.body_used is False
    assert request.cf is None
    assert request.redirect == "follow"
    assert request.js_object.method == "GET" and type(request.js_object.method) is str
    assert request.js_object.url == URL and request.js_object.bodyUsed is False
    assert repr(request) == "Request(method='GET', url='https://example.com/path')"


def test_request_url_is_normalised():
    assert Request("HTTPS://Example.COM").url == "https://example.com/"
    assert Request("http://example.com:80/a?b=1#c").url == "http://example.com/a?b=1#c"
    assert Request("http://example.com:8080/a").url == "http://example.com:8080/a"


def test_request_relative_url_is_invalid():
    with pytest.raises(TypeError) as info:
        Request("/path")
    assert str(info.value) == "Invalid URL: /path"


@pytest.mark.parametrize(("given", "expected"), [("post", "POST"), ("Delete", "DELETE"), ("patch", "PATCH")])
def test_request_method_is_upper_cased(given, expected):
    request = Request(URL, method=given)
    assert request.method == expected
    assert request.method is HTTPMethod[expected]


def test_request_accepts_http_method_enum():
    assert Request(URL, method=HTTPMethod.PUT).method == "PUT"


def test_request_rejects_unknown_method():
    with pytest.raises(TypeError) as info:
        Request(URL, method="FROB")
    assert str(info.value) == "Invalid HTTP method string: FROB"


@pytest.mark.parametrize("method", ["GET", "HEAD", "get"])
def test_request_get_or_head_with_body_is_an_error(method):
    with pytest.raises(TypeError) as info:
        Request(URL, method=method, body="hi")
    assert str(info.value) == "Request with a GET or HEAD method cannot have a body."


def test_request_without_method_but_with_body_is_a_get_error():
    with pytest.raises(TypeError) as info:
        Request(URL, body=b"x")
    assert str(info.value) == "Request with a GET or HEAD method cannot have a body."


async def test_request_text_body_gets_text_content_type():
    request = Request(URL, method="POST", body="héllo")
    assert request.headers.get("content-type") == "text/plain;charset=UTF-8"
    assert await request.text() == "héllo"
    assert request.body_used is True


async def test_request_keeps_an_explicit_content_type():
    request = Request(URL, method="POST", body="{}", headers={"Content-Type": "application/json"})
    assert request.headers.get("content-type") == "application/json"
    assert await request.json() == {}


async def test_request_bytes_body_has_no_content_type():
    request = Request(URL, method="PUT", body=b"\x00\x01")
    assert request.headers.get("content-type") is None
    assert await request.bytes() == b"\x00\x01"


async def test_request_json_and_buffer():
    assert await Request(URL, method="POST", body='{"a": [1, 2]}').json() == {"a": [1, 2]}
    assert (await Request(URL, method="POST", body="abc").buffer()).to_bytes() == b"abc"  # SDK: a JS ArrayBuffer


async def test_request_json_passes_keyword_arguments_to_json_loads():
    request = Request(URL, method="POST", body='{"n": 1.5}')
    assert await request.json(parse_float=str) == {"n": "1.5"}


async def test_request_body_can_be_read_once():
    request = Request(URL, method="POST", body="once")
    assert await request.text() == "once"
    # The SDK's Request checks bodyUsed itself (workers/request.py, _raise_if_failed).
    for read in (request.text, request.json, request.bytes, request.buffer, request.form_data):
        with pytest.raises(OSError, match="^Body already used$"):
            await read()


async def test_request_without_body_reads_empty_every_time():
    request = Request(URL)
    assert await request.text() == ""
    assert await request.bytes() == b""
    assert request.body_used is False


@pytest.mark.parametrize("body", [{"a": 1}, [1, 2], 42, bytearray(b"x")])
def test_request_rejects_non_body_types(body):
    with pytest.raises(TypeError) as info:
        Request(URL, method="POST", body=body)
    assert str(info.value) == f"Unsupported type in Request: {type(body).__name__}"


def test_request_rejects_wrong_headers_type():
    with pytest.raises(TypeError) as info:
        Request(URL, headers=("x", "y"))
    assert str(info.value) == "Received unexpected type for headers argument"


def test_request_rejects_bad_redirect_mode():
    with pytest.raises(TypeError) as info:
        Request(URL, redirect="error")
    assert str(info.value).startswith('Invalid redirect value, must be one of "follow" or "manual"')
    assert Request(URL, redirect="MANUAL").redirect == "manual"


def test_request_cf_is_copied():
    cf = {"colo": "AMS", "nested": {"a": 1}}
    request = Request(URL, cf=cf)
    cf["nested"]["a"] = 2
    assert request.cf == {"colo": "AMS", "nested": {"a": 1}}


async def test_request_clone_is_independent():
    request = Request(URL, method="POST", body="data", headers={"x-a": "1"}, cf={"k": "v"})
    clone = request.clone()
    clone.headers.set("x-a", "2")
    clone.cf["k"] = "changed"
    assert await clone.text() == "data"
    assert request.body_used is False
    assert await request.text() == "data"
    assert request.headers.get("x-a") == "1"
    assert request.cf == {"k": "v"}
    assert clone.method == "POST"
    assert clone.url == URL


async def test_request_clone_after_read_is_an_error():
    request = Request(URL, method="POST", body="data")
    await request.text()
    with pytest.raises(OSError, match="^Body already used$"):
        request.clone()


async def test_request_from_request_copies_and_takes_the_body():
    original = Request(URL, method="POST", body="moved", headers={"x-a": "1"})
    copy = Request(original, headers={"x-b": "2"})
    assert copy.url == URL
    assert copy.method == "POST"
    assert copy.headers.get("x-b") == "2"
    assert copy.headers.get("x-a") is None
    assert original.body_used is True
    assert await copy.text() == "moved"


async def test_request_from_request_with_new_body_leaves_the_old_body():
    original = Request(URL, method="POST", body="old")
    copy = Request(original, body="new")
    assert await copy.text() == "new"
    assert original.body_used is False
    assert copy.headers.get("content-type") == "text/plain;charset=UTF-8"


async def test_request_from_used_request_is_an_error():
    original = Request(URL, method="POST", body="x")
    await original.text()
    with pytest.raises(TypeError) as info:
        Request(original)
    assert str(info.value) == "Cannot reconstruct a Request with a used body."


def test_request_from_request_switching_to_get_keeps_no_body():
    original = Request(URL, method="POST", body="x")
    with pytest.raises(TypeError) as info:
        Request(original, method="GET")
    assert str(info.value) == "Request with a GET or HEAD method cannot have a body."


async def test_request_detached_copy_is_fresh_and_separate():
    request = Request(URL, method="POST", body="hop", headers={"x-a": "1"})
    copy = request._detached_copy()
    assert type(copy) is Request
    copy.headers.set("x-a", "2")
    assert await copy.text() == "hop"
    assert request.body_used is False
    assert request.headers.get("x-a") == "1"


# ----- Response -----


async def test_response_defaults():
    response = Response()
    assert response.status == 200
    assert response.status_text == ""  # workerd: a constructed Response has no status text
    assert response.ok is True
    assert response.url == ""
    assert response.redirected is False
    assert response.web_socket is None
    assert response.body is None
    assert isinstance(response, FetchResponse)
    assert await response.text() == ""


async def test_response_with_text_body():
    response = Response("hello", status=201, headers={"X-A": "1"})
    assert response.status == 201
    assert response.status_text == ""
    assert response.headers.get("content-type") == "text/plain;charset=UTF-8"
    assert response.headers.get("x-a") == "1"
    assert await response.text() == "hello"


async def test_response_of_text_alone_is_a_200_text_response_with_no_status_text():
    # Response("text") with no other argument is built on a shorter path: the same response
    response = Response("h\u00e9llo")
    assert response.status == 200
    assert response.status_text == ""
    assert response.ok is True
    assert response.headers.items() == [("content-type", "text/plain;charset=UTF-8")]
    assert response.url == ""
    assert response.redirected is False
    assert response.web_socket is None
    assert response.body_used is False
    assert await response.bytes() == "h\u00e9llo".encode()
    assert response.body_used is True


def test_response_status_text_can_be_given():
    assert Response(status=404, status_text="Nope").status_text == "Nope"
    assert Response(status=404).status_text == ""
    assert Response(status=599).status_text == ""
    assert Response(status=404).ok is False


def test_response_status_text_rejects_control_characters():
    with pytest.raises(TypeError) as info:
        Response(status_text="bad\r\nX-Injected: 1")
    assert str(info.value) == "Invalid statusText"


async def test_response_body_can_be_read_once():
    response = Response(b"abc")
    assert await response.bytes() == b"abc"
    with pytest.raises(TypeError) as info:
        await response.text()
    assert str(info.value) == BODY_USED


@pytest.mark.parametrize("status", [0, 100, 199, 600, 999])
def test_response_status_outside_200_to_599_is_a_range_error(status):
    if status == 0:
        # The SDK treats a falsy status as "not given".
        assert Response(status=status).status == 200
        return
    # workerd throws a RangeError; the SDK's Response turns it into a ValueError.
    with pytest.raises(ValueError) as info:
        Response(status=status)
    assert type(info.value) is ValueError
    assert str(info.value) == (
        "Responses may only be constructed with status codes in the range 200 to 599, inclusive."
    )


def test_response_101_needs_a_web_socket():
    with pytest.raises(ValueError):
        Response(status=101)
    socket = object()
    response = Response(status=101, web_socket=socket)
    assert response.status == 101
    assert response.status_text == ""
    assert response.web_socket is socket


def test_response_with_web_socket_must_be_101():
    with pytest.raises(ValueError) as info:
        Response(status=200, web_socket=object())
    assert str(info.value) == "Responses with a WebSocket must have status code 101."


@pytest.mark.parametrize("status", [204, 205, 304])
def test_response_null_body_status_with_body_is_an_error(status):
    with pytest.raises(TypeError) as info:
        Response("body", status=status)
    assert str(info.value) == "Response with null body status (101, 204, 205, or 304) cannot have a body."


def test_response_null_body_status_accepts_an_empty_body():
    response = Response("", status=204)
    assert response.body is None
    assert response.headers.get("content-type") is None


@pytest.mark.parametrize("body", [{"a": 1}, [1], 3.5])
def test_response_rejects_non_body_types(body):
    with pytest.raises(TypeError) as info:
        Response(body)
    assert str(info.value) == f"Unsupported type in Response: {type(body).__name__}"


async def test_response_from_json():
    response = Response.from_json({"a": [1, "b"]}, status=201)
    assert response.status == 201
    assert response.headers.get("content-type") == "application/json"
    assert await response.clone().bytes() == b'{"a": [1, "b"]}'
    assert await response.json() == {"a": [1, "b"]}


def test_response_from_json_keeps_a_given_content_type():
    response = Response.from_json([1], headers={"Content-Type": "application/vnd.api+json"})
    assert response.headers.get("content-type") == "application/vnd.api+json"


async def test_response_json_used_statically_is_from_json():
    response = Response.json({"ok": True}, status=202)
    assert isinstance(response, Response)
    assert response.status == 202
    assert response.headers.get("content-type") == "application/json"
    assert await response.json() == {"ok": True}


def test_response_redirect_sets_location_and_status():
    response = Response.redirect("https://example.com")
    assert response.status == 302
    assert response.headers.get("location") == "https://example.com/"
    assert response.body is None
    assert Response.redirect("https://example.com/a", 308).status == 308


@pytest.mark.parametrize("status", [200, 300, 304, 404])
def test_response_redirect_rejects_other_statuses(status):
    with pytest.raises(ValueError) as info:
        Response.redirect("https://example.com/", status)
    assert str(info.value) == (
        f"{status} is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308."
    )


def test_response_redirect_needs_an_absolute_url():
    with pytest.raises(TypeError) as info:
        Response.redirect("/login")
    assert str(info.value) == "Unable to parse URL: /login"


async def test_response_clone_is_independent():
    response = Response("data", headers={"x-a": "1"})
    clone = response.clone()
    clone.headers.set("x-a", "2")
    assert await clone.text() == "data"
    assert await response.text() == "data"
    assert response.headers.get("x-a") == "1"
    assert type(clone) is Response


def test_response_clone_with_web_socket_is_an_error():
    response = Response(status=101, web_socket=object())
    with pytest.raises(TypeError) as info:
        response.clone()
    assert str(info.value) == "Cannot clone a response to a WebSocket handshake."


async def test_response_detached_copy_is_fresh_and_can_set_url():
    socket = object()
    response = Response(status=101, web_socket=socket)
    copy = response._detached_copy(url=URL)
    assert copy.web_socket is socket
    assert copy.url == URL
    assert response.url == ""

    response = Response("body")
    copy = response._detached_copy()
    assert await copy.text() == "body"
    assert response.body_used is False


async def test_response_detached_copy_of_used_body_is_an_error():
    response = Response("body")
    await response.text()
    with pytest.raises(TypeError) as info:
        response._detached_copy()
    assert str(info.value) == BODY_USED


async def test_response_replace_body_keeps_status_and_headers():
    response = Response("old", status=418, headers={"x-a": "1"})
    replaced = response.replace_body("new")
    assert replaced.status == 418
    assert replaced.headers.get("x-a") == "1"
    assert await replaced.text() == "new"


def test_response_raise_for_status():
    Response(status=204).raise_for_status()
    with pytest.raises(OSError) as info:
        FetchResponse(URL, status=404).raise_for_status()
    assert str(info.value) == f"404 Client Error: Not Found for url: {URL}"


async def test_fetch_response_holds_what_fetch_returns():
    response = FetchResponse(URL, body=b'{"x": 1}', status=200, headers={"content-type": "application/json"}, redirected=True)
    assert response.url == URL
    assert response.redirected is True
    assert response.ok is True
    assert await response.json() == {"x": 1}
    with pytest.raises(TypeError) as info:
        await response.json()
    assert str(info.value) == BODY_USED


def test_response_repr():
    assert repr(Response("x", status=201)) == "Response(status=201, content_type='text/plain;charset=UTF-8')"


# ----- bodies, FormData, Blob, File -----


def test_body_to_bytes():
    assert body_to_bytes(None) == (None, None)
    assert body_to_bytes("é") == ("é".encode(), "text/plain;charset=UTF-8")
    assert body_to_bytes(b"\xff") == (b"\xff", None)
    assert body_to_bytes(Blob("x", "Text/CSV")) == (b"x", "text/csv")
    data, content_type = body_to_bytes(FormData({"a": "1"}))
    assert content_type.startswith("multipart/form-data; boundary=")
    assert b'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n' in data


def test_form_data_basics():
    form = FormData({"name": "Ada"})
    form.append("tag", "a")
    form.append("tag", "b")
    assert form["name"] == "Ada"
    assert form.get("tag") == "a"
    assert form.get_all("tag") == ["a", "b"]
    assert form.get("missing") is None
    assert form["missing"] is None
    assert "tag" in form and "missing" not in form
    assert list(form.items()) == [("name", "Ada"), ("tag", "a"), ("tag", "b")]
    assert list(form.keys()) == ["name", "tag", "tag"]
    assert len(form) == 3
    form["tag"] = "c"
    assert form.get_all("tag") == ["c"]
    del form["name"]
    assert list(form.items()) == [("tag", "c")]


def test_form_data_rejects_a_list_in_setitem():
    with pytest.raises(TypeError) as info:
        FormData()["x"] = ["a", "b"]
    assert str(info.value) == "Expected single item in arguments to FormData.__setitem__"


def test_form_data_stores_blobs_as_files():
    form = FormData()
    form.append("upload", Blob(b"data", "text/plain"))
    form.append("named", Blob(b"data"), "report.txt")
    upload = form["upload"]
    assert isinstance(upload, File)
    assert upload.name == "blob"
    assert upload.content_type == "text/plain"
    assert form["named"].name == "report.txt"


async def test_form_data_round_trips_through_a_request():
    form = FormData({"name": "Ada Lovelace", "note": 'says "hi"; bye'})
    form.append("file", File([b"\x00bin"], "a.bin", "application/octet-stream"))
    request = Request(URL, method="POST", body=form)
    assert request.headers.get("content-type").startswith("multipart/form-data; boundary=")
    parsed = await request._detached_copy().form_data()
    assert parsed["name"] == "Ada Lovelace"
    assert parsed["note"] == 'says "hi"; bye'  # values go through raw; only names are escaped
    uploaded = parsed["file"]
    assert isinstance(uploaded, File)
    assert uploaded.name == "a.bin"
    assert await uploaded.bytes() == b"\x00bin"


async def test_form_data_parses_urlencoded_bodies():
    request = Request(
        URL,
        method="POST",
        body="a=1&b=two+words&a=%C3%A9",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    form = await request.form_data()
    assert form.get_all("a") == ["1", "é"]
    assert form["b"] == "two words"


async def test_form_data_needs_a_content_type():
    request = Request(URL, method="POST", body=b"a=1")
    with pytest.raises(TypeError) as info:
        await request.form_data()
    assert str(info.value) == "Parsing a Body as FormData requires a Content-Type header."
    assert request.body_used is False


async def test_form_data_rejects_other_content_types():
    request = Request(URL, method="POST", body="a=1")
    with pytest.raises(TypeError) as info:
        await request.form_data()
    assert str(info.value) == (
        "Unrecognized Content-Type header value. FormData can only parse the following MIME types: "
        "multipart/form-data, application/x-www-form-urlencoded"
    )


async def test_blob_basics():
    blob = Blob(["ab", b"cd", Blob("ef")], content_type="Text/Plain")
    assert blob.size == 6
    assert blob.content_type == "text/plain"
    assert await blob.text() == "abcdef"
    assert await blob.bytes() == b"abcdef"
    part = blob.slice(1, -1)
    assert await part.bytes() == b"bcde"
    assert part.content_type == ""
    assert Blob(Blob("x", "image/png")).content_type == "image/png"


def test_blob_rejects_unknown_parts():
    with pytest.raises(TypeError) as info:
        Blob([object()])
    assert str(info.value) == "Don't know how to handle <class 'object'> for Blob()"


def test_file_has_name_and_last_modified():
    file = File("hello", "hello.txt", "text/plain", last_modified=1234)
    assert file.name == "hello.txt"
    assert file.last_modified == 1234
    assert file.size == 5
    assert File(file, "copy.txt").last_modified == 1234
    assert isinstance(File("x", "x.txt").last_modified, int)


async def test_response_blob_uses_content_type():
    blob = await Response("x", headers={"content-type": "text/csv"}).blob()
    assert blob.content_type == "text/csv"
    assert await blob.text() == "x"


async def test_text_decodes_utf8_leniently():
    assert await Response(b"\xef\xbb\xbfhi").text() == "hi"
    assert await Response(b"a\xffb").text() == "a\ufffdb"


# ---------------------------------------------------------------- the body as the platform gives it


async def test_request_body_is_a_readable_stream_read_with_a_reader():
    request = Request(URL, method="POST", body=b"\x00chunk")
    stream = request.body
    assert repr(stream) == "[object ReadableStream]" and not isinstance(stream, (bytes, memoryview))
    reader = stream.getReader()
    first = await reader.read()
    assert first.done is False and first.value.to_bytes() == b"\x00chunk"
    assert type(first.value.to_py()) is memoryview and first.value.length == 6
    assert (await reader.read()).done is True
    assert request.body_used is True
    with pytest.raises(OSError, match="^Body already used$"):
        await request.text()


async def test_response_body_can_be_read_with_async_for():
    response = Response("héllo")
    chunks = [chunk.to_bytes() async for chunk in response.body]
    assert chunks == ["héllo".encode()]
    assert Response(None).body is None


def test_request_cf_is_a_js_object_with_attributes_and_to_py():
    request = Request(URL, cf={"colo": "LHR", "tlsVersion": "TLSv1.3"})
    assert request.cf.colo == "LHR"
    assert request.cf.to_py() == {"colo": "LHR", "tlsVersion": "TLSv1.3"}
    assert type(request.cf.to_py()) is dict


async def test_js_object_uses_the_javascript_names():
    request = Request(URL, method="PUT", body="x", cf={"colo": "AMS"})
    js = request.js_object
    assert js.constructor.name == "Request" and js.cf.colo == "AMS"
    assert js.bodyUsed is False
    assert (await js.arrayBuffer()).to_bytes() == b"x"
    assert js.bodyUsed is True and request.body_used is True
    assert Response("r", status=201).js_object.statusText == ""


@pytest.mark.parametrize(("url", "seen"), [
    ("http://do/a/../echo", "http://do/echo"),
    ("http://do/./echo", "http://do/echo"),
    ("http://do/a/..", "http://do/"),
    ("http://do/echo?q=a b", "http://do/echo?q=a%20b"),
    ("http://do/\u00e9?x=\u00e9", "http://do/%C3%A9?x=%C3%A9"),
    ("HTTP://DO.Example:80/echo", "http://do.example/echo"),
    ("https://do:443/echo", "https://do/echo"),
])
def test_request_url_is_normalised_as_the_whatwg_parser_does(url, seen):
    # workerd's request.url (conformance scenario edge_request_urls): a route on "/echo" matches
    assert Request(url).url == seen



# ----- URLs, the stub's HTTP hop and redirects as workerd gives them (conformance http_*)


@pytest.mark.parametrize("url, seen", [
    ("http://do\\a\\b?x=\\", "http://do/a/b?x=\\"),        # a backslash is a slash before the query
    ("http://do/x?", "http://do/x?"),                    # an empty query keeps its "?"
    ("http://do/a/%2e%2E/b", "http://do/b"),             # dot segments written with %2e
    ("http://do/`{}|^", "http://do/%60%7B%7D|%5E"),      # ^ is percent-encoded in a path, | is not
    ("http://\u00e9xample.com/x", "http://xn--xample-9ua.com/x"),  # a non-ASCII host in Punycode
    ("http://do:0080/x", "http://do/x"),
])
def test_request_urls_are_normalised_as_the_whatwg_parser_does(url, seen):
    assert Request(url).url == seen


@pytest.mark.parametrize("url", ["http://a b/", "http://a<b/", "http://a^b/"])
def test_a_host_with_a_forbidden_character_is_an_invalid_url(url):
    with pytest.raises(TypeError) as error:
        Request(url)
    assert str(error.value) == f"Invalid URL: {url}"


def test_clone_after_the_body_was_read_gives_workerds_locked_stream_error():
    response = FetchResponse(body="x")
    import asyncio

    asyncio.run(response.text())
    with pytest.raises(TypeError) as error:
        response.clone()
    assert str(error.value) == "This ReadableStream is currently locked to a reader,"


class Site(DurableObject):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        if path.startswith("go-"):
            return Response.redirect(f"http://do/{path[3:]}", int(path[3:6]) if path[3:6].isdigit() else 302)
        if path == "loop":
            return Response.redirect("http://do/loop", 302)
        return Response(json.dumps([request.url, str(request.method), dict(request.headers.items()),
                                    (await request.text()) if request.body is not None else None]))


@pytest.fixture
def site(make_runtime):
    rt = make_runtime(durable_objects={"SITE": Site})
    return rt, rt.env.SITE.getByName("s")


async def test_the_hop_drops_credentials_and_fragment_and_adds_content_length(site):
    _, stub = site
    resp = await stub.fetch("http://u:p@do/x#frag", method="POST", body="abc")
    assert json.loads(await resp.text()) == ["http://do/x", "POST", {"content-length": "3", "content-type":
                                             "text/plain;charset=UTF-8"}, "abc"]


async def test_stub_fetch_follows_a_redirect_as_workerd_does(site):
    _, stub = site
    resp = await stub.fetch("http://do/go-target")
    assert (resp.status, resp.redirected, resp.url) == (200, True, "http://do/target")
    assert json.loads(await resp.text())[:2] == ["http://do/target", "GET"]


async def test_a_303_after_a_post_is_followed_with_a_get_without_body(site):
    _, stub = site
    resp = await stub.fetch("http://do/go-303", method="POST", body="x")
    assert json.loads(await resp.text())[1:] == ["GET", {}, None]


async def test_redirect_manual_returns_the_redirect_itself(site):
    _, stub = site
    resp = await stub.fetch("http://do/go-target", redirect="manual")
    assert (resp.status, resp.redirected, resp.headers.get("location")) == (302, False, "http://do/target")


async def test_a_redirect_loop_ends_after_20_hops_with_the_last_redirect(site):
    _, stub = site
    resp = await stub.fetch("http://do/loop")
    assert resp.status == 302


async def test_the_response_to_head_has_no_body_across_the_hop(site):
    _, stub = site
    resp = await stub.fetch("http://do/x", method="HEAD")
    assert (resp.status, await resp.text()) == (200, "")


@pytest.mark.parametrize("call, message", [
    (lambda stub: stub.fetch("do/x"), "Invalid URL: do/x"),
    (lambda stub: stub.fetch("http://do/", method="FOO"), "Invalid HTTP method string: FOO"),
    (lambda stub: stub.fetch("http://do/", body="x"), "Request with a GET or HEAD method cannot have a body."),
])
async def test_stub_fetch_errors_reach_python_as_a_js_type_error(site, call, message):
    _, stub = site
    with pytest.raises(JsException) as error:
        await call(stub)
    assert (error.value.name, error.value.message) == ("TypeError", message)
    assert not isinstance(error.value, TypeError)  # `except TypeError` does not catch it, as on the platform


class RedirectMode(DurableObject):
    async def fetch(self, request):
        return Response(request.redirect)


@pytest.mark.parametrize("mode", ["follow", "manual"])
async def test_a_fetch_handler_receives_the_request_with_redirect_manual(make_runtime, mode):
    """As on workerd (conformance http_request_misc): the caller's mode decides whether the
    stub follows; the request the object receives says "manual"."""
    rt = make_runtime(durable_objects={"M": RedirectMode})
    resp = await rt.env.M.getByName("m").fetch("http://do/", redirect=mode)
    assert await resp.text() == "manual"


class Echo(DurableObject):
    """Answers with the request it received, then changes that request's headers."""

    async def fetch(self, request):
        seen = [request.url, str(request.method), request.redirect, dict(request.headers.items())]
        request.headers.set("x-touched", "yes")
        return Response(json.dumps(seen))


async def test_every_fetch_of_one_url_string_sends_its_own_normalised_request(make_runtime):
    # stub.fetch(url) remembers what a URL string becomes; each call still sends a fresh Request
    rt = make_runtime(durable_objects={"E": Echo})
    stub = rt.env.E.getByName("e")
    for _ in range(3):
        resp = await stub.fetch("HTTP://u:p@DO:80/a/../b?q#frag")
        assert json.loads(await resp.text()) == ["http://do/b?q", "GET", "manual", {}]


@pytest.mark.parametrize("url, message", [
    ("do/x", "Invalid URL: do/x"),
    ("mailto:someone", "Fetch API cannot load: mailto:someone"),
])
async def test_a_url_string_stub_fetch_cannot_load_is_refused_every_time(site, url, message):
    _, stub = site
    for options in ({}, {}, {"redirect": "manual"}, {"redirect": "manual"}):  # both ways in, twice each
        with pytest.raises(JsException) as error:
            await stub.fetch(url, **options)
        assert (error.value.name, error.value.message) == ("TypeError", message)


async def test_a_body_read_twice_raises_the_error_of_its_kind_and_no_body_reads_empty():
    response = Response("x")
    assert await response.text() == "x"
    with pytest.raises(TypeError) as error:
        await response.text()
    assert str(error.value) == BODY_USED
    request = Request(URL, method="POST", body="x")
    assert await request.text() == "x"
    with pytest.raises(OSError, match="^Body already used$"):  # the SDK's Request checks first
        await request.text()
    empty = Response(None)
    assert (await empty.text(), await empty.text(), empty.body_used) == ("", "", False)


def _socket_end():
    from js import WebSocketPair

    client, _server = WebSocketPair.new().object_values()
    return client


@pytest.mark.parametrize("make", [
    lambda: Response("text"),
    lambda: Response(b"x", status=201, status_text="Made", headers={"a": "1", "b": "2"}),
    lambda: Response.redirect("http://do/x", 307),
    lambda: Response.from_json({"a": 1}),
    lambda: Response(None, status=101, web_socket=_socket_end()),
    lambda: FetchResponse("http://u/", body="b", status=404, redirected=True),
])
def test_the_copy_a_stub_hop_makes_carries_every_field_of_the_response(make_runtime, make):
    # a hop builds the copy field by field: a field missed there would vanish across every stub
    make_runtime()  # (a WebSocketPair needs a world)
    original = make()
    copy = original._detached_copy()
    assert vars(copy).keys() == vars(original).keys()
    for name, value in vars(original).items():
        if name == "_headers":
            assert copy._headers is not value and list(copy._headers.items()) == list(value.items())
        elif name == "_status_text":
            assert copy._status_text == (value or None)  # the receiver sees the status's phrase
        else:
            assert getattr(copy, name) is value or getattr(copy, name) == value, name
    before = list(original.headers.items())
    for name in [*copy.headers.keys(), "x-later"]:  # each side's headers are its own, values too
        copy.headers.append(name, "later")
    assert list(original.headers.items()) == before
