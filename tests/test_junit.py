from xml.etree import ElementTree as ET

from sandbox.base import RunResult
from sandbox.junit import junit_xml


def test_passing_run_is_one_passing_case() -> None:
    xml = junit_xml(
        RunResult(command="bash reproduce.sh --smoke", exit_code=0, duration_s=1.5, stdout="ok")
    )
    root = ET.fromstring(xml.split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "1" and suite.get("failures") == "0"
    assert root.find(".//failure") is None
    assert root.find(".//system-out").text == "ok"


def test_failing_run_carries_the_reason_and_stderr() -> None:
    result = RunResult(command="python main.py", exit_code=1, stderr="Traceback\x00 boom\x1b[0m")
    root = ET.fromstring(junit_xml(result).split("\n", 1)[1])
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.get("message") == "python main.py: exit code 1"
    assert "boom" in failure.text and "\x00" not in failure.text


def test_timeout_and_oom_are_named() -> None:
    t = junit_xml(RunResult(command="c", exit_code=None, timed_out=True))
    o = junit_xml(RunResult(command="c", exit_code=137, oom_killed=True))
    assert 'message="c: timed out"' in t
    assert 'message="c: out of memory"' in o


def test_disk_limit_is_named() -> None:
    d = junit_xml(RunResult(command="c", exit_code=0, disk_limit_exceeded=True))
    assert 'message="c: disk limit exceeded"' in d
