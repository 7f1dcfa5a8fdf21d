"""Runs one of llama.cpp's converters for coi, and ends it when coi ends.

usage: coi_convert.py CONVERTER [ARGS...]   (convert_hf_to_gguf.py or convert_lora_to_gguf.py)

coi keeps this process's standard input open, a pipe it never writes to. When coi has gone,
even killed with SIGKILL (which no handler of coi's sees), the pipe reads end-of-file: the
conversion then stops at once and its --outfile (a temporary name that coi renames into place
once the converter finished) is removed, rather than running on as an orphan for minutes and
leaving a partial file. Run by hand, with standard input not a pipe or socket, nothing is watched.
"""
import os
import runpy
import stat
import sys
import threading


def out_file(args):
    if "--outfile" in args:
        at = args.index("--outfile") + 1
        return args[at] if at < len(args) else None
    return None


def stop_when_parent_ends(partial):
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    if partial is not None:
        try:
            os.remove(partial)
        except OSError:
            pass
    os._exit(1)


def main():
    converter = os.path.abspath(sys.argv[1])
    sys.argv = sys.argv[1:]
    # As if the converter were run itself: convert_lora_to_gguf.py imports convert_hf_to_gguf beside it.
    sys.path[0] = os.path.dirname(converter)
    mode = os.fstat(0).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):  # node's 'pipe' is a socket pair
        threading.Thread(target=stop_when_parent_ends, args=(out_file(sys.argv),), daemon=True).start()
    runpy.run_path(converter, run_name="__main__")


if __name__ == "__main__":
    main()
