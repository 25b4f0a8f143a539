"""What went wrong, in words a person reads: database and system errors as bilingual messages.

What belongs here: turning an exception that is nobody's input error (a locked or full database, a
read-only file system, no memory, a lost connection) into a :class:`~indicators.i18n.Text` that says what
happened and that nothing was written, for the CLI and the web pages alike. What does not: problems in an
uploaded file (``validation``), refusals with their own error types (``store.RevertRefused`` and the other
:class:`~indicators.i18n.BilingualError` subclasses, which carry their own text).
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

from indicators.i18n import BilingualError, Text

LOCKED = Text("数据库正忙(另一项写入尚未完成),未写入任何数据。请稍后重试。",
              "The database is busy (another write has not finished); nothing was written. Try again shortly.")
FULL = Text("磁盘已满,未写入任何数据。请释放磁盘空间后重试。",
            "The disk is full; nothing was written. Free some space and try again.")
READ_ONLY = Text("数据库或文件只读(或没有写入权限),未写入任何数据。请检查文件权限。",
                 "The database or file is read-only (or not writable by this user); nothing was written. "
                 "Check the permissions.")
NO_MEMORY = Text("内存不足,操作已中止,未写入任何数据。", "Out of memory: the operation stopped and nothing was written.")
UNREACHABLE = Text("无法连接数据库,未写入任何数据。请检查 DATABASE_URL 与数据库服务。",
                   "Cannot reach the database; nothing was written. Check DATABASE_URL and the database server.")
UNEXPECTED = Text("发生意外错误({kind}),操作未完成。加 --debug 可查看详细信息。",
                  "An unexpected error ({kind}) stopped the operation. Add --debug to see the details.")

_MESSAGE_WORDS = (
    (("database is locked", "could not obtain lock", "lock timeout", "deadlock"), LOCKED),
    (("disk is full", "no space left", "could not extend file"), FULL),
    (("readonly database", "read-only", "permission denied", "unable to open database"), READ_ONLY),
    (("connection refused", "could not connect", "server closed the connection", "connection is closed"),
     UNREACHABLE),
)
_ERRNOS = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY, errno.EACCES: READ_ONLY,
           errno.EPERM: READ_ONLY}


def describe(error: BaseException) -> Text:
    """What happened, for a person: the error's own text for a :class:`BilingualError`, else a known kind
    of failure recognised by type, errno or the database's message, else "unexpected" with its type."""
    if isinstance(error, BilingualError):
        return error.text
    if isinstance(error, MemoryError):
        return NO_MEMORY
    if isinstance(error, OSError) and error.errno in _ERRNOS:
        return _ERRNOS[error.errno]
    if isinstance(error, sa_exc.DBAPIError | OSError):
        message = str(getattr(error, "orig", None) or error).lower()
        for words, text in _MESSAGE_WORDS:
            if any(w in message for w in words):
                return text
    return UNEXPECTED.format(kind=type(error).__name__)
