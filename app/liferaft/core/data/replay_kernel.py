# Run by Liferaft inside the replay's kernel before the first cell (never imported by Liferaft itself).
#
# It makes the kernel look like the chat's sandbox from the code's side, and keeps the project's files safe:
# - a file the code opens for writing inside the project (OUTPUT, the project folder, CODE...) is written in the
#   replay folder instead, under the same path relative to where it was aimed (OUTPUT/x.csv -> REPLAY/x.csv,
#   PROJECT/CODE/y.txt -> REPLAY/CODE/y.txt); SOURCE is never written;
# - a file opened for reading is the replay's own copy when the replay made one, else the project's;
# - /mnt/data/NAME and the sandbox's old working folder /home/sandbox/NAME are found in the replay folder, then
#   SOURCE, then OUTPUT (writes go to the replay folder);
# - deleting or renaming a project file is refused (the replay's own files may be);
# The sandbox (bubblewrap, when used) enforces the same from outside: the project is read-only there.
import builtins as _b
import io as _io
import os as _os
import sys as _sys


def _liferaft_setup(config):
    project = _os.path.realpath(config["project"])
    source = _os.path.realpath(config["source"])
    output = _os.path.realpath(config["output"])
    replay = _os.path.realpath(config["replay"])
    sandbox_dirs = ("/mnt/data", "/home/sandbox")
    real_open = _io.open
    real_os_open = _os.open

    def inside(path, folder):
        return path == folder or path.startswith(folder.rstrip(_os.sep) + _os.sep)

    def absolute(path):
        if isinstance(path, int):
            return None
        try:
            text = _os.fsdecode(_os.fspath(path))
        except TypeError:
            return None
        return _os.path.realpath(_os.path.join(_os.getcwd(), text))

    def as_written(path):
        """The path as the code wrote it, made absolute but with its links not followed: a link in SOURCE to a
        file elsewhere is still a file in SOURCE."""
        try:
            return _os.path.normpath(_os.path.join(_os.getcwd(), _os.fsdecode(_os.fspath(path))))
        except TypeError:
            return None

    def sandbox_name(path):
        for folder in sandbox_dirs:
            if inside(path, folder):
                return _os.path.relpath(path, folder) if path != folder else ""
        return None

    def for_reading(path):
        """Where a file the code reads is: the replay's copy, else the project's (or SOURCE/OUTPUT for the
        sandbox's folders)."""
        name = sandbox_name(path)
        if name is not None:
            for folder in (replay, source, output):
                candidate = _os.path.join(folder, name)
                if _os.path.exists(candidate):
                    return candidate
            return _os.path.join(replay, name)
        if inside(path, replay):
            if _os.path.exists(path):
                return path
            name = _os.path.relpath(path, replay)  # a name relative to the old working folder
            for folder in (source, output, project):
                candidate = _os.path.join(folder, name)
                if _os.path.exists(candidate):
                    return candidate
            return path
        if inside(path, source):
            return path
        mirrored = for_writing(path)
        if mirrored != path and _os.path.exists(mirrored):
            return mirrored
        return path

    def for_writing(path, written=None):
        """Where a file the code writes goes: inside the project (outside the replay folder), to the replay.
        ``path`` has its links resolved, ``written`` is the path as written: both are judged, so that a link can
        neither carry a write out of the replay folder nor into a project file."""
        for where in ([written] if written and written != path else []) + [path]:
            name = sandbox_name(where)
            if name is not None:
                return _os.path.join(replay, name)
            if inside(where, replay):
                if not inside(path, replay):
                    raise PermissionError(13, "Liferaft's replay never writes through a link out of its folder", path)
                return path
            if inside(where, source):
                raise PermissionError(13, "Liferaft's replay never writes in SOURCE (the uploads)", path)
            if inside(where, output):
                return _os.path.join(replay, _os.path.relpath(where, output))
            if inside(where, project):
                return _os.path.join(replay, _os.path.relpath(where, project))
        return path

    def writes(mode):
        return any(flag in mode for flag in "wax+")

    def routed(path, mode):
        full = absolute(path)
        if full is None:
            return path
        if writes(mode):
            target = for_writing(full, as_written(path))
            if target != full:
                _os.makedirs(_os.path.dirname(target), exist_ok=True)
                if ("a" in mode or "+" in mode) and not _os.path.exists(target) and _os.path.exists(full) \
                        and not inside(full, source):
                    import shutil

                    shutil.copyfile(full, target)
            return target
        target = for_reading(full)
        return path if target == full else target

    import threading

    busy = threading.local()  # routing itself looks at files (realpath, exists): those looks are not routed

    def unrouted(function):
        def call(*args, **kwargs):
            if getattr(busy, "on", False):
                return function(*args, **kwargs)
            busy.on = True
            try:
                return function(*args, **kwargs)
            finally:
                busy.on = False

        return call

    routed = unrouted(routed)

    def open_(file, mode="r", *args, **kwargs):
        return real_open(routed(file, mode), mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        write = flags & (_os.O_WRONLY | _os.O_RDWR | _os.O_CREAT | _os.O_APPEND | _os.O_TRUNC)
        return real_os_open(routed(path, "w" if write else "r"), flags, *args, **kwargs)

    _b.open = open_
    _io.open = open_
    _os.open = os_open
    shell = getattr(_b, "get_ipython", lambda: None)()
    if shell is not None:  # IPython puts its own open() in the code's namespace, made from the real one
        shell.user_ns["open"] = open_

    def guarded(name, paths_at=(0,)):
        real = getattr(_os, name)

        def call(*args, **kwargs):
            if kwargs.get("dir_fd") is not None or kwargs.get("src_dir_fd") is not None:
                return real(*args, **kwargs)  # relative to a folder the code opened (and the open was routed)
            args = list(args)
            for at in paths_at:
                if at < len(args):
                    full = absolute(args[at])
                    if full is None:
                        continue
                    target = for_writing(full, as_written(args[at]))
                    if target == full and inside(full, project) and not inside(full, replay):
                        raise PermissionError(13, "Liferaft's replay never changes the project's files", full)
                    if target.rstrip(_os.sep) == replay and name in ("rmdir", "remove", "unlink", "rename",
                                                                      "replace"):
                        # Emptying OUTPUT empties the replay folder; the folder itself (the working folder) stays.
                        raise PermissionError(13, "Liferaft's replay keeps its own folder", full)
                    args[at] = target
            return real(*args, **kwargs)

        call.__name__ = name
        setattr(_os, name, call)

    for name in ("remove", "unlink", "rmdir", "truncate", "chmod", "lchmod", "chown", "lchown", "utime",
                 "mkfifo", "mknod"):
        if hasattr(_os, name):
            guarded(name)
    for name in ("rename", "replace"):
        guarded(name, (0, 1))
    guarded("symlink", (1,))  # the link is written; what it points to is only text
    real_link = _os.link

    def link(src, dst, *args, **kwargs):
        full = absolute(src)
        if full is not None and inside(full, project) and not inside(full, replay):
            raise PermissionError(13, "Liferaft's replay never links to the project's files (a write through the "
                                      "link would change them)", full)
        target = absolute(dst)
        return real_link(src, for_writing(target, as_written(dst)) if target else dst, *args, **kwargs)

    _os.link = link
    real_fileio = _io.FileIO

    class FileIO(real_fileio):
        def __init__(self, file, mode="r", *args, **kwargs):
            super().__init__(routed(file, mode), mode, *args, **kwargs)

    _io.FileIO = FileIO
    import shutil

    shutil._use_fd_functions = False  # rmtree by path, through the guarded calls above
    shutil._copyxattr = lambda *_args, **_kwargs: None  # copy2's extended attributes: not routed, not needed
    _sys.argv = [config.get("file") or "replay"]  # the script's own name, not the kernel's command line
    real_mkdir = _os.mkdir

    def mkdir(path, mode=0o777, *args, **kwargs):
        full = absolute(path)
        target = for_writing(full) if full is not None else path
        if target != full and full is not None and _os.path.isdir(full):
            _os.makedirs(target, exist_ok=True)
            raise FileExistsError(17, "File exists", path)
        return real_mkdir(target, mode, *args, **kwargs)

    _os.mkdir = mkdir
    real_listdir = _os.listdir

    def listdir(path="."):
        full = absolute(path)
        name = sandbox_name(full) if full is not None else None
        if name is None:
            return real_listdir(path)
        seen = []
        for folder in (replay, source, output):
            where = _os.path.join(folder, name)
            if _os.path.isdir(where):
                seen += [entry for entry in real_listdir(where) if entry not in seen and entry != "replayed"]
        if not seen and not any(_os.path.isdir(_os.path.join(f, name)) for f in (replay, source, output)):
            return real_listdir(path)
        return seen

    _os.listdir = listdir

    def stat_of(real):
        def stat(path, *args, **kwargs):
            if getattr(busy, "on", False):
                return real(path, *args, **kwargs)
            busy.on = True
            try:
                full = absolute(path)
                if full is not None and (sandbox_name(full) is not None or inside(full, output)):
                    target = for_reading(full)
                    if target != full:
                        path = target
            finally:
                busy.on = False
            return real(path, *args, **kwargs)

        return stat

    # What the code asks of a file (is it there? a folder? how big?) is answered for the file it would read:
    # /mnt/data is a folder here too (pandas checks before it writes), and an output the replay made is seen.
    _os.stat = stat_of(_os.stat)
    _os.lstat = stat_of(_os.lstat)
    _os.makedirs(replay, exist_ok=True)
    _os.chdir(replay)

    # The sandbox's helper modules: stand-ins that show the table here (the PyPI "ace_tools" is an empty
    # placeholder and is never installed).
    import types

    def display_dataframe_to_user(name, dataframe, *_args, **_kwargs):
        from IPython.display import display

        print(f"[table] {name}")
        display(dataframe)
        return dataframe

    def nothing(*_args, **_kwargs):
        return None

    def show(*values, **named):  # another display_..._to_user helper (display_text_to_user...): printed
        print(*[str(value) for value in (*values, *named.values())], sep="\n")

    def helper(name):
        if name.startswith("display_"):
            return show
        raise AttributeError(name)

    for module in ("ace_tools", "ace_tools_open", "caas_jupyter_tools"):
        stub = types.ModuleType(module)
        stub.display_dataframe_to_user = display_dataframe_to_user
        stub.display_chart_to_user = nothing
        stub.display_matplotlib_image_to_user = nothing
        stub.__getattr__ = helper
        _sys.modules[module] = stub

    if config.get("file") and shell is not None:
        shell.user_ns["__file__"] = config["file"]
    if config.get("plain_script") and shell is not None:
        shell.ast_node_interactivity = "none"  # a script shows what it prints, not its bare expressions


_liferaft_setup(globals().pop("_LIFERAFT_CONFIG"))  # set by Liferaft just before this runs
del _liferaft_setup
