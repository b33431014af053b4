"""Android phones over adb: the client (``client``), thermal readings (``thermal``), CPU topology (``cpus``) and
benchmark_model process launches (``launches``)."""
