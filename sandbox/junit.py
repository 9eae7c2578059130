"""JUnit XML for a smoke run, so CI dashboards (GitHub, GitLab, Jenkins) show it as a test."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from sandbox.base import RunResult

MAX_XML_OUTPUT = 64_000


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry and keep the tail of long output."""
    text = text[-MAX_XML_OUTPUT:]
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd")
    )


def junit_xml(result: RunResult, *, suite: str = "paper2code-smoke", name: str = "smoke") -> str:
    """One test suite with one test case: the smoke command."""
    failed = not result.ok
    suite_el = ET.Element(
        "testsuite",
        name=suite,
        tests="1",
        failures="1" if failed else "0",
        errors="0",
        skipped="0",
        time=f"{result.duration_s:.3f}",
    )
    case = ET.SubElement(
        suite_el, "testcase", classname=suite, name=name, time=f"{result.duration_s:.3f}"
    )
    if failed:
        failure = ET.SubElement(case, "failure", message=f"{result.command}: {result.verdict}")
        failure.text = _clean(result.stderr)
    ET.SubElement(case, "system-out").text = _clean(result.stdout)
    ET.SubElement(case, "system-err").text = _clean(result.stderr)
    root = ET.Element("testsuites", tests="1", failures="1" if failed else "0")
    root.append(suite_el)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
