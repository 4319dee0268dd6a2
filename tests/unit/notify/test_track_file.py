"""TrackedFile: keepalived's number parsing, init_file, and changes seen through inotify."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from pykeepalived.track.file import TrackedFile, parse_value

from ._util import run_async, wait_until


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (b"42\n", 42),
        (b"  \t\n-17 trailing words", -17),
        (b"+5", 5),
        (b"0x1f", 31),
        (b"0X1F\n", 31),
        (b"010", 8),  # strtol base 0: a leading zero means octal, as in keepalived
        (b"08", 0),  # ... so this reads "0"
        (b"0x", 0),
        (b"", 0),
        (b"abc", 0),
        (b"-", 0),
        (b"12abc", 12),
        (b"1\x002", 1),
        (b"2147483647", 2147483647),
        (b"2147483648", 2147483648),  # keepalived accepts INT32_MAX + 1
        (b"-2147483648", -2147483648),
        (b"2147483649", None),
        (b"-2147483649", None),
        (b"99999999999999999999", None),  # strtol overflow
        (b" " * 127 + b"7", 0),  # only the first 127 bytes are read
        (b" " * 126 + b"78", 7),
    ],
)
def test_parse_value_like_strtol(content: bytes, value: int | None) -> None:
    assert parse_value(content) == value


def test_init_file(tmp_path: Path) -> None:
    path = tmp_path / "t"
    TrackedFile("t", str(path), (5, False)).initialise()
    assert path.read_text() == "5\n"
    path.write_text("9\n")
    TrackedFile("t", str(path), (5, False)).initialise()
    assert path.read_text() == "9\n"  # exists: left alone without overwrite
    TrackedFile("t", str(path), (None, True)).initialise()
    assert path.read_text() == "0\n"  # VALUE defaults to 0
    path.write_text("9\n")
    TrackedFile("t", str(path), (-3, True), reload=True).initialise()
    assert path.read_text() == "9\n"  # never overwritten on reload
    TrackedFile("t", str(path), None).initialise()
    assert path.read_text() == "9\n"


def test_init_file_errors(tmp_path: Path) -> None:
    tracked = TrackedFile("t", str(tmp_path), (1, True))
    tracked.initialise()
    assert tracked.error is not None and "not a regular file" in tracked.error
    tracked = TrackedFile("t", str(tmp_path / "no" / "dir" / "f"), (1, False))
    tracked.initialise()
    assert tracked.error is not None and "Unable to initialise" in tracked.error


class Watch:
    """A TrackedFile recording its callbacks."""

    def __init__(self, path: Path, **kwargs: object) -> None:
        self.changes: list[tuple[str, int]] = []
        self.tracked = TrackedFile("tf", str(path), on_change=self._changed,
                                   **kwargs)  # type: ignore[arg-type]

    def _changed(self, name: str, value: int) -> None:
        self.changes.append((name, value))

    def values(self) -> list[int]:
        return [value for _name, value in self.changes]

    async def sees(self, *values: int) -> bool:
        return await wait_until(lambda: self.values() == list(values))


@run_async
async def test_changes_are_seen_through_inotify(tmp_path: Path) -> None:
    path = tmp_path / "prio"
    path.write_text("10\n")
    watch = Watch(path)
    watch.tracked.start()
    try:
        assert watch.tracked.watching == "inotify"
        assert watch.tracked.value == 10 and watch.changes == []  # the first read is silent
        path.write_text("-20\n")
        assert await watch.sees(-20)
        assert watch.changes == [("tf", -20)]
        tmp = tmp_path / "prio.new"
        tmp.write_text("0x10\n")
        tmp.rename(path)  # an atomic replace
        assert await watch.sees(-20, 16)
        path.unlink()  # a removed file reads as 0
        assert await watch.sees(-20, 16, 0)
        path.write_text("3")
        assert await watch.sees(-20, 16, 0, 3)
        assert watch.tracked.value == 3
    finally:
        watch.tracked.stop()


@run_async
async def test_same_value_invalid_value_and_other_files(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "prio"
    path.write_text("1")
    watch = Watch(path)
    watch.tracked.start()
    try:
        path.write_text("1\n")  # same value: no callback
        (tmp_path / "other").write_text("50")  # another file in the directory
        path.write_text("99999999999")  # invalid: ignored, value kept
        assert await wait_until(lambda: "Invalid number" in caplog.text)
        assert watch.tracked.value == 1
        path.write_text("2")
        assert await watch.sees(2)
        assert watch.tracked.value == 2
    finally:
        watch.tracked.stop()


@run_async
async def test_file_missing_at_start(tmp_path: Path) -> None:
    path = tmp_path / "later"
    watch = Watch(path)
    watch.tracked.start()
    try:
        assert watch.tracked.value == 0 and watch.tracked.error is None
        path.write_text("7")
        assert await watch.sees(7)
    finally:
        watch.tracked.stop()


@run_async
async def test_init_file_applies_at_start(tmp_path: Path) -> None:
    path = tmp_path / "init"
    watch = Watch(path, init_file=(12, False))
    watch.tracked.start()
    try:
        assert path.read_text() == "12\n" and watch.tracked.value == 12
        assert watch.changes == []
    finally:
        watch.tracked.stop()


@run_async
async def test_missing_directory_is_an_error_not_an_exception(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture
                                                              ) -> None:
    watch = Watch(tmp_path / "absent" / "f")
    watch.tracked.start()
    assert watch.tracked.error is not None and "does not exist" in watch.tracked.error
    assert watch.tracked.watching is None and watch.tracked.value == 0
    assert "does not exist" in caplog.text
    watch.tracked.stop()


@run_async
async def test_polling_mode(tmp_path: Path) -> None:
    path = tmp_path / "polled"
    path.write_text("1")
    watch = Watch(path, poll_interval=0.02)
    watch.tracked.start()
    try:
        assert watch.tracked.watching == "poll"
        path.write_text("4")
        assert await watch.sees(4)
    finally:
        watch.tracked.stop()
    assert watch.tracked.watching is None


@run_async
async def test_several_trackers_share_a_directory(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first, second, same = Watch(a), Watch(b), Watch(a)
    for watch in (first, second, same):
        watch.tracked.start()
    try:
        a.write_text("1")
        b.write_text("2")
        assert await first.sees(1) and await second.sees(2) and await same.sees(1)
        first.tracked.stop()
        a.write_text("5")
        assert await same.sees(1, 5)
        assert first.values() == [1]  # stopped: no more callbacks
    finally:
        for watch in (first, second, same):
            watch.tracked.stop()


@run_async
async def test_symlinked_path_watches_the_real_directory(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "f").write_text("1")
    (tmp_path / "link").symlink_to(real / "f")
    watch = Watch(tmp_path / "link")
    watch.tracked.start()
    try:
        assert watch.tracked.value == 1
        (real / "f").write_text("6")
        assert await watch.sees(6)
    finally:
        watch.tracked.stop()


@run_async
async def test_removed_directory_falls_back_to_polling(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    path = directory / "f"
    path.write_text("3")
    watch = Watch(path, init_file=None)
    watch.tracked.start()
    try:
        shutil.rmtree(directory)
        assert await watch.sees(0)  # the file went with it
        assert await wait_until(lambda: watch.tracked.watching == "poll")
        assert "no longer watched" in caplog.text
        directory.mkdir()
        path.write_text("8")
        assert await watch.sees(0, 8)
    finally:
        watch.tracked.stop()


@run_async
async def test_callback_errors_do_not_stop_tracking(tmp_path: Path) -> None:
    path = tmp_path / "f"
    seen: list[int] = []

    def flaky(_name: str, value: int) -> None:
        seen.append(value)
        raise RuntimeError("boom")

    tracked = TrackedFile("tf", str(path), None, flaky)
    tracked.start()
    try:
        path.write_text("1")
        assert await wait_until(lambda: seen == [1])
        path.write_text("2")
        assert await wait_until(lambda: seen == [1, 2])
    finally:
        tracked.stop()
    await asyncio.sleep(0)
    assert os.path.exists(path)
