"""gcp-storage-emulator, with the Cloud Storage XML API that object_store speaks.

object_store's GCS client (the one the services use) talks to the XML API: objects
are read with GET/HEAD /BUCKET/OBJECT, written with XML multipart uploads
(POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId, DELETE ?uploadId), copied
with PUT and x-goog-copy-source, and listed with GET /BUCKET?list-type=2.
gcp-storage-emulator (PyPI) implements the JSON API fully but of the XML API only a
simple PUT and a GET without validators (no ETag, no Last-Modified, no HEAD). This
module adds those XML operations on top of the emulator's own storage, following
https://cloud.google.com/storage/docs/xml-api/overview, so an object written through
the XML API is the same object the emulator's JSON API serves. Everything else
(buckets, the JSON API, persistence) is the emulator's unchanged code.

Usage: python gcs_emulator.py --port PORT --bucket NAME --data-dir DIR
"""

import argparse
import base64
import hashlib
import html
import logging
import re
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import parse_qs, unquote

from gcp_storage_emulator import server as gse
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects as gse_objects

# Multipart uploads in progress: upload id -> {bucket, key, content_type, parts}.
UPLOADS = {}
UPLOADS_LOCK = threading.Lock()


def _query(request):
    """The query string with blank values kept (`?uploads` has none)."""
    return parse_qs(request._parsed_url.query, keep_blank_values=True)


def _xml(response, status, body):
    response.status = status
    response.write_file(
        ("<?xml version='1.0' encoding='UTF-8'?>" + body).encode(),
        content_type="application/xml; charset=UTF-8",
    )


def _error(response, status, code, message):
    _xml(
        response,
        status,
        "<Error><Code>{}</Code><Message>{}</Message></Error>".format(
            code, html.escape(message)
        ),
    )


def _etag(obj):
    """The XML API's ETag: the quoted hex MD5 of the content."""
    return '"{}"'.format(base64.b64decode(obj["md5Hash"]).hex())


def _updated(obj):
    return datetime.strptime(obj["updated"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc
    )


def _validators(response, obj):
    response["ETag"] = _etag(obj)
    response["Last-Modified"] = format_datetime(_updated(obj), usegmt=True)
    response["x-goog-generation"] = obj["generation"]
    response["x-goog-metageneration"] = obj["metageneration"]
    response["x-goog-stored-content-length"] = str(obj["size"])


def _store(request, storage, bucket, key, content, content_type):
    """Write an object through the emulator's storage, as its JSON API does."""
    obj = gse_objects._make_object_resource(
        request.base_url, bucket, key, content_type, str(len(content))
    )
    obj = gse_objects._checksums(content, obj)
    storage.create_file(bucket, key, content, obj)
    return obj


def _precondition_failed(request, storage, bucket, key):
    """x-goog-if-generation-match: 0 means "only if the object does not exist"."""
    match = request.get_header("x-goog-if-generation-match")
    if match is None:
        return False
    try:
        current = storage.get_file_obj(bucket, key)["generation"]
    except NotFound:
        current = "0"
    return current != match


def _byte_range(header, size):
    """(start, end inclusive) for a single `bytes=` range, or None when unsatisfiable."""
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    if m.group(1) == "":
        length = int(m.group(2))
        return (max(size - length, 0), size - 1) if length else None
    start = int(m.group(1))
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (start, end) if start <= end else None


def object_get(request, response, storage, head=False):
    bucket, key = request.params["bucket_name"], request.params["object_id"]
    try:
        obj = storage.get_file_obj(bucket, key)
        content = b"" if head else storage.get_file(bucket, key)
    except NotFound:
        _error(response, HTTPStatus.NOT_FOUND, "NoSuchKey", "No such object: " + key)
        if head:
            response.head_length = len(response._content)
        return
    _validators(response, obj)
    response["Accept-Ranges"] = "bytes"
    size = int(obj["size"])
    range_header = request.get_header("Range")
    if range_header and not head:
        span = _byte_range(range_header, size)
        if span is None:
            response["Content-Range"] = "bytes */{}".format(size)
            _error(
                response,
                HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The requested range cannot be satisfied.",
            )
            return
        start, end = span
        response.status = HTTPStatus.PARTIAL_CONTENT
        response["Content-Range"] = "bytes {}-{}/{}".format(start, end, size)
        content = content[start : end + 1]
    response.write_file(content, content_type=obj.get("contentType"))
    if head:
        response.head_length = size


def object_head(request, response, storage):
    object_get(request, response, storage, head=True)


def object_put(request, response, storage):
    bucket, key = request.params["bucket_name"], request.params["object_id"]
    if "uploadId" in request.query:
        return _put_part(request, response, storage)
    if _precondition_failed(request, storage, bucket, key):
        return _error(
            response,
            HTTPStatus.PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold.",
        )
    source = request.get_header("x-goog-copy-source")
    try:
        if source is not None:
            src_bucket, _, src_key = unquote(source.lstrip("/")).partition("/")
            src = storage.get_file_obj(src_bucket, src_key)
            content = storage.get_file(src_bucket, src_key)
            obj = _store(
                request, storage, bucket, key, content, src.get("contentType")
            )
            _validators(response, obj)
            return _xml(
                response,
                HTTPStatus.OK,
                "<CopyObjectResult><LastModified>{}</LastModified><ETag>{}</ETag>"
                "</CopyObjectResult>".format(obj["updated"], _etag(obj)),
            )
        obj = _store(
            request,
            storage,
            bucket,
            key,
            request.data or b"",
            request.get_header("Content-Type", "application/octet-stream"),
        )
    except NotFound:
        return _error(response, HTTPStatus.NOT_FOUND, "NoSuchKey", "No such object")
    _validators(response, obj)


def _put_part(request, response, storage):
    upload_id = request.query["uploadId"][0]
    try:
        number = int(request.query["partNumber"][0])
    except (KeyError, ValueError):
        return _error(
            response, HTTPStatus.BAD_REQUEST, "InvalidArgument", "bad partNumber"
        )
    if not 1 <= number <= 10000:
        return _error(
            response, HTTPStatus.BAD_REQUEST, "InvalidArgument", "bad partNumber"
        )
    content = request.data or b""
    etag = '"{}"'.format(hashlib.md5(content).hexdigest())
    with UPLOADS_LOCK:
        upload = UPLOADS.get(upload_id)
        if upload is None or upload["key"] != request.params["object_id"]:
            return _error(
                response, HTTPStatus.NOT_FOUND, "NoSuchUpload", "No such upload"
            )
        upload["parts"][number] = (etag, content)
    response["ETag"] = etag


def object_post(request, response, storage):
    bucket, key = request.params["bucket_name"], request.params["object_id"]
    if "uploads" in _query(request):
        if bucket not in storage.buckets:
            return _error(
                response, HTTPStatus.NOT_FOUND, "NoSuchBucket", "No such bucket"
            )
        upload_id = uuid.uuid4().hex
        with UPLOADS_LOCK:
            UPLOADS[upload_id] = {
                "bucket": bucket,
                "key": key,
                "content_type": request.get_header(
                    "Content-Type", "application/octet-stream"
                ),
                "parts": {},
            }
        return _xml(
            response,
            HTTPStatus.OK,
            "<InitiateMultipartUploadResult><Bucket>{}</Bucket><Key>{}</Key>"
            "<UploadId>{}</UploadId></InitiateMultipartUploadResult>".format(
                html.escape(bucket), html.escape(key), upload_id
            ),
        )
    if "uploadId" in request.query:
        return _complete(request, response, storage, request.query["uploadId"][0])
    return _error(
        response, HTTPStatus.BAD_REQUEST, "InvalidArgument", "unsupported POST"
    )


def _complete(request, response, storage, upload_id):
    bucket, key = request.params["bucket_name"], request.params["object_id"]
    try:
        root = ET.fromstring(request.data or b"")
    except ET.ParseError:
        return _error(response, HTTPStatus.BAD_REQUEST, "MalformedXML", "bad body")
    listed = []
    for part in root.iter():
        if part.tag.rsplit("}", 1)[-1] != "Part":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: child.text for child in part}
        listed.append((int(fields.get("PartNumber") or 0), fields.get("ETag")))
    with UPLOADS_LOCK:
        upload = UPLOADS.get(upload_id)
        if upload is None or upload["key"] != key or upload["bucket"] != bucket:
            return _error(
                response, HTTPStatus.NOT_FOUND, "NoSuchUpload", "No such upload"
            )
        numbers = [n for n, _ in listed]
        if not listed or numbers != sorted(set(numbers)):
            return _error(
                response, HTTPStatus.BAD_REQUEST, "InvalidPartOrder", "bad part order"
            )
        content = []
        for number, etag in listed:
            stored = upload["parts"].get(number)
            if stored is None or stored[0].strip('"') != (etag or "").strip('"'):
                return _error(
                    response, HTTPStatus.BAD_REQUEST, "InvalidPart", "unknown part"
                )
            content.append(stored[1])
        del UPLOADS[upload_id]
    obj = _store(
        request, storage, bucket, key, b"".join(content), upload["content_type"]
    )
    response["x-goog-generation"] = obj["generation"]
    _xml(
        response,
        HTTPStatus.OK,
        "<CompleteMultipartUploadResult><Location>/{0}/{1}</Location>"
        "<Bucket>{0}</Bucket><Key>{1}</Key><ETag>{2}</ETag>"
        "</CompleteMultipartUploadResult>".format(
            html.escape(bucket), html.escape(key), _etag(obj)
        ),
    )


def object_delete(request, response, storage):
    bucket, key = request.params["bucket_name"], request.params["object_id"]
    if "uploadId" in request.query:
        with UPLOADS_LOCK:
            UPLOADS.pop(request.query["uploadId"][0], None)
        response.status = HTTPStatus.NO_CONTENT
        return
    try:
        storage.delete_file(bucket, key)
    except NotFound:
        return _error(response, HTTPStatus.NOT_FOUND, "NoSuchKey", "No such object")
    response.status = HTTPStatus.NO_CONTENT


def bucket_list(request, response, storage):
    """GET /BUCKET?list-type=2: ListObjectsV2 as the XML API answers it."""
    bucket = request.params["bucket_name"]
    q = {k: v[0] for k, v in request.query.items()}
    prefix = q.get("prefix", "")
    delimiter = q.get("delimiter")
    try:
        objs, _ = storage.get_file_list(bucket, prefix or None)
    except NotFound:
        return _error(response, HTTPStatus.NOT_FOUND, "NoSuchBucket", "No such bucket")
    after = q.get("continuation-token") or q.get("start-after") or ""
    max_keys = int(q.get("max-keys", "1000"))
    contents, prefixes, token = [], [], None
    for obj in sorted(objs, key=lambda o: o["name"]):
        name = obj["name"]
        if not name.startswith(prefix) or name <= after:
            continue
        if delimiter and delimiter in name[len(prefix) :]:
            common = prefix + name[len(prefix) :].split(delimiter, 1)[0] + delimiter
            if common not in prefixes:
                prefixes.append(common)
            continue
        if len(contents) == max_keys:
            token = contents[-1]["name"]
            break
        contents.append(obj)
    body = "<ListBucketResult><Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount>".format(
        html.escape(bucket), html.escape(prefix), len(contents)
    )
    for obj in contents:
        body += (
            "<Contents><Key>{}</Key><Size>{}</Size><LastModified>{}</LastModified>"
            "<ETag>{}</ETag></Contents>".format(
                html.escape(obj["name"]),
                obj["size"],
                _updated(obj).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                html.escape(_etag(obj)),
            )
        )
    for p in prefixes:
        body += "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>".format(
            html.escape(p)
        )
    if token is not None:
        body += "<IsTruncated>true</IsTruncated><NextContinuationToken>{}</NextContinuationToken>".format(
            html.escape(token)
        )
    else:
        body += "<IsTruncated>false</IsTruncated>"
    _xml(response, HTTPStatus.OK, body + "</ListBucketResult>")


def _install():
    xml_object = r"^/(?P<bucket_name>[-.\w]+)/(?P<object_id>.*[^/]+)$"
    routes = [r for r in gse.HANDLERS if r[0] != xml_object]
    # object_store percent-encodes every non-alphanumeric byte, the bucket's too
    # (readme%2Dtest), which the emulator's pattern does not accept.
    routes.append(
        (
            r"^/(?P<bucket_name>[^/]+)/(?P<object_id>[^/].*)$",
            {
                gse.GET: object_get,
                "HEAD": object_head,
                gse.PUT: object_put,
                gse.POST: object_post,
                gse.DELETE: object_delete,
            },
        )
    )
    routes.append((r"^/(?P<bucket_name>[^/]+)$", {gse.GET: bucket_list}))
    gse.HANDLERS = tuple(routes)

    def do_head(self):
        gse.Router(self).handle("HEAD")

    gse.RequestHandler.do_HEAD = do_head

    original_close = gse.Response.close

    def close(self):
        length = getattr(self, "head_length", None)
        if length is None:
            return original_close(self)
        self._handler.send_response(self.status.value, self.status.phrase)
        for k, v in self._headers.items():
            self._handler.send_header(k, v)
        self._handler.send_header("Content-Length", str(length))
        self._handler.end_headers()

    gse.Response.close = close


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    _install()
    gse.create_server(
        args.host, args.port, in_memory=False, default_bucket=args.bucket,
        data_dir=args.data_dir,
    ).run()


if __name__ == "__main__":
    main()
