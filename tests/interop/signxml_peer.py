#!/usr/bin/env python3
"""An independent XMLDSig verifier for qoltanba's tests: the `signxml` package (PyPI, installed
by .ci/run; lxml and cryptography underneath).

Usage: signxml_peer.py SIGNED.xml (--ca CA.pem | --cert CERT.pem) [--last] [--at TIME]

Verifies the document's signature, the certificate either chained to the certificates in
CA.pem or given as CERT.pem. Exit 0 when it verifies, 1 with the reason on stderr when not.

--last:  the last ds:Signature child of the root (NCA's Kalkan appends each new signature, whose
         URI="" reference covers the earlier ones), the others left in place.
--at:    the certificate's validity is judged at TIME (ISO 8601, e.g. 2021-06-01T00:00:00+00:00).

A WS-Security envelope needs nothing more (signxml finds the Body's wsu:Id by its local name)
but --cert: signxml does not read a wsse:SecurityTokenReference.
"""
import argparse
import datetime
import sys

from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier

DSIG = "http://www.w3.org/2000/09/xmldsig#"


class LastSignature(XMLVerifier):
    """signxml verifies the first signature it finds; Kalkan's last one is the root's last
    ds:Signature child. Only the choice of element changes: the enveloped-signature transform
    still removes just that one, and the digest covers the others."""

    def _get_signature(self, root):
        found = root.findall(f"{{{DSIG}}}Signature")
        return found[-1] if found else super()._get_signature(root)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("signed")
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--at")
    parser.add_argument("--last", action="store_true")
    args = parser.parse_args()
    with open(args.signed, "rb") as f:
        data = f.read()
    kwargs = {}
    if args.ca:
        kwargs["ca_pem_file"] = args.ca
    if args.cert:
        with open(args.cert) as f:
            kwargs["x509_cert"] = f.read()
    if args.at:
        when = datetime.datetime.fromisoformat(args.at)
        kwargs["expect_config"] = SignatureConfiguration(verification_time=when)
    verifier = LastSignature() if args.last else XMLVerifier()
    # XMLDSig §4.3.3.3: a same-document reference (URI="" or "#id") selects the document
    # "minus any comment nodes", so the WithComments transform after it has none to keep.
    # signxml keeps them (it canonicalises the element the URI names as it is), so it reads the
    # document without comments, as the specification's node-set has it.
    parser = etree.XMLParser(resolve_entities=False, remove_comments=True)
    try:
        result = verifier.verify(data, parser=parser, **kwargs)
    except Exception as e:  # the reason is the answer
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    signed = result.signed_xml
    print(etree.tostring(signed)[:200].decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
