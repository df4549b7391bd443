"""Template mining: masking, header splitting, clustering, parameters, and ids that survive a restart."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from recoup.analytics.templates import StateError, TemplateMiner
from recoup.analytics.templates_header import split_header
from recoup.analytics.templates_mask import join_quantities, mask_token

LOGHUB = Path(__file__).resolve().parents[3] / "shared" / "data" / "loghub2k"
DATASETS = ["HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Linux"]


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        ("42", "<*>"),
        ("-17", "<*>"),
        ("3.14", "<*>"),
        ("0x7f3a", "<*>"),
        ("10.251.73.220:50010", "<*>"),
        ("/10.10.34.11:45307", "<*>"),
        ("blk_-6952295868487656571", "<*>"),
        ("123e4567-e89b-12d3-a456-426614174000", "<*>"),
        ("2005-06-03-15.42.50.675872", "<*>"),
        ("/var/log/messages", "<*>"),
        ("https://example.org/a?b=c", "<*>"),
        ("ops@example.org", "<*>"),
        ("C:\\Windows\\System32\\drivers", "<*>"),
        ("Sun", "<*>"),
        ("uid=0", "uid=<*>"),
        ("(HWID=1973)", "(HWID=<*>)"),
        ("[12]", "[<*>]"),
        ("size:", "size:"),
        ("LOCAL(0),", "<*>,"),
        ("'node-12',", "'<*>',"),
        ("terminating", "terminating"),
        ("ruser=", "ruser="),
        ("tty=NODEVssh", "tty=NODEVssh"),
        ("onExtend:1514038530000", "onExtend:<*>"),
        ("db.local:5432", "<*>"),
        ("1190 bytes", "<*>"),
        ("(1.16 KB)", "(<*>)"),
    ],
)
def test_masking_keeps_words_and_masks_values(token: str, masked: str) -> None:
    assert mask_token(token) == masked


@pytest.mark.parametrize(
    ("line", "content"),
    [
        (
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_3 terminating",
            "PacketResponder 1 for block blk_3 terminating",
        ),
        (
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.MRAppMaster: Created MRAppMaster for app_1",
            "Created MRAppMaster for app_1",
        ),
        (
            "2015-10-18 18:01:47,978 INFO [RMCommunicator Allocator] o.a.h.RMContainerAllocator: Ramping down all",
            "Ramping down all",
        ),
        (
            "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
            "Changing view acls to: yarn,curi",
        ),
        (
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - "
            "Notification time out: 3200",
            "Notification time out: 3200",
        ),
        (
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL "
            "INFO instruction cache parity error corrected",
            "instruction cache parity error corrected",
        ),
        ("Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown", "check pass; user unknown"),
        (
            "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for root",
            "session closed for root",
        ),
        (
            "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
            "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
        ),
        (
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app wtoken",
            "printFreezingDisplayLogs opening app wtoken",
        ),
        (
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
            "Invalid user webmaster from 173.234.31.186",
        ),
        (
            "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505",
            "CBS Loaded Servicing Stack v6.1.7601.23505",
        ),
        (
            "Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: ARPT: 620651.021206: wl0: MDNS: IPV6 Addr: fe80:0:0",
            "ARPT: 620651.021206: wl0: MDNS: IPV6 Addr: fe80:0:0",
        ),
        (
            "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server "
            '[req-3 - - -] 10.11.10.1 "GET /v2/servers/detail HTTP/1.1" status: 200',
            'nova.osapi_compute.wsgi.server [req-3 - - -] 10.11.10.1 "GET /v2/servers/detail HTTP/1.1" status: 200',
        ),
        # bare messages are never cut, even with a level word or a colon inside
        ("Connection to db failed ERROR 42 retrying", "Connection to db failed ERROR 42 retrying"),
        ("Retry budget: exhausted after 3 tries", "Retry budget: exhausted after 3 tries"),
        (
            "ValueError: invalid literal for int() with base 10: 'x'",
            "ValueError: invalid literal for int() with base 10: 'x'",
        ),
    ],
)
def test_header_is_set_aside_without_a_format_string(line: str, content: str) -> None:
    tokens = line.split()
    assert " ".join(tokens[split_header(tokens) :]) == content


def test_lines_of_one_template_share_an_id_and_give_their_parameters() -> None:
    miner = TemplateMiner()
    a = miner.add("Connection to 10.0.0.1:5432 timed out after 30 s (attempt=1)")
    b = miner.add("Connection to db-7.internal:5432 timed out after 12 s (attempt=2)")
    c = miner.add("User alice logged in")
    assert a.template_id == b.template_id != c.template_id
    assert b.template == "Connection to <*> timed out after <*> (attempt=<*>)"  # a number's unit is part of it
    assert b.parameters == ["db-7.internal:5432", "12 s", "2"]
    assert c.parameters == []
    # the first line, seen again, gets the generalised template and its own values
    again = miner.add("Connection to 10.0.0.1:5432 timed out after 30 s (attempt=1)")
    assert again.template_id == a.template_id
    assert again.parameters == ["10.0.0.1:5432", "30 s", "1"]


def test_pipe_separated_fields_are_tokens() -> None:
    miner = TemplateMiner()
    a = miner.add("20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579")
    b = miner.add("20171223-22:15:29:633|Step_LSC|30002312|onStandStepChanged 3580")
    c = miner.add("20171223-22:15:29:635|Step_StandReportReceiver|30002312|onReceive action: android.intent.SCREEN_ON")
    assert a.template_id == b.template_id != c.template_id
    assert b.parameters[-1] == "3580"


def test_a_masked_header_does_not_glue_one_word_messages() -> None:
    miner = TemplateMiner()
    ids = {
        miner.add(f"{2559971 + i} gige{i} gige temperature {1073151998 + i} 1 {word}").template_id
        for i, word in enumerate(["normal", "warning", "critical", "normal"])
    }
    assert len(ids) == 3


def test_different_messages_stay_apart() -> None:
    miner = TemplateMiner()
    ids = {
        miner.add(m).template_id
        for m in (
            "disk full on /dev/sda1",
            "disk quota exceeded for user 12",
            "worker 3 started",
            "worker 3 stopped unexpectedly",
        )
    }
    assert len(ids) == 4


def test_match_learns_nothing() -> None:
    miner = TemplateMiner()
    learned = miner.add("job 17 finished in 3 s")
    found = miner.match("job 18 finished in 9 s")
    assert found is not None and found.template_id == learned.template_id
    assert miner.match("a line of a kind never seen") is None
    assert len(miner.templates()) == 1


def test_empty_and_whitespace_lines() -> None:
    miner = TemplateMiner()
    assert miner.add("").template == ""
    assert miner.add("   ").template_id == miner.add("").template_id


def _stream() -> list[str]:
    lines = []
    for i in range(60):
        lines.append(f"2024-05-01 10:00:{i % 60:02d},123 INFO [worker-{i % 3}] app.Jobs: job {i} done in {i * 7} ms")
        lines.append(
            f"2024-05-01 10:00:{i % 60:02d},456 WARN [worker-{i % 3}] app.Net: retrying host-{i}.local port {i}"
        )
        if i % 5 == 0:
            lines.append(f"2024-05-01 10:00:{i % 60:02d},789 ERROR [main] app.Db: lost connection to pg-{i} (code={i})")
    return lines


def test_ids_survive_a_save_and_a_new_process(tmp_path: Path) -> None:
    lines = _stream()
    half = len(lines) // 2
    continuous = TemplateMiner()
    expected = [continuous.add(line).template_id for line in lines]

    state = tmp_path / "templates.json"
    first = TemplateMiner()
    got = [first.add(line).template_id for line in lines[:half]]
    first.save(state)
    rest = tmp_path / "rest.txt"
    rest.write_text("\n".join(lines[half:]), encoding="utf-8")
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from recoup.analytics.templates import TemplateMiner
        miner = TemplateMiner.load(Path(sys.argv[1]))
        for line in Path(sys.argv[2]).read_text(encoding="utf-8").splitlines():
            print(miner.add(line).template_id)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(state), str(rest)], capture_output=True, text=True, check=True, timeout=60
    )
    got += out.stdout.split()
    assert got == expected
    assert len(set(expected)) == 3


def test_state_file_is_versioned_json_and_written_atomically(tmp_path: Path) -> None:
    miner = TemplateMiner()
    for line in _stream():
        miner.add(line)
    state = tmp_path / "state.json"
    miner.save(state)
    miner.save(state)  # overwriting goes through a temporary file and a rename
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    document = json.loads(state.read_text(encoding="utf-8"))
    assert document["schema"] == "recoup.templates" and document["version"] == 2
    assert sum(t["size"] for t in document["templates"]) == len(_stream())
    loaded = TemplateMiner.load(state)
    assert [c.template_id for c in loaded.templates()] == [c.template_id for c in miner.templates()]
    assert [c.template for c in loaded.templates()] == [c.template for c in miner.templates()]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("{not json", "not valid JSON"),
        ('{"schema": "other", "version": 1, "settings": {}, "templates": []}', "'schema'"),
        ('{"schema": "recoup.templates", "version": 99, "settings": {}, "templates": []}', "'version'"),
        ('{"schema": "recoup.templates", "version": 1, "settings": {}, "templates": {}}', "'templates'"),
        ('{"schema": "recoup.templates", "version": 1, "settings": {}, "templates": [{"id": 3}]}', "'templates[0].id'"),
        (
            '{"schema": "recoup.templates", "version": 1, "settings": {}, '
            '"templates": [{"id": "a", "tokens": [1], "size": 1}]}',
            "'templates[0].tokens'",
        ),
        (
            '{"schema": "recoup.templates", "version": 1, "settings": {}, "templates": '
            '[{"id": "a", "tokens": [], "size": 1}, {"id": "a", "tokens": ["x"], "size": 1}]}',
            "'templates[1].id'",
        ),
        (
            '{"schema": "recoup.templates", "version": 2, "settings": {}, "templates": '
            '[{"id": "a", "tokens": ["x"], "size": 1, "family": "b"}]}',
            "'templates[0].family'",
        ),
        (
            '{"schema": "recoup.templates", "version": 2, "settings": {}, "templates": '
            '[{"id": "a", "tokens": ["x"], "size": 1, "family": 7}]}',
            "'templates[0].family'",
        ),
        (
            '{"schema": "recoup.templates", "version": 1, "settings": {"similarity": 2}, "templates": []}',
            "'settings.similarity'",
        ),
        (
            '{"schema": "recoup.templates", "version": 1, "settings": {"agreement": "high"}, "templates": []}',
            "'settings.agreement'",
        ),
        (
            '{"schema": "recoup.templates", "version": 1, "settings": {"similarity": 0}, "templates": []}',
            "'settings'",
        ),
    ],
)
def test_a_bad_state_file_is_refused_by_name(tmp_path: Path, content: str, field: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content, encoding="utf-8")
    with pytest.raises(StateError, match=field.replace("[", r"\[").replace("]", r"\]")):
        TemplateMiner.load(state)
    assert state.read_text(encoding="utf-8") == content  # nothing lost


def test_settings_are_checked_and_kept(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="similarity"):
        TemplateMiner(similarity=0)
    with pytest.raises(ValueError, match="agreement"):
        TemplateMiner(agreement=1.0)
    state = tmp_path / "state.json"
    TemplateMiner(similarity=0.6, strip_header=False, agreement=0.5).save(state)
    loaded = TemplateMiner.load(state)
    assert (loaded.similarity, loaded.strip_header, loaded.agreement) == (0.6, False, 0.5)


def test_a_number_and_its_unit_are_one_token() -> None:
    line = "took 12 ms, read 1190 bytes (1.16 KB) in <1 sec"
    assert join_quantities(line.split()) == ["took", "12 ms,", "read", "1190 bytes", "(1.16 KB)", "in", "<1 sec"]
    words = "the B team and s words stay"  # a unit counts only right after a number
    assert join_quantities(words.split()) == words.split()


def test_a_value_of_varying_word_count_keeps_one_template() -> None:
    miner = TemplateMiner()
    lines = [
        "proxy.example.org:5070 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
        "proxy.example.org:5070 close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime 00:02",
        "proxy.example.org:5070 close, 451 bytes sent, 18846 bytes (18.4 KB) received, lifetime <1 sec",
        "proxy.example.org:5070 close, 1165 bytes (1.13 KB) sent, 815 bytes received, lifetime <1 sec",
    ]
    matches = [miner.add(line) for line in lines]
    assert len({m.template_id for m in matches}) == 1
    assert matches[1].parameters == [
        "proxy.example.org:5070",
        "1190 bytes",
        "1.16 KB",
        "1671 bytes",
        "1.63 KB",
        "00:02",
    ]
    assert matches[3].parameters[-1] == "1 sec"  # "<" stays in the template: "lifetime <<*>"
    other = miner.add("proxy.example.org:5070 open through proxy proxy.example.org:5070 HTTPS")
    assert other.template_id != matches[0].template_id


def test_a_stack_of_any_depth_is_one_template_but_other_words_are_not() -> None:
    miner = TemplateMiner()
    a = miner.add("Destroying surface called by a.b.C.run:12 a.b.D.go:3")
    b = miner.add("Destroying surface called by a.b.C.run:12 a.b.D.go:3 a.b.E.main:99 x.Y.z:1")
    c = miner.add("Destroying window called by a.b.C.run:12 a.b.D.go:3 a.b.E.main:99")
    assert a.template_id == b.template_id != c.template_id
    assert b.template == "Destroying surface called by <*> <*> <*> <*>"  # each line has its own shape
    assert b.parameters[-1] == "x.Y.z:1"


def test_families_survive_a_restart(tmp_path: Path) -> None:
    lines = [
        f"copied {n} bytes{' (' + str(n // 1024) + ' KB)' if n > 1024 else ''} to disk" for n in (10, 5000, 7, 9000)
    ]
    continuous = TemplateMiner()
    expected = [continuous.add(line).template_id for line in lines]
    assert len(set(expected)) == 1
    first = TemplateMiner()
    first.add(lines[0])
    first.add(lines[1])
    first.save(tmp_path / "state.json")
    document = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert [t.get("family") for t in document["templates"]] == [None, expected[0]]
    second = TemplateMiner.load(tmp_path / "state.json")
    assert [second.add(line).template_id for line in lines] == expected


def test_a_version_1_state_file_still_loads(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        '{"schema": "recoup.templates", "version": 1, "settings": {}, '
        '"templates": [{"id": "abc", "tokens": ["user", "<*>", "logged", "in"], "size": 3}]}',
        encoding="utf-8",
    )
    miner = TemplateMiner.load(state)
    assert miner.add("user bob7 logged in").template_id == "abc"


def _loghub(name: str) -> tuple[list[str], list[str], list[str]]:
    with (LOGHUB / name / f"{name}_2k.log_structured.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    raw = (LOGHUB / name / f"{name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    return raw, [r["Content"] for r in rows], [r["EventId"] for r in rows]


def _grouping_accuracy(predicted: list[str], truth: list[str]) -> float:
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(predicted):
        groups.setdefault(p, []).append(i)
    true_sizes: dict[str, int] = {}
    for t in truth:
        true_sizes[t] = true_sizes.get(t, 0) + 1
    correct = sum(
        len(m) for m in groups.values() if len({truth[i] for i in m}) == 1 and true_sizes[truth[m[0]]] == len(m)
    )
    return correct / len(truth)


@pytest.mark.skipif(not (LOGHUB / "HDFS").is_dir(), reason="Loghub-2k data not present at ../shared/data/loghub2k")
def test_grouping_accuracy_on_loghub_with_one_configuration() -> None:
    content_ga, raw_ga = [], []
    for name in DATASETS:
        raw, content, truth = _loghub(name)
        miner = TemplateMiner()
        content_ga.append(_grouping_accuracy([miner.add(line).template_id for line in content], truth))
        miner = TemplateMiner()
        raw_ga.append(_grouping_accuracy([miner.add(line).template_id for line in raw], truth))
    assert sum(content_ga) / len(content_ga) >= 0.90, content_ga
    assert sum(raw_ga) / len(raw_ga) >= 0.85, raw_ga


@pytest.mark.skipif(not (LOGHUB / "HDFS").is_dir(), reason="Loghub-2k data not present at ../shared/data/loghub2k")
@pytest.mark.parametrize("name", ["Hadoop", "Linux"])
def test_a_restart_gives_the_ids_of_a_process_that_never_stopped(tmp_path: Path, name: str) -> None:
    raw, _, _ = _loghub(name)
    continuous = TemplateMiner()
    expected = [continuous.add(line).template_id for line in raw]
    half = len(raw) // 2
    first = TemplateMiner()
    got = [first.add(line).template_id for line in raw[:half]]
    first.save(tmp_path / "state.json")
    second = TemplateMiner.load(tmp_path / "state.json")
    got += [second.add(line).template_id for line in raw[half:]]
    assert got == expected
