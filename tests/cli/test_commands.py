"""The nation, user and token commands, called in-process as management commands and via main()."""

from __future__ import annotations

import io
import shlex
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from tagshare import cli
from tagshare.nations.models import ApiToken, Nation, User
from tagshare.nations.services import token_authenticate

TTY_USER = "user create --nation alpha --email tty@alpha.example --role staff"


def run(command: str) -> str:
    out = io.StringIO()
    call_command(*shlex.split(command), stdout=out, stderr=io.StringIO())
    return out.getvalue()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_help_lists_the_tagshare_commands_not_djangos(capsys: Any) -> None:
    for argv in ([], ["--help"], ["help"]):
        cli.main(argv)
        out = capsys.readouterr().out
        for command in ("migrate", "serve", "demo", "nation create", "user create", "token create"):
            assert command in out
        assert "makemigrations" not in out
        assert len(out.splitlines()) < 40


def test_nation_create_then_list(db: Any) -> None:
    out = run("nation create north --name 'North Side' --plan enterprise --region gb")
    assert "north" in out
    nation = Nation.objects.get(slug="north")
    assert (nation.name, nation.plan, nation.default_region) == ("North Side", "enterprise", "GB")

    listing = run("nation list")
    row = next(line for line in listing.splitlines() if "north" in line)
    assert "North Side" in row and "enterprise" in row


def test_nation_list_when_empty_says_how_to_add_one(db: Any) -> None:
    assert "tagshare nation create" in run("nation list")


def test_user_create_with_password_can_sign_in(nation: Nation) -> None:
    out = run(
        "user create --nation alpha --email ' Kim@Alpha.Example ' --role admin "
        "--password a-long-password"
    )
    assert "kim@alpha.example" in out
    user = authenticate(nation="alpha", email="kim@alpha.example", password="a-long-password")
    assert user is not None and user.role == "admin"


def test_user_create_in_a_pipe_without_password_gets_no_usable_password(
    nation: Nation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    out = run("user create --nation alpha --email pipe@alpha.example --role staff")
    user = User.objects.get(email="pipe@alpha.example")
    assert not user.has_usable_password()
    assert "no password" in out


def test_user_create_on_a_terminal_asks_for_the_password_twice(
    nation: Nation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    answers = iter(["typed-password-1", "typed-password-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run(TTY_USER)
    assert authenticate(nation="alpha", email="tty@alpha.example", password="typed-password-1")


def test_user_create_on_a_terminal_refuses_passwords_that_differ(
    nation: Nation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    answers = iter(["typed-password-1", "typed-password-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="do not match"):
        run(TTY_USER)
    assert not User.objects.filter(email="tty@alpha.example").exists()


def test_token_create_prints_only_a_working_token(admin: User) -> None:
    out = run(f"token create --nation alpha --email {admin.email} --name ci")
    lines = out.splitlines()
    assert len(lines) == 1
    assert token_authenticate(lines[0]) == admin
    assert ApiToken.objects.get(user=admin).name == "ci"


ERROR_CASES = [
    ("nation create alpha --name Again --plan leader", "already exists"),
    ("nation create gamma --name Gamma --plan gold", "Unknown plan"),
    ("nation create 'Bad Slug' --name Bad --plan leader", "Invalid slug"),
    ("user create --nation nowhere --email a@b.example --role admin --password long-enough",
     "No nation with slug 'nowhere'"),
    ("user create --nation alpha --email not-an-email --role admin --password long-enough",
     "not an email address"),
    ("user create --nation alpha --email new@alpha.example --role owner --password long-enough",
     "Unknown role"),
    ("user create --nation alpha --email new@alpha.example --role staff --password short",
     "too short"),
    ("user create --nation alpha --email admin@alpha.example --role staff --password long-enough",
     "already a user"),
    ("token create --nation alpha --email nobody@alpha.example", "No user"),
    ("token create --nation nowhere --email admin@alpha.example", "No nation"),
]  # fmt: skip


@pytest.mark.django_db(transaction=True)  # main() closes connections, as a real run does
@pytest.mark.parametrize(("command", "message"), ERROR_CASES)
def test_errors_are_one_line_on_stderr_with_a_failing_exit(
    admin: User, command: str, message: str, capsys: Any
) -> None:
    before = (Nation.objects.count(), User.objects.count(), ApiToken.objects.count())
    with pytest.raises(SystemExit) as exited:
        cli.main(shlex.split(command))
    captured = capsys.readouterr()
    assert exited.value.code not in (0, None)
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("Error: ") and message in lines[0]
    assert (Nation.objects.count(), User.objects.count(), ApiToken.objects.count()) == before
