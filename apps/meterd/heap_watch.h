// What each plugin's calls keep on the heap. meterd's allocator counts: every allocation and
// free the kernel thread makes while it is in a call into a plugin is added to, or taken off,
// that plugin's count in the call breadcrumb (kernel::CallBreadcrumb::heap_bytes), which the
// watchdog reads. Memory a plugin allocates and frees within its calls nets to nothing; memory
// it keeps grows its count. Linked into the meterd executable only, and not with a sanitizer
// (which brings an allocator of its own).
#pragma once

#include "meter/kernel/plugin_host.h"

namespace meter::apps {

/// Counts from now on, into `crumb`, what the calling thread (the kernel thread) allocates
/// within calls into plugins; null stops counting.
void count_plugin_heap(kernel::CallBreadcrumb* crumb) noexcept;

}  // namespace meter::apps
