// SIGKILL of a process writing to a mapped image: every operation it finished
// must be in the image when it is reopened.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nand_fixture.hpp"
#include "temp_dir.hpp"

namespace vmodem::nand::testing {
namespace {

constexpr std::uint32_t kPages = 32 * 64;

[[noreturn]] void child_writer(const std::filesystem::path& path, int report_fd) {
  auto storage = Storage::open_image(path);
  if (!storage) _exit(3);
  SimulatedChip chip(**storage, {});
  for (std::uint32_t k = 0; k < kPages; ++k) {
    const PageAddr addr{k / 64, k % 64};
    if (addr.page == 0 && !chip.erase(addr.block)) _exit(4);
    if (!chip.program(addr, pattern(2048, k), {})) _exit(5);
    // Report only after the program returned: the parent trusts nothing else.
    if (write(report_fd, &k, sizeof k) != sizeof k) _exit(6);
  }
  pause();
  _exit(0);
}

TEST(KillNine, CompletedOperationsSurvive) {
  vmodem::testing::TempDir dir;
  const auto path = dir / "nand.img";
  { auto created = Storage::create_image(path, small_geometry()).value(); }
  Rng rng(3);
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      child_writer(path, fds[1]);
    }
    close(fds[1]);
    // Let the child get a random distance in, then kill it mid-stride.
    const std::uint32_t target = 50 + static_cast<std::uint32_t>(rng.below(kPages - 100));
    std::uint32_t last = 0;
    std::uint32_t seen = 0;
    while (seen < target && read(fds[0], &last, sizeof last) == sizeof last)
      ++seen;
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    // Drain what the child reported before it died.
    while (read(fds[0], &last, sizeof last) == sizeof last)
      ++seen;
    close(fds[0]);
    ASSERT_GE(seen, target);

    auto storage = Storage::open_image(path, small_geometry());
    ASSERT_TRUE(storage) << storage.error().message();
    SimulatedChip chip(**storage, {});
    std::vector<std::uint8_t> main(2048);
    for (std::uint32_t k = 0; k <= last; ++k) {
      ASSERT_TRUE(chip.read({k / 64, k % 64}, main, {}));
      ASSERT_EQ(main, pattern(2048, k)) << "page " << k << " of " << last << " completed";
    }
  }
}

}  // namespace
}  // namespace vmodem::nand::testing
