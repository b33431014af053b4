"""Where models are measured: the ``Device`` protocol (``device``), ``open_device`` (``opening``), the parsed
``--device`` and ``--delegate`` (``spec``), this host (``local``) and an Android phone over adb (``phone``)."""
