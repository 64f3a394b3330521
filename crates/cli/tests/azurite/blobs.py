"""Writes test fixtures into Azurite as real blobs, the way Azure writes exports: diagnostic
settings append to append blobs, Log Analytics data export writes block blobs.

Usage (the connection string in ACRLENS_TEST_AZURITE):
  blobs.py upload-tree DIR         each folder under DIR is a container, its files append blobs
  blobs.py append CONTAINER BLOB FILE   append FILE's bytes (creating the append blob if needed)
  blobs.py replace CONTAINER BLOB FILE  replace the blob by a block blob holding FILE
"""

import os
import sys

from azure.storage.blob import BlobServiceClient

# The service's limit for one Append Block call.
APPEND_LIMIT = 4 << 20


def container(service, name):
    client = service.get_container_client(name)
    if not client.exists():
        client.create_container()
    return client


def append(client, name, data):
    blob = client.get_blob_client(name)
    if not blob.exists():
        blob.create_append_blob()
    for start in range(0, len(data), APPEND_LIMIT):
        blob.append_block(data[start : start + APPEND_LIMIT])


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    service = BlobServiceClient.from_connection_string(os.environ["ACRLENS_TEST_AZURITE"])
    command, args = sys.argv[1], sys.argv[2:]
    if command == "upload-tree":
        root = args[0]
        for name in sorted(os.listdir(root)):
            base = os.path.join(root, name)
            client = container(service, name)
            for folder, _, files in sorted(os.walk(base)):
                for file in sorted(files):
                    path = os.path.join(folder, file)
                    blob = os.path.relpath(path, base).replace(os.sep, "/")
                    append(client, blob, read(path))
    elif command == "append":
        append(container(service, args[0]), args[1], read(args[2]))
    elif command == "replace":
        blob = container(service, args[0]).get_blob_client(args[1])
        if blob.exists():
            blob.delete_blob()
        blob.upload_blob(read(args[2]), blob_type="BlockBlob")
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
