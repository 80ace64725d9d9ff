#!/usr/bin/env python3
"""Push stand-in `nvidia/cuda` tags into a registry through its HTTP API (no Docker needed): for each tag a
config blob naming it (so each tag has its own manifest) and an OCI image manifest without layers.

Usage: push-standin-tags.py REGISTRY_URL TAG...   (REGISTRY_URL: the registry itself, e.g. http://127.0.0.1:5000)
The same as tests/common/live.rs's Registry::push, for the benches.
"""
import hashlib
import json
import sys
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")
repo = "nvidia/cuda"


def call(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, dict(resp.headers)


for tag in sys.argv[2:]:
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"devgpu.stand-in": tag}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    _, h = call("POST", "%s/v2/%s/blobs/uploads/" % (base, repo), b"")
    loc = h["Location"]
    if not loc.startswith("http"):
        loc = base + loc
    loc += ("&" if "?" in loc else "?") + "digest=" + urllib.parse.quote(digest)
    call("PUT", loc, config, {"Content-Type": "application/octet-stream"})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                                      "size": len(config)}, "layers": []}).encode()
    call("PUT", "%s/v2/%s/manifests/%s" % (base, repo, tag), manifest,
         {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
print("pushed %d tags" % (len(sys.argv) - 2))
