// Several threads write, read (blocking and non-blocking) and unmap interleaved ranges of one differencing
// disk while another flushes.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "imagestore/image_chain.hpp"
#include "imagestore/vhdx_file.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;

TEST_CASE("concurrent I/O from several threads on shared blocks") {
    test::TempDir dir;  // on disk: tmpfs does not take the RWF_NOWAIT reads tested here
    constexpr std::uint64_t kMiB = 1 << 20, kSize = 16 * kMiB, kStripe = 64 * 1024;
    constexpr int kThreads = 4;
    const std::string base = dir.file("base.vhdx"), child = dir.file("child.vhdx");
    std::vector<std::byte> ref(kSize);
    {
        auto f = VhdxFile::create_dynamic(base, {kSize, static_cast<std::uint32_t>(kMiB), 512, 4096});
        std::mt19937_64 rng(1);
        ref = test::random_bytes(rng, kSize);
        f->write(0, ref, false);
    }
    VhdxFile::create_differencing(child, base)->close();
    auto chain = open_image(child, false);
    std::atomic<bool> failed{false}, done{false};
    // Thread t owns the 64 KiB stripes with index % kThreads == t, so every block is shared by all threads.
    auto worker = [&](int t) {
        std::mt19937_64 rng(100 + static_cast<std::uint64_t>(t));
        std::vector<std::byte> buf;
        for (int i = 0; i < 800 && !failed; ++i) {
            std::uint64_t stripe =
                (rng() % (kSize / kStripe / kThreads)) * kThreads + static_cast<std::uint64_t>(t);
            std::uint64_t first = rng() % (kStripe / 512);
            std::uint64_t count = 1 + rng() % (kStripe / 512 - first);
            std::uint64_t off = stripe * kStripe + first * 512, len = count * 512;
            switch (rng() % 4) {
                case 0: {
                    auto data = test::random_bytes(rng, len);
                    if (chain->write(off, data, false)) failed = true;
                    std::copy(data.begin(), data.end(), ref.begin() + static_cast<std::ptrdiff_t>(off));
                    break;
                }
                case 1:
                    if (chain->unmap(off, len)) failed = true;
                    std::fill_n(ref.begin() + static_cast<std::ptrdiff_t>(off), len, std::byte{0});
                    break;
                case 2:  // the network thread's path: may give up, but never returns wrong data
                    buf.resize(len);
                    if (chain->try_read_nowait(off, buf) &&
                        std::memcmp(buf.data(), ref.data() + off, len) != 0)
                        failed = true;
                    break;
                default:
                    buf.resize(len);
                    if (chain->read(off, buf) || std::memcmp(buf.data(), ref.data() + off, len) != 0)
                        failed = true;
            }
        }
    };
    std::thread flusher([&] {
        while (!done)
            if (chain->flush()) failed = true;
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(worker, t);
    for (auto& th : threads)
        th.join();
    done = true;
    flusher.join();
    CHECK(!failed);
    chain->close();
    auto all = test::read_all(*open_image(child, true));
    CHECK(std::memcmp(all.data(), ref.data(), kSize) == 0);
}
