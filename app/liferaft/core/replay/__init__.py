"""`liferaft replay`: rerun the recovered (or saved) code here, cell by cell, in a sandboxed kernel shaped like
the chat's, and take in what it makes. ``cells`` reads the input, ``packages`` and ``environment`` make the
environment, ``sandbox`` and ``kernel`` run it, ``session`` is the operation both front ends call, ``results``
sets what it made beside what the project has."""
