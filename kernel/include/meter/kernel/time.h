// Time types shared by the kernel: UTC wall time and monotonic uptime, both in milliseconds.
#pragma once

#include <chrono>

namespace meter::kernel {

using Milliseconds = std::chrono::milliseconds;
/// Wall-clock time, UTC. Meaningful only while the clock says its time is valid.
using UtcTime = std::chrono::sys_time<Milliseconds>;
/// Time since power-up; never jumps, never goes back.
using Uptime = Milliseconds;

}  // namespace meter::kernel
