#pragma once
// An allocator whose blocks start on a 4 KiB boundary, so that buffers handed to the kernel meet the memory
// alignment O_DIRECT asks for (at most one page on every device Linux supports) without a bounce copy.
#include <cstddef>
#include <new>

namespace bootherd {

template <class T>
struct PageAlignedAllocator {
    using value_type = T;
    static constexpr std::align_val_t kAlignment{4096};

    PageAlignedAllocator() = default;
    template <class U>
    explicit PageAlignedAllocator(const PageAlignedAllocator<U>&) {}

    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
    void deallocate(T* p, std::size_t) { ::operator delete(p, kAlignment); }

    template <class U>
    bool operator==(const PageAlignedAllocator<U>&) const {
        return true;
    }
};

}  // namespace bootherd
