// A module is composed from its profile: it mounts every file system the
// profile lists (here a third one beside the modem and AP file systems), in
// boot order, through its family's guardians — and a file system no guardian
// takes (no backup partitions) is rebuilt with its factory content when it
// cannot be mounted.
#include <gtest/gtest.h>

#include "bytes.hpp"
#include "control/replies.hpp"
#include "module_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

// bg95-m3 with a third file system, "data", in a partition of its own.
Profile with_data_file_system() {
  auto document = builtin().document;
  e2e::add_data_file_system(document);
  auto profile = parse_profile(document.dump(), "three-fs.json");
  EXPECT_TRUE(profile) << profile.error().describe();
  return *profile;
}

using vmodem::testing::bytes_of;

class Composition : public ::testing::Test {
 protected:
  void boot() {
    ASSERT_TRUE(harness_.ok());
    harness_.power_on();
    ASSERT_TRUE(harness_.wait_power(PowerState::app_rdy));
  }
  void reset_and_wait() {
    const auto boots = harness_.on_io([this] { return harness_.module().boots(); });
    harness_.on_io([this] { return harness_.module().reset(); });
    ASSERT_TRUE(harness_.wait_power(PowerState::app_rdy));
    EXPECT_EQ(harness_.on_io([this] { return harness_.module().boots(); }), boots + 1);
  }
  // Runs `f` with the data file system locked, on the module's thread.
  template <class F>
  auto with_data(F f) {
    return harness_.on_io([&] {
      fs::SharedFileSystem* data = harness_.module().file_system("data");
      EXPECT_NE(data, nullptr);
      return f(*data->lock());
    });
  }

  ModuleHarness harness_{with_data_file_system()};
};

TEST_F(Composition, MountsEveryFileSystemItsProfileLists) {
  boot();
  harness_.on_io([this] {
    Module& m = harness_.module();
    ASSERT_NE(m.file_system("data"), nullptr);
    // Its alias and its partition name the same file system.
    EXPECT_EQ(m.file_system("appfs"), m.file_system("data"));
    EXPECT_EQ(m.file_system("appdata"), m.file_system("data"));
    EXPECT_NE(m.file_system("data"), m.ap_fs());
    EXPECT_NE(m.file_system("data"), m.modem_fs());
    // No backup partitions: no engine, and AT+QPRTPARA's two stay theirs.
    EXPECT_EQ(m.backup_engine(FsRole::data), nullptr);
    EXPECT_NE(m.backup_engine(FsRole::ap), nullptr);
    EXPECT_NE(m.backup_engine(FsRole::modem), nullptr);
    // `ctl stats` reports it beside the other two.
    const auto stats = m.stats();
    ASSERT_TRUE(stats);
    const auto json = control::to_json(*stats);
    EXPECT_TRUE(json.contains("data_fs")) << json.dump();
    EXPECT_TRUE(json.contains("ap_fs"));
    EXPECT_TRUE(json.contains("modem_fs"));
  });
  // A data file system has no factory content: it starts empty.
  const auto listed = with_data([](fs::FileSystem& data) { return data.readdir("/"); });
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_F(Composition, AFileWrittenToTheThirdFileSystemSurvivesAReset) {
  boot();
  ASSERT_TRUE(with_data([](fs::FileSystem& data) {
    return data.write_file("/notes.txt", bytes_of("kept")).has_value();
  }));
  reset_and_wait();
  const auto read = with_data([](fs::FileSystem& data) { return data.read_file("/notes.txt"); });
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(*read, bytes_of("kept"));
}

TEST_F(Composition, AnUnusableFileSystemWithoutBackupIsRebuiltAndTheOthersKeepTheirFiles) {
  boot();
  ASSERT_TRUE(harness_.on_io([this] {
    return harness_.module().ap_fs()->lock()->write_file("/user.txt", bytes_of("mine")).has_value();
  }));
  InjectRequest erase;
  erase.kind = InjectRequest::Kind::erase_partition;
  erase.partition = "appdata";
  ASSERT_TRUE(harness_.on_io([&] { return harness_.module().inject(erase); }));
  reset_and_wait();
  const auto rebuilt = harness_.named("FS_REBUILT");
  ASSERT_EQ(rebuilt.size(), 1U);
  EXPECT_EQ(rebuilt[0]["file_system"], "data");
  EXPECT_EQ(rebuilt[0]["partition"], "appdata");
  EXPECT_EQ(rebuilt[0]["backup"], false);
  EXPECT_EQ(harness_.count("RESTORE"), 0U);
  const auto kept =
      harness_.on_io([this] { return harness_.module().ap_fs()->lock()->read_file("/user.txt"); });
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, bytes_of("mine"));
}

}  // namespace
}  // namespace vmodem::sim::testing
