#!/usr/bin/env python3
"""Stand-in for TFLite/LiteRT's ``benchmark_model``, "pushed" to the simulated phone in tests.

It takes the real tool's flags (``--name=value``; an unknown flag gets the real "Unconsumed cmdline
flags" warning), runs the .tflite with ai_edge_litert's Interpreter on the host (default XNNPACK
delegate unless ``--use_xnnpack=false``; ``--num_threads`` honoured), times the warmup and regular runs
the way BenchmarkModel::Run does (at least N runs AND at least min_secs, stop past max_secs) and prints
benchmark_model's output: INFO-prefixed log lines on stdout, ERROR/FATAL on stderr, statistics as
tsl::Stat prints them ("count=.. first=.. curr=.. min=.. max=.. avg=.. std=..", int64 microseconds,
population std truncated to an integer, "count=N curr=X(all same)" when all runs are equal), in the
format of /work/shared/fixtures/benchmark_model/format_strings.txt (no p5/median/p95 suffix).

Op profile (``--enable_op_profiling=true``): the Python Interpreter has no per-op timer, so each regular
run's measured time is split over the graph's nodes (interpreter node order) in proportion to an
estimated cost: MACs for CONV_2D / DEPTHWISE_CONV_2D / TRANSPOSE_CONV / FULLY_CONNECTED / BATCH_MATMUL,
output elements for every other op. With ``--use_xnnpack=false`` rows are builtin nodes (type "CONV_2D",
name "[out tensor]:node"). Under XNNPACK, as the real tool does, rows are the delegate's operators
aggregated by XNNPACK operator name (type "Convolution (NHWC, F32) IGEMM", name
"Delegate/Convolution (NHWC, F32) IGEMM:k", "times called" = how many such operators one run has);
reshapes vanish and pads fold into convolutions, as in XNNPACK. Tables and CSV follow tsl's
StatsCalculator: run order, top 10 by time, summary by node type, then the "Timings (microseconds)" short
summary; ``--op_profiling_output_mode=csv`` with ``--op_profiling_output_file`` writes the same sections as
CSV to that file.

``--output_filepath``: the raw bytes of every output tensor, concatenated in output order (what the real
OutputSaver writes). ``--input_layer_value_files`` needs ``--input_layer`` and ``--input_layer_shape``
naming every model input in order, as in the real tool; ``::`` in a name stands for ``:``.

Simulator hooks (environment): ``SEAFORMER_SIM_EVENTS`` names a JSON-lines file that gets a "start" and
an "end" event per launch, with the host time ``t`` (the simulated phone heats up from those; tests read when
each phone was busy); ``SEAFORMER_SIM_CRASH_ON`` lists
1-based launch numbers that die of SIGSEGV right after loading the model.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import time

from generations import GENERATIONS, litert_line, litert_results_block
from profile_tables import Node, Stat, cpp, litert_rows, profile_report, xnnpack_rows

FLAG_TYPES: dict[str, type] = {
    "graph": str,
    "num_threads": int,
    "num_runs": int,
    "min_secs": float,
    "max_secs": float,
    "warmup_runs": int,
    "warmup_min_secs": float,
    "run_delay": float,
    "verbose": bool,
    "report_peak_memory_footprint": bool,
    "use_xnnpack": bool,
    "use_gpu": bool,
    "use_nnapi": bool,
    "enable_op_profiling": bool,
    "op_profiling_output_mode": str,
    "op_profiling_output_file": str,
    "profiling_output_csv_file": str,
    "max_profiling_buffer_entries": int,
    "input_layer": str,
    "input_layer_shape": str,
    "input_layer_value_range": str,
    "input_layer_value_files": str,
    "output_filepath": str,
    "allow_fp16": bool,
    "signature_to_run_for": str,
    "use_cpu": bool,
    "use_npu": bool,
    "use_profiler": bool,
    "result_file_path": str,
    "help": bool,
}
DEFAULTS: dict[str, object] = {
    "graph": "",
    "num_threads": -1,
    "num_runs": 50,
    "min_secs": 1.0,
    "max_secs": 150.0,
    "warmup_runs": 1,
    "warmup_min_secs": 0.5,
    "run_delay": -1.0,
    "verbose": False,
    "report_peak_memory_footprint": False,
    "use_xnnpack": False,
    "use_gpu": False,
    "use_nnapi": False,
    "enable_op_profiling": False,
    "op_profiling_output_mode": "stdout",
    "op_profiling_output_file": "",
    "profiling_output_csv_file": "",
    "max_profiling_buffer_entries": 1024,
    "input_layer": "",
    "input_layer_shape": "",
    "input_layer_value_range": "",
    "input_layer_value_files": "",
    "output_filepath": "",
    "allow_fp16": False,
    "signature_to_run_for": "",
    "use_cpu": True,
    "use_npu": False,
    "use_profiler": False,
    "result_file_path": "",
    "help": False,
}
# (flag, description) in the order BenchmarkModel/BenchmarkTfLiteModel::LogParams prints them.
LOGGED_PARAMS = (
    ("num_runs", "Min num runs"),
    ("min_secs", "Min runs duration (seconds)"),
    ("max_secs", "Max runs duration (seconds)"),
    ("run_delay", "Inter-run delay (seconds)"),
    ("num_threads", "Num threads"),
    ("warmup_runs", "Min warmup runs"),
    ("warmup_min_secs", "Min warmup runs duration (seconds)"),
    ("report_peak_memory_footprint", "Report the peak memory footprint"),
    ("graph", "Graph"),
    ("input_layer", "Input layers"),
    ("input_layer_shape", "Input shapes"),
    ("input_layer_value_files", "Input value files"),
    ("allow_fp16", "Allow fp16"),
    ("enable_op_profiling", "Enable op profiling"),
    ("op_profiling_output_mode", "Op profiling output mode."),
    ("op_profiling_output_file", "Op profiling output file."),
    ("output_filepath", "File path to export outputs layer to"),
    ("use_xnnpack", "Use xnnpack"),
    ("use_gpu", "Use gpu"),
    ("use_nnapi", "Use nnapi"),
)
MAC_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED", "BATCH_MATMUL"}


GENERATION = GENERATIONS["current"]


def info(text: str) -> None:
    print(f"INFO: {text}" if GENERATION.info_prefix else text, flush=True)


def error(text: str) -> None:
    sys.stdout.flush()
    print(f"ERROR: {text}", file=sys.stderr, flush=True)


def fatal(text: str) -> None:
    sys.stdout.flush()
    print(f"FATAL: {text}", file=sys.stderr, flush=True)
    os.abort()


def fmt_param(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return cpp(value) if isinstance(value, float) else str(value)


def parse_flags(argv: list[str]) -> tuple[dict[str, object], set[str], list[str]]:
    params, given, unconsumed = dict(DEFAULTS), set(), []
    for arg in argv:
        match = re.fullmatch(r"--([A-Za-z0-9_]+)=(.*)", arg, re.DOTALL) or re.fullmatch(
            r"--([A-Za-z0-9_]+)()", arg)
        if not match or match.group(1) not in GENERATION.flags:
            unconsumed.append(arg)
            continue
        name, raw = match.groups()
        kind = FLAG_TYPES[name]
        raw = raw if raw or kind is not bool else "true"  # a bare boolean flag means true
        try:
            if kind is bool:
                if raw not in ("true", "false", "1", "0"):
                    raise ValueError(raw)
                value: object = raw in ("true", "1")
            else:
                value = kind(raw)
        except ValueError:
            error(f"Failed to parse flag --{name}: {raw!r}")
            error("Benchmarking failed.")
            sys.exit(1)
        params[name] = value
        given.add(name)
    return params, given, unconsumed


def split_name_and_file(item: str) -> tuple[str, str]:
    """'name:path' with '::' standing for ':' inside the name (SplitInputLayerNameAndValueFile)."""
    index, delimiter = 0, -1
    while index < len(item) - 1:
        if item[index] == ":":
            if item[index + 1] == ":":
                index += 1
            elif delimiter == -1:
                delimiter = index
            else:
                fatal(f"{item} contains more than one delimiter.")
        index += 1
    if delimiter == -1:
        fatal(f"{item} doesn't contain any delimiter.")
    return item[:delimiter].replace("::", ":"), item[delimiter + 1 :].replace("::", ":")


def report_event(event: str, **fields: object) -> int:
    """Append to the simulator's event file; return this launch's 1-based number."""
    path = os.environ.get("SEAFORMER_SIM_EVENTS")
    if not path:
        return 0
    with open(path, "a+") as handle:
        handle.seek(0)
        starts = sum(1 for line in handle if '"start"' in line)
        handle.write(json.dumps({"event": event, "pid": os.getpid(), "t": time.time(), **fields}) + "\n")
    return starts + (1 if event == "start" else 0)


def rss_mb() -> tuple[float, float]:
    with open("/proc/self/statm") as handle:
        _, resident, shared = (int(v) for v in handle.read().split()[:3])
    page = os.sysconf("SC_PAGE_SIZE")
    return resident * page / 2**20, shared * page / 2**20


def peak_rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def op_costs(interpreter, ops: list[dict]) -> list[float]:
    shapes = {t["index"]: [int(d) for d in t["shape"]] for t in interpreter.get_tensor_details()}

    def elements(index: int) -> int:
        return math.prod(shapes.get(index, [])) if index >= 0 else 0

    costs = []
    for op in ops:
        out = sum(elements(i) for i in op["outputs"])
        inputs = [i for i in op["inputs"] if i >= 0]
        if op["op_name"] in MAC_OPS and len(inputs) >= 2:
            weight = shapes.get(inputs[1], [])
            if op["op_name"] == "DEPTHWISE_CONV_2D":
                per_output = math.prod(weight[1:3]) if len(weight) == 4 else 1
            elif op["op_name"] in ("CONV_2D", "TRANSPOSE_CONV"):
                per_output = math.prod(weight[1:]) if len(weight) == 4 else 1
            else:
                per_output = (
                    weight[-1]
                    if op["op_name"] == "FULLY_CONNECTED" and weight
                    else (shapes.get(inputs[0], [1])[-1])
                )
            costs.append(float(out * max(per_output, 1)))
        else:
            costs.append(float(max(out, 1)))
    return costs


def warn(text: str) -> None:
    print(f"WARN: {text}" if GENERATION.info_prefix else text, flush=True)


def main(argv: list[str], generation: str = "current") -> int:
    """One benchmark_model process of ``generation`` (see generations.py)."""
    global GENERATION
    GENERATION = GENERATIONS[generation]
    info("STARTING!")
    params, given, unconsumed = parse_flags(argv)
    if params["help"]:
        error(GENERATION.usage(sys.argv[0]))
        return 1
    if unconsumed:
        warn(f"Unconsumed cmdline flags: {' '.join(unconsumed)}")
    info(f"Log parameter values verbosely: [{int(bool(params['verbose']))}]")
    for name, description in LOGGED_PARAMS:
        if name in given or name == "graph":
            info(f"{description}: [{fmt_param(params[name])}]")
    graph = str(params["graph"])
    if not graph:
        error("Please specify the name of your TF Lite input file with --graph")
        error("Benchmarking failed.")
        return 1
    names = [n for n in str(params["input_layer"]).split(",") if n]
    shapes = [s for s in str(params["input_layer_shape"]).split(":") if s]
    if len(names) != len(shapes):
        error(
            f"The number of items in --input_layer_shape ({params['input_layer_shape']}, with {len(shapes)} "
            f"items) must match the number of items in --input_layer ({params['input_layer']}, with "
            f"{len(names)} items). For example --input_layer=input1,input2 "
            "--input_layer_shape=1,224,224,4:1,20"
        )
        error("Benchmarking failed.")
        return 1
    value_files: dict[int, str] = {}
    for item in (i for i in str(params["input_layer_value_files"]).split(",") if i):
        name, path = split_name_and_file(item)
        if name not in names:
            fatal(
                f"Cannot find the corresponding input_layer name({name}) in --input_layer as "
                f"{params['input_layer']}"
            )
        value_files[names.index(name)] = path
    if not os.path.isfile(graph):
        error(f"Failed to load model {graph}")
        error("Benchmarking failed.")
        return 1
    info(f"Loaded model {graph}")

    launch_number = report_event("start")
    crash_on = {int(n) for n in os.environ.get("SEAFORMER_SIM_CRASH_ON", "").split(",") if n.strip()}
    if launch_number in crash_on:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGSEGV)

    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    if params["use_gpu"] or params["use_nnapi"]:
        print(
            "WARN: simulated phone: the GPU/NNAPI delegate is not available, running on the host CPU",
            flush=True,
        )
    explicit_no_xnnpack = ("use_xnnpack" in given and not params["use_xnnpack"]) or GENERATION.builtin_by_default
    resolver = (
        OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if explicit_no_xnnpack else OpResolverType.AUTO
    )
    threads = int(params["num_threads"])
    start_rss = rss_mb()[0]
    init_start = time.perf_counter_ns()
    interpreter = Interpreter(
        model_path=graph, num_threads=threads if threads > 0 else None, experimental_op_resolver_type=resolver
    )
    delegate_us = (time.perf_counter_ns() - init_start) // 1000
    delegate_kb = (rss_mb()[0] - start_rss) * 1024
    inputs = interpreter.get_input_details()
    if names and len(names) != len(inputs):
        fatal(f"Inputs mismatch: Model inputs #:{len(names)} expected: {len(inputs)}")
    for position, detail in enumerate(inputs):
        if names and names[position] != detail["name"]:
            print(
                f"WARN: Tensor # {detail['index']} is named {detail['name']} but flags call it "
                f"{names[position]}",
                flush=True,
            )
        if names:
            wanted = [int(d) for d in shapes[position].split(",")]
            if wanted != [int(d) for d in detail["shape"]]:
                interpreter.resize_tensor_input(detail["index"], wanted)
    alloc_start = time.perf_counter_ns()
    interpreter.allocate_tensors()
    alloc_us = (time.perf_counter_ns() - alloc_start) // 1000
    init_us = (time.perf_counter_ns() - init_start) // 1000
    init_mb = rss_mb()[0] - start_rss
    info(f"The input model file size (MB): {cpp(os.path.getsize(graph) / 1e6)}")
    info(f"Initialized session in {cpp(init_us / 1e3)}ms.")

    rng = np.random.default_rng()
    input_data = []
    for position, detail in enumerate(interpreter.get_input_details()):
        dtype, shape = detail["dtype"], tuple(int(d) for d in detail["shape"])
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if position in value_files:
            path = value_files[position]
            if not os.path.isfile(path):
                fatal(f"Failed to read the input_layer_value_file:{path}")
            if os.path.getsize(path) != nbytes:
                fatal(f"The size of {path} is {os.path.getsize(path)} bytes. It should be {nbytes} bytes.")
            input_data.append(np.fromfile(path, dtype=dtype).reshape(shape))
        elif np.issubdtype(dtype, np.floating):
            input_data.append(rng.uniform(-1.0, 1.0, shape).astype(dtype))
        else:
            limits = np.iinfo(dtype)
            input_data.append(rng.integers(limits.min, limits.max, shape, endpoint=True).astype(dtype))

    ops = [op for op in interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
    tensor_names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    costs = op_costs(interpreter, ops)
    nodes = [
        Node(
            f"[{', '.join(tensor_names.get(i, 'Unknown') for i in op['outputs'])}]:{op['index']}",
            op["op_name"],
            order,
        )
        for order, op in enumerate(ops)
    ]
    profiled_total = Stat()
    busy_start = time.perf_counter()

    def run(min_runs: int, min_secs: float, profile: bool) -> Stat:
        max_secs = float(params["max_secs"])
        if GENERATION.old_format:
            info(f"Running benchmark for {min_runs} iterations ")
            min_secs = 0.0  # 2018 builds ran exactly N iterations
        else:
            info(
                f"Running benchmark for at least {min_runs} iterations and at least {cpp(min_secs)} seconds "
                f"but terminate if exceeding {cpp(max_secs)} seconds."
            )
        stats = Stat()
        now = time.monotonic()
        min_finish, max_finish = now + min_secs, now + max_secs
        runs = 0
        while (runs < min_runs or now < min_finish) and now <= max_finish:
            for detail, data in zip(interpreter.get_input_details(), input_data, strict=True):
                interpreter.set_tensor(detail["index"], data)
            start = time.perf_counter_ns()
            interpreter.invoke()
            elapsed_us = (time.perf_counter_ns() - start) // 1000
            stats.add(elapsed_us)
            if profile and nodes:
                shares = [int(elapsed_us * c / sum(costs)) for c in costs]
                for node, share in zip(nodes, shares, strict=True):
                    node.elapsed.add(share)
                profiled_total.add(sum(shares))
            if float(params["run_delay"]) > 0:
                time.sleep(float(params["run_delay"]))
            now = time.monotonic()
            runs += 1
        info(stats.text() + "\n")
        return stats

    profiling = bool(params[GENERATION.profile_flag])
    warmup = run(int(params["warmup_runs"]), float(params["warmup_min_secs"]), profile=False)
    regular = run(int(params["num_runs"]), float(params["min_secs"]), profile=profiling)
    overall_mb = rss_mb()[0] - start_rss

    if GENERATION.old_format:
        info(f"Average inference timings in us: Warmup: {cpp(warmup.avg)}, Init: {init_us}, "
             f"no stats: {cpp(regular.avg)}")
    elif GENERATION.litert_results:
        print(litert_results_block(init_us, warmup, regular, init_mb, overall_mb), flush=True)
    else:
        summary_and_memory(init_us, warmup, regular, init_mb, overall_mb, bool(params["report_peak_memory_footprint"]))
    if profiling and GENERATION.old_format:
        info(profile_report(nodes, profiled_total, csv=False, start=True))
    elif profiling and GENERATION.litert_results:
        rows = litert_rows(nodes)
        run_totals = Stat()  # the bookkeeping rows are part of each run's profile here
        for run in range(profiled_total.count):
            run_totals.add(sum(row.elapsed.values[run] for row in rows))
        print(litert_line(179, "\n" + profile_report(rows, run_totals, csv=False)), flush=True)
    elif profiling:
        print_profile(params, nodes, profiled_total, explicit_no_xnnpack, (alloc_us, delegate_us, delegate_kb))

    if params["output_filepath"]:
        with open(str(params["output_filepath"]), "wb") as handle:
            for detail in interpreter.get_output_details():
                handle.write(np.ascontiguousarray(interpreter.get_tensor(detail["index"])).tobytes())

    report_event(
        "end",
        busy_s=round(time.perf_counter() - busy_start, 4),
        threads=threads,
        runs=regular.count,
        inference_avg_us=regular.avg,
    )
    return 0


def summary_and_memory(init_us: int, warmup: Stat, regular: Stat, init_mb: float, overall_mb: float,
                       peak: bool) -> None:
    """The "Inference timings in us" summary and the memory lines of current builds."""
    info(
        f"Inference timings in us: Init: {init_us}, First inference: {warmup.first}, "
        f"Warmup (avg): {cpp(warmup.avg)}, Inference (avg): {cpp(regular.avg)}"
    )
    info(
        "Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE "
        "to the actual memory footprint of the model at runtime. Take the information at your discretion."
    )
    info(
        "Memory footprint delta from the start of the tool (MB): "
        f"init={cpp(init_mb)} overall={cpp(overall_mb)}"
    )
    if peak:
        resident, shared = rss_mb()
        info(f"Overall peak memory footprint (MB) via periodic monitoring: {cpp(peak_rss_mb())}")
        info("Memory status at the end of exeution:")
        info(f"- VmRSS              : {int(resident)} MB")
        info(f"+ RssAnnon           : {int(resident) - int(shared)} MB")
        info(f"+ RssFile + RssShmem : {int(shared)} MB")


def print_profile(params: dict, nodes: list[Node], profiled_total: Stat, builtin: bool,
                  init: tuple[int, int, float]) -> None:
    """The profile of current builds: stdout, or a CSV file when the build knows the file flags."""
    alloc_us, delegate_us, delegate_kb = init
    mode = str(params["op_profiling_output_mode"])
    target = str(params["op_profiling_output_file"] or params["profiling_output_csv_file"])
    csv = mode == "csv" or bool(params["profiling_output_csv_file"])
    init_nodes = [Node("AllocateTensors/0", "AllocateTensors", 1)]
    init_nodes[0].elapsed.add(alloc_us)
    if not builtin:
        init_nodes.insert(
            0,
            Node("ModifyGraphWithDelegate/0", "ModifyGraphWithDelegate", 0, mem_kb=max(delegate_kb, 0.0)),
        )
        init_nodes[0].elapsed.add(delegate_us)
    init_total = Stat()
    init_total.add(sum(n.elapsed.total for n in init_nodes))
    sections = [
        ("Profiling Info for Benchmark Initialization:", profile_report(init_nodes, init_total, csv))
    ]
    if profiled_total.count:
        sections.append(
            (
                "Operator-wise Profiling Info for Regular Benchmark Runs:",
                profile_report(nodes if builtin else xnnpack_rows(nodes), profiled_total, csv),
            )
        )
    if target:
        with open(target, "w") as handle:
            handle.write("".join(f"{header}\n{data}\n" for header, data in sections))
    else:
        for header, data in sections:
            info(f"{header}\n{data}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
