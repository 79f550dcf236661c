#!/usr/bin/env python3
"""An independent XMLDSig signer for qoltanba's tests: the `signxml` package (PyPI).

Usage: signxml_sign.py IN.xml OUT.xml KEY.pem CERT.pem ALGORITHM [--id ID] [--exclusive]

Signs IN.xml enveloped (the ds:Signature appended to the root) with ALGORITHM (signxml's name:
rsa-sha256, ecdsa-sha256, …) and SHA-256 reference digests, the certificate in KeyInfo. The
reference is URI="" for a root without an Id attribute; --id names it (URI="#ID"), which
signxml also does by itself for a root with an Id; --exclusive uses
exclusive C14N (signxml's default is C14N 1.1).
"""
import argparse
import sys

from lxml import etree
from signxml import XMLSigner, methods


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ["input", "output", "key", "cert", "algorithm"]:
        parser.add_argument(name)
    parser.add_argument("--id")
    parser.add_argument("--exclusive", action="store_true")
    args = parser.parse_args()
    root = etree.parse(args.input).getroot()
    options = {"method": methods.enveloped, "signature_algorithm": args.algorithm, "digest_algorithm": "sha256"}
    if args.exclusive:
        options["c14n_algorithm"] = "http://www.w3.org/2001/10/xml-exc-c14n#"
    signer = XMLSigner(**options)
    with open(args.key, "rb") as f:
        key = f.read()
    with open(args.cert, "rb") as f:
        cert = f.read()
    kwargs = {"key": key, "cert": cert}
    if args.id:
        kwargs["reference_uri"] = f"#{args.id}"
    signed = signer.sign(root, **kwargs)
    with open(args.output, "wb") as f:
        f.write(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
