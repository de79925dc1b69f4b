"""Lua scripting (EVAL, FUNCTION): the sandboxed Lua 5.1 runtime and Redis's script API.

- ``engine.py``: LuaEngine (one lupa runtime: sandbox, ``redis.*``, Lua <-> reply conversions,
  the busy-script hook), ScriptRun (Redis's scriptRunCtx), SCRIPT/FUNCTION KILL.
- ``libs/``: the cjson, cmsgpack, struct and bit libraries scripts get.
- Commands: ``commands/scripting.py`` (EVAL*, SCRIPT) and ``commands/functions.py``
  (FUNCTION *, FCALL*).
"""
