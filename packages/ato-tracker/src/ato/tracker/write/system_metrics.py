"""System metrics: CPU, memory, disk, network and GPU sampled on a thread while a run is active.

Opt-in (``SQLLogger(..., system_metrics=True)``, an interval in seconds, or the
``ATO_SYSTEM_METRICS`` environment variable; see `sampling_interval`). One `SystemSampler` per
active run samples every ``interval`` seconds on a daemon thread, from ``run()`` until
``finish()`` (or interpreter exit), and logs each value with ``SQLLogger.log_metric``: the rows
take the same buffered, exactly-once write path as the run's own metrics, and the training
thread never reads a counter or waits for a sample. The sampler only appends: on SQLite its rows
are written by the training thread's next flush or by the flush thread within
``flush_interval`` (see `ato.tracker.write.buffer.appends_only`), never by the sampler itself,
which would contend with the training thread for the GIL.

Keys live under ``system/``; the x axis is wall-clock time (each row's timestamp is the moment
of its sample) and the step is the sample number (0, 1, 2, ... within the run). Host values come
from psutil (an extra: ``pip install "ato-tracker[system]"``), imported only when sampling
starts. As MLflow and W&B show them, disk and network I/O are counters of bytes since sampling
began (a rate is the slope of the series), CPU and memory are instantaneous readings:

- ``system/cpu_percent``: all CPUs busy, 0-100 (``psutil.cpu_percent``).
- ``system/process_cpu_percent``: this process, 100 per fully busy core (may exceed 100).
- ``system/process_memory_rss_bytes``: this process's resident set size.
- ``system/memory_used_bytes``, ``system/memory_available_bytes``, ``system/memory_percent``.
- ``system/disk_read_bytes``, ``system/disk_write_bytes``: all disks, since sampling began.
- ``system/network_sent_bytes``, ``system/network_received_bytes``: all interfaces, likewise.

GPUs are read through NVML (nvidia-ml-py, ``import pynvml``) when it imports and an NVIDIA
driver answers, per device ``i``: ``system/gpu<i>/utilization_percent``,
``memory_used_bytes``, ``memory_total_bytes``, ``memory_percent``, ``temperature_celsius``,
``power_watts``. Without either there are no GPU keys and no error (one DEBUG log per process).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from time import time
from typing import Any

from ..errors import MissingDependencyError, RunStateError, TrackerConfigError
from . import exits  # noqa: F401 - buffers close at exit after the samplers stopped (atexit LIFO)
from .buffer import appends_only

ENV_VAR = "ATO_SYSTEM_METRICS"
DEFAULT_INTERVAL_S = 10.0  # MLflow's default; W&B samples every 15 s
PREFIX = "system/"
STOP_TIMEOUT_S = 5.0  # a sample in progress is waited for at most this long at finish

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_log = logging.getLogger("ato.tracker")
_gpu_absence_logged = False
_live: weakref.WeakSet[SystemSampler] = weakref.WeakSet()

Record = Callable[..., None]  # SQLLogger.log_metric(key, value, step, *, timestamp=...)


def sampling_interval(setting: bool | float | None) -> float | None:
    """The sampling interval (seconds) asked for by ``setting``, or ``None`` for no sampling.

    Args:
        setting: ``True`` (every `DEFAULT_INTERVAL_S` = 10 s), ``False`` (off), a positive
            finite number of seconds, or ``None``: read the ``ATO_SYSTEM_METRICS``
            environment variable (unset, ``0``, ``false``, ``no``, ``off``: off; ``1``,
            ``true``, ``yes``, ``on``: every 10 s; another positive number: its seconds,
            e.g. ``2.5``).

    Raises:
        TrackerConfigError: ``setting`` or the variable is none of these (a ``ValueError``
            naming the value).
    """
    if setting is None:
        return _interval_from_env(os.environ.get(ENV_VAR))
    if setting is True:
        return DEFAULT_INTERVAL_S
    if setting is False:
        return None
    if isinstance(setting, (int, float)) and math.isfinite(setting) and setting > 0:
        return float(setting)
    raise TrackerConfigError(
        f"system_metrics={setting!r} is not a sampling setting: give True (every "
        f"{DEFAULT_INTERVAL_S:g} s), a positive number of seconds such as 10.0, or False"
    )


def _interval_from_env(raw: str | None) -> float | None:
    if raw is None:
        return None
    word = raw.strip().lower()
    if word in _FALSE:
        return None
    if word in _TRUE:
        return DEFAULT_INTERVAL_S
    try:
        seconds = float(word)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds) and seconds > 0:
        return seconds
    raise TrackerConfigError(
        f"{ENV_VAR}={raw!r} is not a sampling setting: set it to 1 or true (every "
        f"{DEFAULT_INTERVAL_S:g} s), a positive number of seconds such as 10.0, or 0 to turn "
        "system metrics off"
    )


def require_psutil() -> Any:
    """The ``psutil`` module, imported now.

    Raises:
        MissingDependencyError: psutil is not installed (the message names
            ``pip install 'ato-tracker[system]'``).
    """
    try:
        return importlib.import_module("psutil")
    except ImportError:
        raise MissingDependencyError("psutil", "system", "system metrics") from None


class HostReader:
    """CPU, memory, disk and network readings of this machine and process (psutil).

    Made on the sampling thread: priming ``cpu_percent`` and the I/O baselines is a read.
    """

    def __init__(self, psutil: Any) -> None:
        self.psutil = psutil
        self.process = psutil.Process()
        psutil.cpu_percent(interval=None)  # the first call only starts the measurement
        self.process.cpu_percent(interval=None)
        self.disk0 = _disk_bytes(psutil)
        self.net0 = _net_bytes(psutil)

    def read(self) -> Iterator[tuple[str, float]]:
        """Yield ``(key, value)`` pairs of one sample (keys without the ``system/`` prefix)."""
        psutil = self.psutil
        yield "cpu_percent", float(psutil.cpu_percent(interval=None))
        yield "process_cpu_percent", float(self.process.cpu_percent(interval=None))
        yield "process_memory_rss_bytes", float(self.process.memory_info().rss)
        memory = psutil.virtual_memory()
        yield "memory_used_bytes", float(memory.used)
        yield "memory_available_bytes", float(memory.available)
        yield "memory_percent", float(memory.percent)
        disk = _disk_bytes(psutil)
        if disk is not None and self.disk0 is not None:
            yield "disk_read_bytes", float(disk[0] - self.disk0[0])
            yield "disk_write_bytes", float(disk[1] - self.disk0[1])
        net = _net_bytes(psutil)
        if net is not None and self.net0 is not None:
            yield "network_sent_bytes", float(net[0] - self.net0[0])
            yield "network_received_bytes", float(net[1] - self.net0[1])


def _disk_bytes(psutil: Any) -> tuple[int, int] | None:
    counters = psutil.disk_io_counters()  # None where the system exposes no disk counters
    return None if counters is None else (counters.read_bytes, counters.write_bytes)


def _net_bytes(psutil: Any) -> tuple[int, int] | None:
    counters = psutil.net_io_counters()
    return None if counters is None else (counters.bytes_sent, counters.bytes_recv)


class GpuReader:
    """Per-device NVIDIA GPU readings through NVML (``pynvml`` of nvidia-ml-py).

    Use `open_gpus` to make one; `close` shuts NVML down.
    """

    def __init__(self, nvml: Any, handles: list[Any]) -> None:
        self.nvml = nvml
        self.handles = handles

    def read(self) -> Iterator[tuple[str, float]]:
        """Yield ``(key, value)`` pairs per device (``gpu<i>/...``); a reading the device does
        not support is left out."""
        for index, handle in enumerate(self.handles):
            for name, value in self._device(handle):
                yield f"gpu{index}/{name}", value

    def _device(self, handle: Any) -> Iterator[tuple[str, float]]:
        nvml = self.nvml
        readings: list[tuple[str, Callable[[], float]]] = [
            ("utilization_percent", lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
            ("memory_used_bytes", lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used),
            ("memory_total_bytes", lambda: nvml.nvmlDeviceGetMemoryInfo(handle).total),
            ("memory_percent", lambda: _memory_percent(nvml.nvmlDeviceGetMemoryInfo(handle))),
            (
                "temperature_celsius",
                lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU),
            ),
            ("power_watts", lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0),  # mW
        ]
        for name, reading in readings:
            try:
                yield name, float(reading())
            except nvml.NVMLError:
                continue

    def close(self) -> None:
        """Shut NVML down (errors ignored: the process may be exiting)."""
        with contextlib.suppress(Exception):  # nothing to do about a failing shutdown
            self.nvml.nvmlShutdown()


def _memory_percent(info: Any) -> float:
    return 100.0 * float(info.used) / float(info.total) if info.total else 0.0


def open_gpus() -> GpuReader | None:
    """A `GpuReader` over every NVIDIA GPU, or ``None`` when ``pynvml`` does not import, no
    driver answers or there is no device (logged once per process at DEBUG, never raised)."""
    try:
        nvml = importlib.import_module("pynvml")
    except ImportError:
        _no_gpus("nvidia-ml-py (pynvml) is not installed")
        return None
    try:
        nvml.nvmlInit()
    except Exception as error:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
        _no_gpus(f"NVML did not start ({error})")
        return None
    try:
        handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
    except Exception as error:
        GpuReader(nvml, []).close()
        _no_gpus(f"NVML listed no device ({error})")
        return None
    if not handles:
        GpuReader(nvml, []).close()
        _no_gpus("NVML found no GPU")
        return None
    return GpuReader(nvml, handles)


def _no_gpus(reason: str) -> None:
    """Log at DEBUG, once per process, why there are no GPU keys."""
    global _gpu_absence_logged
    if not _gpu_absence_logged:
        _gpu_absence_logged = True
        _log.debug("ato.tracker: no GPU system metrics: %s", reason)


class SystemSampler:
    """Samples system metrics of run ``run_id`` every ``interval`` seconds on a daemon thread.

    Args:
        record: the logger's ``log_metric`` (a bound method, held weakly: a logger dropped
            without ``finish`` stops its sampler instead of being kept alive by it).
        interval: seconds between samples (> 0); the first sample comes one interval after
            `start`.
        run_id: the run, for the thread's name and log messages.
        psutil: the psutil module (see `require_psutil`).
    """

    def __init__(self, record: Record, interval: float, run_id: int, psutil: Any) -> None:
        self._record = weakref.WeakMethod(record) if hasattr(record, "__self__") else None
        self._strong = record if self._record is None else None
        self.interval = interval
        self.run_id = run_id
        self.psutil = psutil
        self.samples = 0  # samples taken so far (the next sample's step)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"ato-tracker-system-metrics-{run_id}", daemon=True
        )

    @property
    def thread(self) -> threading.Thread:
        """The sampling thread."""
        return self._thread

    def start(self) -> None:
        """Start the sampling thread."""
        _live.add(self)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop sampling: no sample is logged after this returns (a sample in progress is
        waited for at most ``timeout`` seconds; a later one is dropped: see `_loop`)."""
        self._stop.set()
        _live.discard(self)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _target(self) -> Record | None:
        return self._strong if self._record is None else self._record()

    def _loop(self) -> None:
        appends_only()  # the training thread or the flush thread writes the samples
        try:
            readers: list[Any] = [HostReader(self.psutil)]
        except Exception as error:
            _log.warning("ato.tracker: system metrics of run %s off: %s", self.run_id, error)
            return
        gpus = open_gpus()
        if gpus is not None:
            readers.append(gpus)
        try:
            while not self._stop.wait(self.interval):
                if not self._sample(readers):
                    return
        finally:
            if gpus is not None:
                gpus.close()

    def _sample(self, readers: list[Any]) -> bool:
        """Read and log one sample; ``False`` when sampling should end (stopped, the logger
        is gone or its run ended)."""
        now = time()
        try:
            values = [(PREFIX + key, value) for reader in readers for key, value in reader.read()]
        except Exception as error:  # e.g. psutil.AccessDenied: skip this sample, keep going
            _log.warning("ato.tracker: a system metrics sample failed: %s", error)
            return True
        record = self._target()
        if record is None or self._stop.is_set():
            return False
        step = self.samples
        try:
            for key, value in values:
                if self._stop.is_set():  # finish() gave up waiting: log nothing more
                    return False
                record(key, value, step, timestamp=now)
        except RunStateError:  # the run ended between the check and the write
            return False
        self.samples += 1
        return True


def start_sampler(interval: float | None, record: Record, run_id: int) -> SystemSampler | None:
    """A started `SystemSampler` for run ``run_id``, or ``None`` when ``interval`` is ``None``.

    Raises:
        MissingDependencyError: psutil is not installed.
    """
    if interval is None:
        return None
    sampler = SystemSampler(record, interval, run_id, require_psutil())
    sampler.start()
    return sampler


def _stop_all() -> None:
    """At interpreter exit: stop every sampler before the metric buffers are closed."""
    for sampler in list(_live):
        sampler.stop(timeout=1.0)


def _forget_parents_samplers() -> None:
    """A forked child has no sampling thread; it never samples the parent's runs."""
    for sampler in list(_live):
        sampler._stop.set()
    _live.clear()


atexit.register(_stop_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parents_samplers)
