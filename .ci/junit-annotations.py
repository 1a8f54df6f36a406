#!/usr/bin/env python3
"""Prints a JUnit report's failures and skips as GitHub Actions annotations
(`::error` and `::notice`), which need no `checks: write` permission. Standard library
only. usage: junit-annotations.py JUNIT.xml"""
import sys
import xml.etree.ElementTree as ET


def escape(text):
    # GitHub's workflow-command escaping for a message and for a property value.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def main(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"::warning::no JUnit report to annotate: {e}")
        return 0
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        for kind, level in (("failure", "error"), ("error", "error"), ("skipped", "notice")):
            for el in case.findall(kind):
                text = el.get("message") or (el.text or "").strip() or kind
                title = escape(name).replace(",", "%2C").replace(":", "%3A")
                print(f"::{level} title={title}::{escape(text[:4000])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
