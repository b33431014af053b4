"""LiteRT on this host: the C API binding (``capi``), model nodes, XNNPACK alignment and the op profiler."""
