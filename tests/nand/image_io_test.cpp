// Image files at paths a host names (the live image, links to it, FIFOs,
// devices, NUL bytes), and image files on a disk that is or becomes full.
#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nand_fixture.hpp"
#include "temp_dir.hpp"

namespace vmodem::nand::testing {
namespace {

using namespace std::chrono_literals;
using vmodem::testing::TempDir;

struct stat lstat_of(const std::filesystem::path& path) {
  struct stat st {};
  ::lstat(path.c_str(), &st);
  return st;
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ImageIo, ExportRefusesTheLiveImageByInodeNotByName) {
  TempDir dir;
  const auto path = dir / "nand.img";
  auto live = Storage::create_image(path, small_geometry()).value();
  std::filesystem::create_hard_link(path, dir / "hard.img");
  std::filesystem::create_symlink(path, dir / "soft.img");
  const auto inode = lstat_of(path).st_ino;
  for (const auto& target : {path, dir / "hard.img", dir / "soft.img", dir / "." / "nand.img"}) {
    auto result = live->export_image(target);
    ASSERT_FALSE(result) << target;
    EXPECT_EQ(result.error().code, Errc::invalid_argument) << target;
  }
  EXPECT_EQ(lstat_of(path).st_ino, inode) << "the live image is still the file we write";
  EXPECT_TRUE(S_ISLNK(lstat_of(dir / "soft.img").st_mode));
  // A RAM copy (what the running module writes out) refuses it too, when told.
  auto copy = live->copy_in_memory().value();
  EXPECT_EQ(copy->export_image(dir / "hard.img", live->file_id()).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"hard.img", "nand.img", "soft.img"}))
      << "no temporary file left behind";
}

TEST(ImageIo, ExportWritesOnlyNewNamesAndRegularFiles) {
  TempDir dir;
  auto ram = Storage::create_in_memory(small_geometry()).value();
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/null", dir / "null");
  std::filesystem::create_directory(dir / "sub");
  for (const char* name : {"fifo", "null", "sub"}) {
    auto result = ram->export_image(dir / name);
    ASSERT_FALSE(result) << name;
    EXPECT_EQ(result.error().code, Errc::invalid_argument) << name;
  }
  EXPECT_TRUE(S_ISFIFO(lstat_of(dir / "fifo").st_mode));
  EXPECT_TRUE(S_ISLNK(lstat_of(dir / "null").st_mode));
  EXPECT_TRUE(S_ISCHR(lstat_of("/dev/null").st_mode));
  EXPECT_EQ(ram->export_image(std::string(dir.path() / "x.img") + '\0' + "y").error().code,
            Errc::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.img")) << "the name before the NUL is untouched";

  { std::ofstream(dir / "old.img") << "older"; }
  ASSERT_TRUE(ram->export_image(dir / "old.img"));
  ASSERT_TRUE(ram->export_image(dir / "new.img"));
  EXPECT_TRUE(Storage::load_into_memory(dir / "old.img", small_geometry()));
  EXPECT_TRUE(Storage::load_into_memory(dir / "new.img", small_geometry()));
  EXPECT_EQ(lstat_of(dir / "new.img").st_mode & 0777, 0600U) << "a NAND image holds secrets";
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"fifo", "new.img", "null", "old.img", "sub"}));
}

TEST(ImageIo, LoadNeverWaitsOnAFifoOrADevice) {
  TempDir dir;
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pending = std::async(std::launch::async, [&] { return Storage::load_into_memory(fifo); });
  if (pending.wait_for(5s) != std::future_status::ready) {
    // Unblock the reader (a writer appears and goes) before failing.
    const int writer = ::open(fifo.c_str(), O_WRONLY);
    ::close(writer);
    FAIL() << "load_into_memory blocked on a FIFO nobody writes";
  }
  auto result = pending.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::bad_image);
  EXPECT_NE(result.error().detail.find("a FIFO"), std::string::npos) << result.error().detail;
  EXPECT_EQ(Storage::load_into_memory("/dev/zero").error().code, Errc::bad_image);
  EXPECT_EQ(Storage::open_image("/dev/zero", {}, true).error().code, Errc::bad_image);
}

TEST(ImageIo, LoadChecksGeometryAndAssignReplacesTheContent) {
  TempDir dir;
  auto ram = Storage::create_in_memory(small_geometry()).value();
  SimulatedChip chip(*ram, {});
  const auto data = pattern(2048, 7);
  ASSERT_TRUE(chip.program({4, 0}, data, {}));
  ASSERT_TRUE(ram->export_image(dir / "a.img"));
  EXPECT_EQ(Storage::load_into_memory(dir / "a.img", small_geometry(64)).error().code,
            Errc::bad_image);
  auto target = Storage::create_in_memory(small_geometry()).value();
  ASSERT_TRUE(target->assign(*Storage::load_into_memory(dir / "a.img", small_geometry()).value()));
  SimulatedChip target_chip(*target, {});
  std::vector<std::uint8_t> main(2048);
  ASSERT_TRUE(target_chip.read({4, 0}, main, {}));
  EXPECT_EQ(main, data);
  auto other = Storage::create_in_memory(small_geometry(64)).value();
  EXPECT_EQ(target->assign(*other).error().code, Errc::bad_image);
}

// A tmpfs of `megabytes` (root only; the test skips elsewhere).
class SmallDisk {
 public:
  explicit SmallDisk(int megabytes) {
    const std::string options = "size=" + std::to_string(megabytes) + "m";
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }
  void fill(const std::string& name) const {
    const int fd = ::open((dir_ / name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char> chunk(1 << 16, 'x');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd);
  }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

Geometry eight_megabytes() {
  return small_geometry(64);  // 64 blocks x 64 pages x 2112 bytes, + damage records
}

TEST(ImageIo, AnImageThatDoesNotFitIsRefusedWithTheSizes) {
  SmallDisk disk(4);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  auto result = Storage::create_image(disk / "nand.img", eight_megabytes());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::no_space);
  EXPECT_NE(result.error().detail.find("not enough disk space for the 17 MiB image at " +
                                       (disk / "nand.img").string()),
            std::string::npos)
      << result.error().detail;
  EXPECT_FALSE(std::filesystem::exists(disk / "nand.img"));
}

TEST(ImageIo, ASparseImageIsReservedWhenOpenedOrRefused) {
  SmallDisk disk(24);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  // A sparse image, as a copy or an older vmodem leaves it.
  auto ram = Storage::create_in_memory(eight_megabytes()).value();
  ASSERT_TRUE(ram->export_image(disk / "nand.img"));
  disk.fill("filler");
  auto refused = Storage::open_image(disk / "nand.img");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::no_space);
  std::filesystem::remove(disk / "filler");
  EXPECT_TRUE(Storage::open_image(disk / "nand.img", {}, true)) << "reading needs no space";
  EXPECT_TRUE(Storage::open_image(disk / "nand.img"));
}

TEST(ImageIo, WritesAfterTheDiskFillsCannotFault) {
  SmallDisk disk(24);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  auto storage = Storage::create_image(disk / "nand.img", eight_megabytes()).value();
  disk.fill("filler");
  // Every page and every damage record stored to: with a sparse image the
  // first store to a hole would raise SIGBUS.
  SimulatedChip chip(*storage, {});
  const auto data = pattern(2048, 3);
  for (std::uint32_t block = 0; block < eight_megabytes().block_count; ++block) {
    for (std::uint32_t page = 0; page < 64; ++page)
      ASSERT_TRUE(chip.program({block, page}, data, {}));
  }
  for (std::uint32_t slot = 0; slot < storage->deviation_slot_count(); ++slot)
    ASSERT_TRUE(storage->deviation_acquire({slot / 64, slot % 64}));
  std::vector<std::uint8_t> main(2048);
  ASSERT_TRUE(chip.read({63, 63}, main, {}));
  EXPECT_EQ(main, data);
}

// Another process truncates the live image: the pages it took are gone from
// under the mapping. The accesses that hit them complete (on zero pages)
// and are counted, instead of ending the process with SIGBUS.
TEST(ImageIo, ATruncatedImageIsCountedNotAFatalSignal) {
  TempDir dir;
  const auto path = dir / "nand.img";
  auto storage = Storage::create_image(path, small_geometry()).value();
  SimulatedChip chip(*storage, {});
  const auto data = pattern(2048, 11);
  ASSERT_TRUE(chip.program({2, 0}, data, {}));
  EXPECT_EQ(storage->lost_pages(), 0U);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  std::vector<std::uint8_t> main(2048);
  ASSERT_TRUE(chip.read({2, 0}, main, {}));  // the page reads as erased now
  ASSERT_TRUE(chip.program({5, 0}, data, {}));
  ASSERT_TRUE(chip.read({5, 0}, main, {}));
  EXPECT_EQ(main, data) << "the process goes on with what it stored";
  EXPECT_GT(storage->lost_pages(), 0U);
}

}  // namespace
}  // namespace vmodem::nand::testing
