#!/usr/bin/env python3
"""An independent GOST R 34.10-2012 / Streebog peer for qoltanba's tests, on the pure-Python
`gostcrypto` package (PyPI, installed by .ci/run).

Reads one JSON case per line on stdin and writes one JSON answer per line. Every byte string is
hex in qoltanba's wire layout, NCA's: public key X||Y and signature r||s, each part 64 bytes
little-endian; private key d, 64 bytes little-endian; the message itself (never a digest: the
peer computes Streebog-512 with its own code).

gostcrypto writes every integer big-endian and reads a digest's bytes as a big-endian integer,
while GOST X.509 profiles (NCA's included) read the same Streebog bytes as little-endian; the
conversions below are only those reversals.

Cases:
  {"op": "digest", "message": hex}                         -> {"digest": hex}
  {"op": "public", "private": hex}                         -> {"public": hex}
  {"op": "verify", "public": hex, "message": hex, "signature": hex} -> {"valid": bool}
  {"op": "sign", "private": hex, "message": hex}           -> {"signature": hex}
"""
import json
import sys

from gostcrypto import gosthash, gostsignature

SIZE = 64
CURVE = gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-12-512-paramSetA"]
SCHEME = gostsignature.new(gostsignature.MODE_512, CURVE)


def streebog(message: bytes) -> bytes:
    return bytes(gosthash.new("streebog512", data=message).digest())


def halves_reversed(data: bytes) -> bytearray:
    """X||Y (or r||s) little-endian parts -> the same parts big-endian."""
    return bytearray(data[:SIZE][::-1] + data[SIZE:][::-1])


def answer(case: dict) -> dict:
    op = case["op"]
    if op == "digest":
        return {"digest": streebog(bytes.fromhex(case["message"])).hex()}
    if op == "public":
        public_be = SCHEME.public_key_generate(bytearray(bytes.fromhex(case["private"])[::-1]))
        return {"public": bytes(halves_reversed(bytes(public_be))).hex()}
    if op == "verify":
        digest_be = bytearray(streebog(bytes.fromhex(case["message"]))[::-1])
        try:
            valid = SCHEME.verify(
                halves_reversed(bytes.fromhex(case["public"])),
                digest_be,
                halves_reversed(bytes.fromhex(case["signature"])),
            )
        except gostsignature.GOSTSignatureError:
            valid = False
        return {"valid": bool(valid)}
    if op == "sign":
        digest_be = bytearray(streebog(bytes.fromhex(case["message"]))[::-1])
        signature_be = SCHEME.sign(bytearray(bytes.fromhex(case["private"])[::-1]), digest_be)
        return {"signature": bytes(halves_reversed(bytes(signature_be))).hex()}
    raise ValueError(f"unknown op {op!r}")


for line in sys.stdin:
    if line.strip():
        print(json.dumps(answer(json.loads(line))), flush=True)
