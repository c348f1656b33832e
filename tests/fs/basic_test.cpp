// Format, mount, and every file and directory operation with its error paths.
#include "fs_fixture.hpp"

namespace vmodem::fs::testing {
namespace {

struct Basic : ::testing::Test {
  Basic() {
    rig.format();
    rig.mount();
  }
  FileSystem& fs() { return *rig.fs; }
  Rig rig;
};

TEST_F(Basic, EmptyAfterFormat) {
  auto entries = fs().readdir("/");
  ASSERT_TRUE(entries);
  EXPECT_TRUE(entries->empty());
  auto st = fs().statfs();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pages_in_use, 1u);  // the superblock
  EXPECT_EQ(st->page_size, 2048u);
  EXPECT_GT(st->free_bytes, 0u);
  EXPECT_EQ(fs().stat("/")->type, FileType::directory);
}

TEST_F(Basic, WriteReadRemount) {
  const auto data = bytes(10000, 1);
  ASSERT_TRUE(fs().write_file("/a.bin", data));
  EXPECT_EQ(*fs().read_file("/a.bin"), data);
  rig.remount();
  EXPECT_EQ(*fs().read_file("/a.bin"), data);
  EXPECT_EQ(fs().stat("/a.bin")->size, 10000u);
  EXPECT_EQ(fs().stat("/a.bin")->pages, 5u);
}

TEST_F(Basic, HandlesSeekAppendTruncate) {
  auto h = fs().open("f", kReadWrite | kCreate);
  ASSERT_TRUE(h);
  ASSERT_EQ(*fs().write(*h, text("hello world")), 11u);
  ASSERT_EQ(*fs().seek(*h, 6, Whence::set), 6u);
  ASSERT_TRUE(fs().write(*h, text("WORLD")));
  ASSERT_EQ(*fs().seek(*h, 0, Whence::set), 0u);
  std::vector<std::uint8_t> out(64);
  ASSERT_EQ(*fs().read(*h, out), 11u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 11), "hello WORLD");
  ASSERT_TRUE(fs().truncate(*h, 5));
  EXPECT_EQ(fs().fstat(*h)->size, 5u);
  ASSERT_TRUE(fs().truncate(*h, 8));  // grows with zeros
  ASSERT_EQ(*fs().pread(*h, out, 0), 8u);
  EXPECT_EQ(out[5], 0);
  EXPECT_EQ(out[7], 0);
  EXPECT_EQ(*fs().seek(*h, -2, Whence::end), 6u);
  EXPECT_EQ(fs().seek(*h, -20, Whence::end).error().code, Errc::invalid_argument);
  ASSERT_TRUE(fs().close(*h));
  auto a = fs().open("f", kWrite | kAppend);
  ASSERT_TRUE(fs().write(*a, text("xy")));
  ASSERT_TRUE(fs().close(*a));
  rig.remount();
  auto content = *fs().read_file("f");
  ASSERT_EQ(content.size(), 10u);
  EXPECT_EQ(std::string(content.begin(), content.begin() + 5), "hello");
  EXPECT_EQ(content[9], 'y');
}

TEST_F(Basic, SparseWriteReadsZeros) {
  auto h = fs().open("s", kReadWrite | kCreate);
  ASSERT_TRUE(fs().pwrite(*h, text("end"), 9000));
  ASSERT_TRUE(fs().close(*h));
  rig.remount();
  auto content = *fs().read_file("s");
  ASSERT_EQ(content.size(), 9003u);
  EXPECT_EQ(content[0], 0);
  EXPECT_EQ(content[8999], 0);
  EXPECT_EQ(content[9000], 'e');
}

TEST_F(Basic, ShrinkThenGrowShowsZeros) {
  ASSERT_TRUE(fs().write_file("g", bytes(5000, 2)));
  ASSERT_TRUE(fs().truncate("g", 100));
  ASSERT_TRUE(fs().truncate("g", 5000));
  rig.remount();
  auto content = *fs().read_file("g");
  ASSERT_EQ(content.size(), 5000u);
  const auto orig = bytes(5000, 2);
  EXPECT_TRUE(std::equal(orig.begin(), orig.begin() + 100, content.begin()));
  EXPECT_TRUE(std::all_of(content.begin() + 100, content.end(), [](auto b) { return b == 0; }));
}

TEST_F(Basic, Directories) {
  ASSERT_TRUE(fs().mkdir("/d"));
  ASSERT_TRUE(fs().mkdir("/d/e"));
  ASSERT_TRUE(fs().write_file("/d/e/f", text("x")));
  EXPECT_EQ(fs().mkdir("/d").error().code, Errc::exists);
  EXPECT_EQ(fs().rmdir("/d").error().code, Errc::not_empty);
  EXPECT_EQ(fs().rmdir("/d/e/f").error().code, Errc::not_dir);
  EXPECT_EQ(fs().unlink("/d").error().code, Errc::is_dir);
  EXPECT_EQ(fs().mkdir("/nope/x").error().code, Errc::not_found);
  EXPECT_EQ(fs().mkdir("/d/e/f/x").error().code, Errc::not_dir);
  EXPECT_EQ(fs().open("/d", kRead).error().code, Errc::is_dir);
  EXPECT_EQ(fs().readdir("/d/e/f").error().code, Errc::not_dir);
  EXPECT_EQ(fs().rmdir("/").error().code, Errc::invalid_argument);
  auto list = *fs().readdir("/d");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "e");
  EXPECT_EQ(list[0].type, FileType::directory);
  rig.remount();
  ASSERT_TRUE(fs().unlink("/d/e/f"));
  ASSERT_TRUE(fs().rmdir("/d/e"));
  ASSERT_TRUE(fs().rmdir("/d"));
  rig.remount();
  EXPECT_TRUE(fs().readdir("/")->empty());
}

TEST_F(Basic, Rename) {
  ASSERT_TRUE(fs().write_file("a", text("A")));
  ASSERT_TRUE(fs().write_file("b", text("B")));
  ASSERT_TRUE(fs().mkdir("d"));
  ASSERT_TRUE(fs().rename("a", "d/a2"));
  EXPECT_EQ(fs().stat("a").error().code, Errc::not_found);
  ASSERT_TRUE(fs().rename("b", "d/a2"));  // over an existing file
  EXPECT_EQ(fs().rename("d", "d/x").error().code, Errc::invalid_argument);
  EXPECT_EQ(fs().rename("missing", "x").error().code, Errc::not_found);
  ASSERT_TRUE(fs().mkdir("e"));
  EXPECT_EQ(fs().rename("d/a2", "e").error().code, Errc::is_dir);
  EXPECT_EQ(fs().rename("e", "d/a2").error().code, Errc::not_dir);
  ASSERT_TRUE(fs().rename("e", "d/e"));
  rig.remount();
  EXPECT_EQ(*fs().read_file("d/a2"), text("B"));
  EXPECT_EQ(fs().readdir("/")->size(), 1u);
  EXPECT_EQ(fs().readdir("/d")->size(), 2u);
}

TEST_F(Basic, BadNames) {
  EXPECT_EQ(fs().mkdir("a/../b").error().code, Errc::invalid_name);
  EXPECT_EQ(fs().mkdir("..").error().code, Errc::invalid_name);
  EXPECT_EQ(fs().mkdir("a//b").error().code, Errc::invalid_name);
  EXPECT_EQ(fs().mkdir("a/").error().code, Errc::invalid_name);
  EXPECT_EQ(fs().mkdir(std::string("a\0b", 3)).error().code, Errc::invalid_name);
  EXPECT_EQ(fs().mkdir(std::string(65, 'n')).error().code, Errc::name_too_long);
  EXPECT_TRUE(fs().mkdir(std::string(64, 'n')));
  EXPECT_EQ(validate_name("a/b", 64).error().code, Errc::invalid_name);
  EXPECT_EQ(validate_name(".", 64).error().code, Errc::invalid_name);
  EXPECT_TRUE(validate_name("ok.txt", 64));
}

TEST_F(Basic, Limits) {
  rig.cfg.max_file_size = 4096;
  rig.cfg.max_open_files = 2;
  rig.remount();
  EXPECT_EQ(fs().write_file("big", bytes(4097, 3)).error().code, Errc::file_too_large);
  EXPECT_TRUE(fs().write_file("ok", bytes(4096, 3)));
  auto h1 = fs().open("ok", kRead);
  auto h2 = fs().open("ok", kRead);
  ASSERT_TRUE(h1 && h2);
  EXPECT_EQ(fs().open("ok", kRead).error().code, Errc::too_many_open);
  EXPECT_EQ(fs().unlink("ok").error().code, Errc::busy);
  EXPECT_EQ(fs().write(*h1, text("x")).error().code, Errc::bad_handle);
  ASSERT_TRUE(fs().close(*h1));
  EXPECT_EQ(fs().close(*h1).error().code, Errc::bad_handle);
  EXPECT_EQ(fs().read(99, {}).error().code, Errc::bad_handle);
  ASSERT_TRUE(fs().close(*h2));
  EXPECT_EQ(fs().open("missing", kRead).error().code, Errc::not_found);
  EXPECT_EQ(fs().open("ok", kWrite | kCreate | kExclusive).error().code, Errc::exists);
  EXPECT_EQ(fs().open("ok", 0).error().code, Errc::invalid_argument);
}

TEST_F(Basic, ReadOnlyMount) {
  ASSERT_TRUE(fs().write_file("f", text("x")));
  rig.fs.reset();
  MountOptions ro;
  ro.read_only = true;
  auto& f = rig.mount(ro);
  EXPECT_EQ(*f.read_file("f"), text("x"));
  EXPECT_EQ(f.mkdir("d").error().code, Errc::read_only);
  EXPECT_EQ(f.open("f", kWrite).error().code, Errc::read_only);
}

TEST_F(Basic, FsyncMakesDataDurableUncommittedIsNot) {
  auto h = fs().open("f", kWrite | kCreate);
  ASSERT_TRUE(fs().write(*h, text("first")));
  ASSERT_TRUE(fs().fsync(*h));
  ASSERT_TRUE(fs().write(*h, text("-second")));
  // Simulated crash: drop the instance without closing.
  rig.fs.reset();
  rig.mount();
  EXPECT_EQ(*fs().read_file("f"), text("first"));
}

TEST_F(Basic, FillToFullKeepsData) {
  ASSERT_TRUE(fs().write_file("keep", bytes(3000, 9)));
  std::uint32_t n = 0;
  for (;; ++n) {
    auto r = fs().write_file("fill" + std::to_string(n), bytes(20000, n));
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::no_space);
      break;
    }
  }
  EXPECT_GT(n, 10u);
  EXPECT_LT(fs().statfs()->free_bytes, 20000u);
  EXPECT_EQ(*fs().read_file("keep"), bytes(3000, 9));
  // Deleting still works on a full file system, and frees space.
  ASSERT_TRUE(fs().unlink("fill0"));
  ASSERT_TRUE(fs().unlink("fill1"));
  EXPECT_TRUE(fs().write_file("again", bytes(20000, 77)));
  rig.remount();
  EXPECT_EQ(*fs().read_file("keep"), bytes(3000, 9));
  EXPECT_EQ(*fs().read_file("again"), bytes(20000, 77));
  for (std::uint32_t i = 2; i < n; ++i)
    EXPECT_EQ(*fs().read_file("fill" + std::to_string(i)), bytes(20000, i)) << i;
}

TEST_F(Basic, ChurnRunsGarbageCollection) {
  for (std::uint32_t round = 0; round < 60; ++round) {
    for (std::uint32_t f = 0; f < 8; ++f) {
      ASSERT_TRUE(fs().write_file("f" + std::to_string(f), bytes(9000 + f * 100, round * 8 + f)))
          << round;
    }
  }
  EXPECT_GT(fs().counters().blocks_erased, 20u);
  rig.remount();
  for (std::uint32_t f = 0; f < 8; ++f)
    EXPECT_EQ(*fs().read_file("f" + std::to_string(f)), bytes(9000 + f * 100, 59 * 8 + f));
  EXPECT_TRUE(fs().check().ok());
}

}  // namespace
}  // namespace vmodem::fs::testing
