// meterd's counting allocator (see heap_watch.h): glibc's malloc underneath, unchanged, with a
// count around it. Every block keeps glibc's own layout, so memory allocated before counting
// began, or through an entry point not wrapped here, is freed as ever: what is not wrapped is
// only not counted.
#include "heap_watch.h"

#include <malloc.h>
#include <pthread.h>

#include <cerrno>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define METER_HEAP_WATCH 0
#else
#define METER_HEAP_WATCH 1
#endif

namespace {

// Set once by the kernel thread before it calls any plugin; read by every allocation.
meter::kernel::CallBreadcrumb* g_crumb = nullptr;
pthread_t g_kernel_thread{};

#if METER_HEAP_WATCH
// Only the kernel thread calls plugins, and only it moves the counts: a plain load and store
// of the slot's count (an atomic read-modify-write would cost a locked instruction per
// allocation for nothing).
inline void count(void* block, int sign) noexcept {
  auto* crumb = g_crumb;
  if (crumb == nullptr || block == nullptr) [[likely]] return;
  const int slot = crumb->slot.load(std::memory_order_relaxed);
  if (slot < 0 || pthread_equal(pthread_self(), g_kernel_thread) == 0) return;
  auto& bytes = crumb->heap_bytes[slot];
  const auto size = static_cast<std::int64_t>(malloc_usable_size(block));
  bytes.store(bytes.load(std::memory_order_relaxed) + sign * size, std::memory_order_relaxed);
}
#endif

}  // namespace

namespace meter::apps {

void count_plugin_heap(kernel::CallBreadcrumb* crumb) noexcept {
  g_kernel_thread = pthread_self();
  g_crumb = crumb;
}

}  // namespace meter::apps

#if METER_HEAP_WATCH
extern "C" {
void* __libc_malloc(std::size_t size);
void __libc_free(void* block);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* block, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);

void* malloc(std::size_t size) {
  void* block = __libc_malloc(size);
  count(block, 1);
  return block;
}

void free(void* block) {
  count(block, -1);
  __libc_free(block);
}

void* calloc(std::size_t n, std::size_t size) {
  void* block = __libc_calloc(n, size);
  count(block, 1);
  return block;
}

void* realloc(void* block, std::size_t size) {
  count(block, -1);
  void* moved = __libc_realloc(block, size);
  // A failed realloc leaves the block as it was; realloc(p, 0) frees it.
  count(moved != nullptr ? moved : (size != 0 ? block : nullptr), 1);
  return moved;
}

void* memalign(std::size_t alignment, std::size_t size) {
  void* block = __libc_memalign(alignment, size);
  count(block, 1);
  return block;
}

void* aligned_alloc(std::size_t alignment, std::size_t size) {
  return memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* block = memalign(alignment, size);
  if (block == nullptr) return ENOMEM;
  *out = block;
  return 0;
}
}
#endif
