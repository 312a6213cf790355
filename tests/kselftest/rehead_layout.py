#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""rehead_layout.py DIR TAG MODE - rewrite, in the OCI layout DIR, the
converted image TAG with each layer's incrfs image head stored as MODE:

  plain    expanded, under application/vnd.incrfs.image.v1: as incrfs-image
           convert stored heads before it compressed them;
  garbage  bytes that are not zstd, under the +zstd media type, with their
           true digest (so that only the expansion can notice);
  bomb     3 MiB of zeros compressed (about 100 bytes): less than the
           image, more than 32 times itself plus 1 MiB.

The manifest and the index entry of TAG are rewritten to match.  Why this
exists: oci_image_test pulls such images to check that pull reads the old
media type and refuses a head it cannot expand or that expands too far.
Needs zstd(1) for plain and bomb.
"""
import hashlib
import json
import os
import subprocess
import sys

ZSTD_MT = "application/vnd.incrfs.image.v1+zstd"
PLAIN_MT = "application/vnd.incrfs.image.v1"


def put(d, data):
    dig = hashlib.sha256(data).hexdigest()
    with open(os.path.join(d, "blobs", "sha256", dig), "wb") as f:
        f.write(data)
    return "sha256:" + dig, len(data)


def main():
    d, tag, mode = sys.argv[1:4]
    with open(os.path.join(d, "index.json")) as f:
        idx = json.load(f)
    ent = [m for m in idx["manifests"]
           if m.get("annotations", {}).get(
               "org.opencontainers.image.ref.name") == tag][0]
    with open(os.path.join(d, "blobs", "sha256", ent["digest"][7:])) as f:
        man = json.load(f)
    for lay in man["layers"]:
        if lay["mediaType"] != ZSTD_MT:
            continue
        path = os.path.join(d, "blobs", "sha256", lay["digest"][7:])
        if mode == "plain":
            data = subprocess.run(["zstd", "-dc", path], check=True,
                                  stdout=subprocess.PIPE).stdout
            lay["mediaType"] = PLAIN_MT
        elif mode == "bomb":
            data = subprocess.run(["zstd", "-q", "-c"], check=True,
                                  input=bytes(3 << 20),
                                  stdout=subprocess.PIPE).stdout
        else:
            data = b"this is not zstd\n" * 256
        lay["digest"], lay["size"] = put(d, data)
    ent["digest"], ent["size"] = put(d, json.dumps(man).encode())
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump(idx, f)


if __name__ == "__main__":
    main()
