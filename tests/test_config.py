"""The config file: where it is found, errors that name the line, the checks and windows it
gives, and those windows honoured by plans and runs (one account and an organization)."""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

import rootkeys
from rootkeys import KeyOutcome, RemovalPolicy, RunOutcome
from rootkeys.checks import CloudWatchAlarmCheck, CommandCheck, HttpHealthCheck
from rootkeys.config import Config, default_config_path, load_config
from rootkeys.errors import ConfigError
from rootkeys.testing import FakeClock, Sandbox, SandboxAccount

from .conftest import MakeManager
from .orgtools import organization

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DOC = Path(__file__).parent.parent / "docs" / "config.md"
PYTHON = sys.executable


def _write(folder: Path, text: str, name: str = "config.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


# -- where the file is ---------------------------------------------------------------------------


def test_an_explicit_path_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_config(path) reads path, whatever ROOTKEYS_CONFIG names."""
    monkeypatch.setenv("ROOTKEYS_CONFIG", str(_write(tmp_path, 'observe = "1d"', "env.toml")))
    config = load_config(_write(tmp_path, 'observe = "2d"'))
    assert config.observe == 2 * DAY
    assert config.source == tmp_path / "config.toml"


def test_the_environment_names_the_file_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a path, ROOTKEYS_CONFIG names the file (over the default one)."""
    (tmp_path / "xdg" / "rootkeys").mkdir(parents=True)
    _write(tmp_path / "xdg" / "rootkeys", 'observe = "3d"')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("ROOTKEYS_CONFIG", str(_write(tmp_path, 'observe = "1d"', "env.toml")))
    assert load_config().observe == DAY
    monkeypatch.setenv("ROOTKEYS_CONFIG", "")  # set but empty: as if unset
    assert load_config().observe == 3 * DAY


def test_the_default_file_is_under_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither path nor ROOTKEYS_CONFIG: $XDG_CONFIG_HOME/rootkeys/config.toml."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "xdg" / "rootkeys").mkdir(parents=True)
    _write(tmp_path / "xdg" / "rootkeys", 'observe = "5d"')
    assert default_config_path() == tmp_path / "xdg" / "rootkeys" / "config.toml"
    assert load_config().observe == 5 * DAY


def test_without_xdg_config_home_the_default_is_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XDG_CONFIG_HOME unset (or relative): ~/.config/rootkeys/config.toml."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")
    assert default_config_path() == tmp_path / ".config" / "rootkeys" / "config.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert default_config_path() == tmp_path / ".config" / "rootkeys" / "config.toml"


def test_no_default_file_is_an_empty_config() -> None:
    """Nothing at the default place: no window, no checks, no error."""
    config = load_config()
    assert config == Config()
    assert config.observe_for() is None
    assert config.check_interval is None
    assert config.checks() == []
    assert config.source is None


def test_a_named_file_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing file named by a path, or by ROOTKEYS_CONFIG, is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file$") as given:
        load_config(tmp_path / "nope.toml")
    assert given.value.line is None
    monkeypatch.setenv("ROOTKEYS_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"gone\.toml: no such file \(named by ROOTKEYS_CONFIG\)"):
        load_config()


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    """A path that cannot be read as a file is a ConfigError, not an OSError."""
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)


# -- errors name the line ------------------------------------------------------------------------

ERRORS = [
    ("syntax", 'observe = "7d"\ncheck_interval = 1h\n', 2, "not valid TOML"),
    ("unclosed string", 'observe = "7d\n', 1, "not valid TOML"),
    (
        "unknown key",
        '\n# windows\nobserv = "7d"\n',
        3,
        r"observ: unknown key; did you mean observe\?",
    ),
    (
        "unknown key in an entry",
        '[[checks.http]]\nurl = "https://a.example"\n[[checks.http]]\nurll = "https://b.example"\n',
        4,
        r"checks\.http\[1\]\.urll: unknown key; did you mean url\?",
    ),
    ("bad duration", 'observe = "7"\n', 1, "observe: '7' is not a duration"),
    (
        "duration not a string",
        "check_interval = 3600\n",
        1,
        'write a duration as a string, like "7d"',
    ),
    ("zero interval", 'check_interval = "0"\n', 1, "check_interval: must be longer than 0"),
    ("window too long", 'observe = "400d"\n', 1, "observe: a window is at most 366 days, got 400d"),
    (
        "bad account id",
        'observe = "1d"\n\n[accounts."1111"]\nobserve = "2d"\n',
        3,
        r"accounts\.1111: '1111' is not an AWS account id",
    ),
    (
        "bad key id",
        'observe = "1d"\n[keys."ASIAAAAAAAAAAAAAAAAA"]\nobserve = "2d"\n',
        2,
        "is not an access key id",
    ),
    (
        "bad account window",
        '[accounts."111122223333"]\n\nobserve = "2x"\n',
        3,
        r"accounts\.111122223333\.observe: '2x' is not a duration",
    ),
    (
        "status of the wrong type",
        '[[checks.http]]\nurl = "https://a.example"\nexpected_status = [200, "204"]\n',
        3,
        r"checks\.http\[0\]\.expected_status\[1\]: Input should be a valid integer",
    ),
    (
        "url missing",
        '[[checks.http]]\nurl = "https://a.example"\n\n[[checks.http]]\ntimeout = "2s"\n',
        4,
        r"checks\.http\[1\]\.url: required, but missing",
    ),
    (
        "names and prefix",
        '[[checks.alarms]]\nnames = ["a"]\nprefix = "p"\n',
        1,
        r"checks\.alarms\[0\]: give either names",
    ),
    (
        "unclosed quote in a command",
        '[[checks.command]]\ntimeout = "5s"\nrun = "./check.sh \'prod"\n',
        3,
        r"checks\.command\[0\]\.run: cannot split",
    ),
    ("observe and policy", 'observe = "1d"\n\npolicy = true\n', 3, "give either observe"),
    ("policy a string", 'policy = "yes"\n', 1, "write policy = true, or a"),
    (
        "bad method",
        '[[checks.http]]\nurl = "https://a.example"\nmethod = "get it"\n',
        3,
        r"checks\.http\[0\]\.method: must be an HTTP method",
    ),
    (
        "journal not a table",
        'observe = "1d"\njournal = "dynamodb://x?region=us-east-1"\n',
        2,
        r"journal: 'x' is not a DynamoDB table name",
    ),
    (
        "unknown policy key",
        '[policy]\nnever = "2h"\npatience = "1d"\n',
        3,
        "policy.patience: unknown key; expected one of active, dormant, never, recent, recent_w",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_every_error_names_the_file_and_the_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    """Syntax and validation errors alike: one ConfigError, 'config.toml, line N: ...'."""
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert isinstance(error, rootkeys.InputError)
    assert error.line == line
    assert str(error).startswith(f"{path}, line {line}: ")
    assert re.search(message, error.detail), error.detail


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    """A byte that is not UTF-8 is a ConfigError on its line."""
    path = tmp_path / "config.toml"
    path.write_bytes(b'observe = "1d"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match="line 2: not UTF-8"):
        load_config(path)


def test_config_error_is_one_of_the_errors() -> None:
    """ConfigError is exported with the other errors, an InputError (so the CLI exits 2)."""
    assert rootkeys.errors.ConfigError is ConfigError
    assert issubclass(ConfigError, rootkeys.InputError)


# -- what the file gives ---------------------------------------------------------------------------


def test_the_docs_example_loads_and_means_what_it_says(tmp_path: Path) -> None:
    """The complete example in docs/config.md loads, and builds what its comments say."""
    example = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert example is not None
    config = load_config(_write(tmp_path, example[1]))
    assert config.check_interval == HOUR
    policy = config.observe_for()
    assert isinstance(policy, RemovalPolicy)
    assert policy.fixed == 7 * DAY
    assert policy.accounts == {"111122223333": 14 * DAY}
    assert policy.keys == {"AKIAIOSFODNN7EXAMPLE": 30 * DAY}
    http, alarms, command = config.checks(boto3.Session(region_name="us-east-1"))
    assert isinstance(http, HttpHealthCheck)
    assert (http.url, http.expected, http.timeout) == (
        "https://app.example.com/health",
        frozenset({200, 204}),
        5.0,
    )
    assert isinstance(alarms, CloudWatchAlarmCheck)
    assert (alarms.prefix, alarms.names) == ("prod-", ())
    assert alarms._client.meta.region_name == "eu-west-1"
    assert isinstance(command, CommandCheck)
    assert (command.argv, command.timeout) == (("./healthcheck.sh", "--env", "prod"), 30.0)
    assert command.cwd == str(tmp_path)  # next to the file


def test_headers_and_env_stay_out_of_reprs(tmp_path: Path) -> None:
    """An HTTP header or a command's variable may be a token: never in the config's repr."""
    text = (
        '[[checks.http]]\nurl = "https://a.example"\n'
        'headers = { Authorization = "Bearer s3cr3t" }\n'
        '[[checks.command]]\nrun = "./c.sh"\nenv = { API_TOKEN = "t0k3n" }\n'
    )
    config = load_config(_write(tmp_path, text))
    assert config.check_settings.http[0].headers == {"Authorization": "Bearer s3cr3t"}
    shown = repr(config) + str(config) + repr(config.checks())
    assert "s3cr3t" not in shown
    assert "t0k3n" not in shown


def test_observe_alone_is_one_window() -> None:
    """observe and nothing per account or key: observe_for() is that timedelta."""
    assert Config.model_validate({"observe": "1d12h"}).observe_for() == timedelta(days=1, hours=12)


def test_policy_true_is_the_default_policy(tmp_path: Path) -> None:
    """policy = true gives RemovalPolicy(); a [policy] table changes only what it names."""
    assert load_config(_write(tmp_path, "policy = true")).observe_for() == RemovalPolicy()
    table = load_config(_write(tmp_path, '[policy]\nnever = "2h"\nrecent = "3w"\n'))
    assert table.observe_for() == RemovalPolicy(never=2 * HOUR, recent=timedelta(weeks=3))


def test_account_and_key_windows_refine_the_base_window(tmp_path: Path) -> None:
    """With windows per account or key, observe_for() is a policy that carries them."""
    text = (
        'policy = true\n[accounts."111122223333"]\nobserve = "3d"\n'
        '[keys."AKIAIOSFODNN7EXAMPLE"]\nobserve = "0"\n'
    )
    policy = load_config(_write(tmp_path, text)).observe_for()
    assert policy == RemovalPolicy(
        accounts={"111122223333": 3 * DAY}, keys={"AKIAIOSFODNN7EXAMPLE": timedelta(0)}
    )


def test_windows_per_key_without_a_base_window_give_none(tmp_path: Path) -> None:
    """Per-key windows alone set no window: observe_for() is None until one is given."""
    config = load_config(_write(tmp_path, '[keys."AKIAIOSFODNN7EXAMPLE"]\nobserve = "2d"\n'))
    assert config.observe_for() is None
    policy = config.extended(observe=HOUR).observe_for()
    assert policy == RemovalPolicy(fixed=HOUR, keys={"AKIAIOSFODNN7EXAMPLE": 2 * DAY})


def test_command_cwd_is_relative_to_the_file(tmp_path: Path) -> None:
    """A command runs in the file's folder, or in cwd resolved against it."""
    text = '[[checks.command]]\nrun = "./a.sh"\n[[checks.command]]\nrun = "b"\ncwd = "sub"\n'
    first, second = load_config(_write(tmp_path, text)).checks()
    assert isinstance(first, CommandCheck)
    assert isinstance(second, CommandCheck)
    assert (first.cwd, second.cwd) == (str(tmp_path), str(tmp_path / "sub"))


def test_alarm_checks_take_the_given_region_and_name_what_they_watch() -> None:
    """An alarm entry without region reads in the region given; each is named for its alarms."""
    config = Config.model_validate(
        {"checks": {"alarms": [{"names": ["a", "b"]}, {"prefix": "p-"}]}}
    )
    by_names, by_prefix = config.checks(boto3.Session(), region="eu-central-1")
    assert isinstance(by_names, CloudWatchAlarmCheck)
    assert isinstance(by_prefix, CloudWatchAlarmCheck)
    assert by_names.names == ("a", "b")
    assert by_names.name == "alarms a, b"
    assert by_prefix.name == "alarms p-*"
    assert by_names._client.meta.region_name == "eu-central-1"


def test_an_alarm_check_without_any_region_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No region in the entry, the call or the session: InputError, not botocore's."""
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    config = Config.model_validate({"checks": {"alarms": [{"prefix": "p-"}]}})
    with pytest.raises(rootkeys.InputError, match="needs a region"):
        config.checks(boto3.Session())


# -- what the command line adds ------------------------------------------------------------------


def test_extended_adds_checks_from_flags(tmp_path: Path) -> None:
    """URLs, alarm names, alarm prefixes and commands add checks to the file's."""
    config = load_config(_write(tmp_path, '[[checks.http]]\nurl = "https://a.example"\n'))
    more = config.extended(
        http=["http://b.example/health"],
        alarms=["x", "y"],
        alarm_prefixes=["prod-"],
        commands=["./check.sh --env 'prod eu'"],
    )
    checks = more.checks(boto3.Session(region_name="us-east-1"))
    assert [type(c).__name__ for c in checks] == [
        "HttpHealthCheck",
        "HttpHealthCheck",
        "CloudWatchAlarmCheck",
        "CloudWatchAlarmCheck",
        "CommandCheck",
    ]
    assert checks[1].url == "http://b.example/health"  # type: ignore[attr-defined]
    assert checks[2].names == ("x", "y")  # type: ignore[attr-defined]
    assert checks[3].prefix == "prod-"  # type: ignore[attr-defined]
    assert checks[4].argv == ("./check.sh", "--env", "prod eu")  # type: ignore[attr-defined]
    assert checks[4].cwd is None  # type: ignore[attr-defined]  # a flag's runs where you are
    assert more.source == config.source
    assert len(config.checks()) == 1  # the loaded config is unchanged


def test_extended_windows_replace_the_files(tmp_path: Path) -> None:
    """--observe replaces policy, --policy replaces observe (keeping [policy]), interval too."""
    config = load_config(_write(tmp_path, 'check_interval = "1h"\n[policy]\nnever = "2h"\n'))
    assert config.extended(observe=DAY).observe_for() == DAY
    assert config.extended(check_interval=timedelta(minutes=5)).check_interval == timedelta(
        minutes=5
    )
    plain = Config.model_validate({"observe": "1d"})
    assert plain.extended(policy=True).observe_for() == RemovalPolicy()
    assert config.extended(policy=True).observe_for() == RemovalPolicy(never=2 * HOUR)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"http": ["ftp://a.example"]}, "check URL 'ftp://a.example': must start with http"),
        ({"commands": ["'unclosed"]}, 'check command "\'unclosed": cannot split'),
        ({"commands": [""]}, "must name a program"),
        ({"alarms": "one-alarm"}, "alarms must be a list of strings"),
        ({"observe": timedelta(days=400)}, "observe: a window is at most 366 days"),
        ({"observe": timedelta(days=1), "policy": True}, "either a window"),
        ({"check_interval": timedelta(0)}, "check_interval: must be longer than 0"),
        ({"check_interval": 60}, "check_interval must be a datetime.timedelta"),
    ],
    ids=["url", "quote", "empty-command", "alarms-string", "huge", "both", "zero", "int"],
)
def test_extended_refuses_bad_flags_with_input_errors(
    flags: dict[str, object], message: str
) -> None:
    """A bad flag value is an InputError (not a ConfigError: it has no line)."""
    with pytest.raises(rootkeys.InputError, match=re.escape(message)) as caught:
        Config().extended(**flags)  # type: ignore[arg-type]
    assert not isinstance(caught.value, ConfigError)


# -- CommandCheck ----------------------------------------------------------------------------------

KEY = rootkeys.ObservedKey(
    key_id="AKIAIOSFODNN7EXAMPLE",
    status=rootkeys.lifecycle.KeyStatus.INACTIVE,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    account_id="111122223333",
    window_started_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
)


def _python(code: str, **kwargs: object) -> CommandCheck:
    return CommandCheck([PYTHON, "-c", code], **kwargs)  # type: ignore[arg-type]


def test_command_exit_zero_is_healthy() -> None:
    """Exit 0: healthy, the reason says so with the program's last line."""
    result = _python("print('starting'); print('all good')")(KEY)
    assert result.ok
    assert result.reason.endswith("exited 0: all good")


def test_command_nonzero_exit_fails_with_its_last_line() -> None:
    """A non-zero exit fails; the reason is the exit code and the last line of output."""
    result = _python("import sys; print('checking'); sys.exit('orders API answered 503')")(KEY)
    assert not result.ok
    assert result.reason.endswith("exited 1: orders API answered 503")


def test_command_timeout_kills_it_and_its_children() -> None:
    """No exit within the timeout: failed, and the program and its children are killed."""
    code = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print('waiting', flush=True); time.sleep(60)"
    )
    started = time.monotonic()
    result = _python(code, timeout=timedelta(milliseconds=500))(KEY)
    assert time.monotonic() - started < 10  # not the child's 60 s: its output was closed
    assert not result.ok
    assert "did not finish within 0.5s (killed): waiting" in result.reason


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (["no-such-program-rootkeys"], "could not be run: No such file or directory"),
        (["./missing.sh"], "could not be run: No such file or directory"),
    ],
    ids=["not-on-path", "relative"],
)
def test_command_not_found_fails(run: list[str], reason: str, tmp_path: Path) -> None:
    """A program that cannot be started fails the check (it cannot tell: not safe)."""
    result = CommandCheck(run, cwd=tmp_path)(KEY)
    assert not result.ok
    assert reason in result.reason


def test_command_not_executable_fails(tmp_path: Path) -> None:
    """A file that is not executable fails the check."""
    script = tmp_path / "check.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    result = CommandCheck("./check.sh", cwd=tmp_path)(KEY)
    assert not result.ok
    assert "could not be run: Permission denied" in result.reason


def test_command_is_never_run_by_a_shell() -> None:
    """A string is split into arguments, nothing expanded: no $VAR, no ';'."""
    result = CommandCheck(f"{PYTHON} -c 'import sys; print(sys.argv[1:])' $HOME; exit 3")(KEY)
    assert result.ok
    assert "['$HOME;', 'exit', '3']" in result.reason


def test_command_gets_the_key_but_no_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key's ids are in its environment; the AWS credential variables are not."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN")
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    code = (
        "import os, sys; "
        "aws = sorted(set(os.environ) & {'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', "
        "'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'}); "
        "ours = [os.environ[k] for k in ('ROOTKEYS_ACCOUNT_ID', 'ROOTKEYS_KEY_ID', "
        "'ROOTKEYS_KEY_STATE', 'ROOTKEYS_WINDOW_STARTED_AT', 'SOMETHING_ELSE', 'EXTRA')]; "
        "print(aws, ours); sys.exit(1 if aws else 0)"
    )
    result = _python(code, env={"EXTRA": "given"})(KEY)
    assert result.ok, result.reason
    assert (
        "[] ['111122223333', 'AKIAIOSFODNN7EXAMPLE', 'Inactive', "
        "'2026-11-27T12:00:00+00:00', 'kept', 'given']"
    ) in result.reason


def test_command_output_never_carries_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret the program prints (learnt elsewhere) is redacted from the reason."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = "short-token-value-123"
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    result = _python(f"import sys; sys.exit('failed with {secret} and {token}')")(KEY)
    assert not result.ok
    assert secret not in result.reason
    assert token not in result.reason
    assert "[redacted]" in result.reason


def test_command_reason_is_short() -> None:
    """A long last line is cut to 200 characters."""
    result = _python("import sys; sys.exit('x ' * 500)")(KEY)
    assert not result.ok
    assert len(result.reason) < 300


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run": []}, "must name a program"),
        ({"run": "   "}, "must name a program"),
        ({"run": [1, 2]}, "list of strings"),
        ({"run": "x 'y"}, "cannot split"),
        ({"run": "x", "timeout": 0}, "timeout must be positive"),
        ({"run": "x", "env": {"A": 1}}, "env must map names to strings"),
    ],
    ids=["empty", "blank", "not-strings", "quote", "zero-timeout", "env-int"],
)
def test_command_check_refuses_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    """Bad arguments are InputErrors when the check is made, before any run."""
    with pytest.raises(rootkeys.InputError, match=message):
        CommandCheck(**kwargs)  # type: ignore[arg-type]


# -- windows per key and account, through the one decision ---------------------------------------


def test_plan_and_staged_runs_give_a_key_its_own_window(
    sandbox: Sandbox,
    account: SandboxAccount,
    make_manager: MakeManager,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """A key's window from the file: the plan says it, the runs keep it, each key goes in time."""
    quick, slow = account.root_key_ids
    config = load_config(_write(tmp_path, f'observe = "1h"\n[keys."{slow}"]\nobserve = "1d"\n'))
    manager = make_manager(journal=tmp_path / "journal.sqlite3")
    planned = {k.key_id: k for k in manager.plan(config.observe_for(), evidence=False).keys}
    assert (planned[quick].window, planned[slow].window) == (HOUR, DAY)
    assert planned[slow].window_reason == "set for this key: 1d"

    first = manager.remove_all(config.observe_for(), wait=False)
    assert {k.key_id: k.window for k in first.keys} == {quick: HOUR, slow: DAY}
    clock.advance(2 * HOUR)
    status = {k.key_id: k for k in manager.status().keys}
    assert status[slow].until == status[slow].since + DAY  # type: ignore[operator]
    second = {
        k.key_id: k.outcome for k in manager.remove_all(config.observe_for(), wait=False).keys
    }
    assert second == {quick: KeyOutcome.DELETED, slow: KeyOutcome.OBSERVING}
    clock.advance(DAY)
    assert manager.remove_all(config.observe_for(), wait=False).outcome is RunOutcome.DONE


def test_a_blocking_run_waits_for_the_longest_key_window(
    account: SandboxAccount, make_manager: MakeManager, clock: FakeClock
) -> None:
    """wait=True with a longer window for one key: the run lasts that long, not the base's."""
    policy = RemovalPolicy(fixed=HOUR, keys={account.root_key_ids[1]: 3 * HOUR})
    start = clock.now()
    report = make_manager().remove_all(policy)
    assert report.outcome is RunOutcome.DONE
    assert clock.now() - start >= 3 * HOUR
    assert report.observe_for == 3 * HOUR


def test_a_window_set_for_a_key_lengthens_never_shortens(
    account: SandboxAccount, make_manager: MakeManager, clock: FakeClock, tmp_path: Path
) -> None:
    """A later run that sets a shorter window keeps the remembered one; a longer one lengthens."""
    key = account.root_key_ids[0]
    manager = make_manager(journal=tmp_path / "journal.sqlite3")
    manager.remove_all(DAY, wait=False)
    shorter = RemovalPolicy(fixed=DAY, keys={key: HOUR})
    planned = {k.key_id: k for k in manager.plan(shorter, evidence=False).keys}
    assert planned[key].window == DAY
    clock.advance(2 * HOUR)
    assert {k.key_id: k.outcome for k in manager.remove_all(shorter, wait=False).keys}[key] is (
        KeyOutcome.OBSERVING
    )
    longer = RemovalPolicy(fixed=DAY, keys={key: 3 * DAY})
    planned = {k.key_id: k for k in manager.plan(longer, evidence=False).keys}
    assert planned[key].window == 3 * DAY
    assert planned[key].window_reason == "lengthened from 1d: set for this key: 3d"


def test_a_fixed_window_gathers_no_evidence(
    sandbox: Sandbox, make_manager: MakeManager, tmp_path: Path
) -> None:
    """A policy whose every window is set needs no CloudTrail: a run makes no lookup."""
    made = len(sandbox.calls)
    make_manager(journal=tmp_path / "journal.sqlite3").remove_all(
        RemovalPolicy(fixed=HOUR), wait=False
    )
    assert "cloudtrail" not in {c.service for c in sandbox.calls[made:]}


def test_organization_gives_an_account_its_own_window(
    sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    """An account's window from the file: plan, run and status agree per member account."""
    org = sandbox.create_organization(members=2, root_keys=1)
    slow, quick = org.member_account_ids
    text = f'observe = "1h"\n[accounts."{slow}"]\nobserve = "2d"\n'
    config = load_config(_write(tmp_path, text))
    journal = rootkeys.Journal(tmp_path / "journal.sqlite3")
    organization_ = organization(sandbox, clock, journal)
    plans = {p.account_id: p for p in organization_.plan(config.observe_for())}
    assert plans[slow].keys[0].window == 2 * DAY
    assert plans[slow].keys[0].window_reason == f"set for account {slow}: 2d"
    assert plans[quick].keys[0].window == HOUR
    organization_.remove_all(config.observe_for(), wait=False)
    clock.advance(2 * HOUR)
    accounts = {
        a.account_id: a for a in organization_.remove_all(config.observe_for(), wait=False).accounts
    }
    assert accounts[quick].outcome is rootkeys.AccountOutcome.DONE
    assert accounts[slow].outcome is rootkeys.AccountOutcome.OBSERVING
    (status,) = [s for s in organization_.status(account_ids=[slow])]
    assert status.keys[0].window == 2 * DAY


def test_the_config_drives_a_manager_with_its_checks(
    sandbox: Sandbox, account: SandboxAccount, clock: FakeClock, tmp_path: Path
) -> None:
    """RootKeyManager(checks=config.checks(session)): a failing command rolls the run back."""
    text = (
        'observe = "1h"\ncheck_interval = "20m"\n'
        f'[[checks.command]]\nrun = [{PYTHON!r}, "-c", "import sys; sys.exit(\'orders down\')"]\n'
    )
    config = load_config(_write(tmp_path, text))
    session = sandbox.root_session(account.account_id)
    manager = rootkeys.RootKeyManager(session, checks=config.checks(session), clock=clock)
    report = manager.remove_all(config.observe_for(), config.check_interval)
    assert report.outcome is RunOutcome.ROLLED_BACK
    assert report.check_failure is not None
    assert "orders down" in report.check_failure.reason


def test_the_journal_location_reaches_the_command_line(tmp_path: Path) -> None:
    """``journal = "..."`` is read, and the CLI's journal is that one (no flag, no env)."""
    from rootkeys._cli.context import Context, resolve
    from rootkeys._cli.parser import parser

    chosen = tmp_path / "shared.sqlite3"
    path = _write(tmp_path, f'observe = "1d"\njournal = "{chosen}"\n')
    assert load_config(path).journal == str(chosen)
    args = parser().parse_args(["--config", str(path), "status"])
    context = Context(resolve(args, {}), sys.stdout, sys.stderr)
    assert context.journal().path == chosen
    flagged = parser().parse_args(
        ["--config", str(path), "--journal", str(tmp_path / "j"), "status"]
    )
    assert Context(resolve(flagged, {}), sys.stdout, sys.stderr).journal().path == tmp_path / "j"
