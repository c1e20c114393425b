"""Run by tests/test_provenance.py with roc-validator's own virtual
environment (its pins conflict with the engine's: it needs rich<14):
validate an RO-Crate against a profile with no network. The RO-Crate 1.1
JSON-LD context is served from a vendored copy (ro-crate-1.1-context.jsonld,
taken from the `rocrate` 0.9.0 wheel on PyPI, rocrate/data/ro-crate.jsonld)
instead of w3id.org; any other connection fails.

    python validate.py CRATE-FOLDER PROFILE CONTEXT-FILE  -> JSON on stdout"""

import json
import socket
import sys

crate, profile, context_file = sys.argv[1:4]


def no_network(*args, **kwargs):
    raise OSError("no network in the RO-Crate check")


socket.socket.connect = no_network
socket.create_connection = no_network

from rocrate_validator import services  # noqa: E402
from rocrate_validator.utils import document_loader, http  # noqa: E402

context = json.load(open(context_file, encoding="utf-8"))
fetched = []


def offline(url):
    fetched.append(url)
    if url.rstrip("/").startswith("https://w3id.org/ro/crate/") and url.rstrip("/").endswith("/context"):
        return context
    raise OSError(f"no network in the RO-Crate check: {url}")


document_loader._fetch_json_ld = offline


class Served:
    """What requests would return for the context."""
    status_code = 200
    ok = True
    headers = {"Content-Type": "application/ld+json"}

    def __init__(self, url):
        self.url = url
        self.text = json.dumps(context)
        self.content = self.text.encode()

    def json(self):
        return context

    def raise_for_status(self):
        pass


def get(self, url, *args, **kwargs):
    return Served(offline(url) and url)


http.HttpRequester.get = get
result = services.validate({"rocrate_uri": crate, "profile_identifier": profile,
                            "requirement_severity": "REQUIRED", "skip_availability_check": True})
issues = [{"severity": str(i.severity), "check": str(getattr(i.check, "identifier", i.check)),
           "message": i.message} for i in result.get_issues()]
print(json.dumps({"valid": result.passed(), "issues": issues, "fetched": fetched}))
