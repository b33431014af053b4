"""Where models are measured: the ``Device`` protocol and ``open_device`` (``device``), the parsed ``--device``
and ``--delegate`` (``spec``), this host (``local``) and an Android phone over adb (``phone``)."""
