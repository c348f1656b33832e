// QuecPython's boot-time per-file restore (seed 002) on a module flash in
// RAM, booted as the module boots it: the seed's three triggers, what must
// never be touched, the enable flag, /bak read-only, checksum-update.
#include "quecpython/guardian.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "qpy_rig.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim::testing {
namespace {

namespace qp = quecpython;

const std::vector<AppFile> kApp = {
    {"/main.py", "import utime\nprint('hello')\n"},
    {"/apn_cfg.json", R"({"apn": "iot.example"})"},
    {"/lib/util.py", "def add(a, b):\n    return a + b\n"},
};

std::string text(fs::FileSystem& fs, const std::string& path) {
  auto data = fs.read_file(path);
  return data ? std::string(data->begin(), data->end()) : "<" + data.error().message() + ">";
}

class Guardian : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  void make(bool backup = true, bool enabled = true) {
    write_app(app_.path(), kApp);
    auto made = QpyRig::create(app_.path(), backup, enabled);
    ASSERT_TRUE(made) << made.error();
    rig_ = std::move(*made);
    ASSERT_EQ(rig_->power_on(), Booted::up);
  }
  // Power-cycles and returns (path, reason) of what the boot restored.
  std::vector<std::pair<std::string, std::string>> reboot() {
    rig_->power_off();
    EXPECT_EQ(rig_->power_on(), Booted::up);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& event : rig_->restored_events())
      out.emplace_back(event["path"].get<std::string>(), event["reason"].get<std::string>());
    EXPECT_EQ(rig_->files_restored(), out.size());
    return out;
  }
  using Restored = std::vector<std::pair<std::string, std::string>>;

  vmodem::testing::TempDir app_;
  std::unique_ptr<QpyRig> rig_;
};

TEST_F(Guardian, AShippedModuleBootsWithNothingToRestore) {
  make();
  EXPECT_EQ(text(rig_->usr(), "/main.py"), kApp[0].content);
  EXPECT_EQ(text(rig_->bak(), "/usr/lib/util.py"), kApp[2].content);
  // The first boot (manufacture) copied checksum.json into /usr.
  EXPECT_EQ(text(rig_->usr(), "/checksum.json"), text(rig_->bak(), "/checksum.json"));
  EXPECT_EQ(reboot(), Restored{});
}

TEST_F(Guardian, Trigger1ChecksumJsonDeletedIsCopiedFromBak) {
  make();
  ASSERT_TRUE(rig_->usr().unlink("/checksum.json"));
  EXPECT_EQ(reboot(), (Restored{{"/usr/checksum.json", "checksum.json missing"}}));
  EXPECT_EQ(text(rig_->usr(), "/checksum.json"), text(rig_->bak(), "/checksum.json"));
  EXPECT_EQ(reboot(), Restored{});
}

TEST_F(Guardian, AChecksumJsonThatIsNoListIsCopiedToo) {
  make();
  ASSERT_TRUE(rig_->usr().write_file("/checksum.json", bytes("[{\"name\": \"/usr/ma")));
  EXPECT_EQ(reboot(), (Restored{{"/usr/checksum.json", "checksum.json invalid"}}));
}

TEST_F(Guardian, Trigger2ACorruptedOrLostFileComesBack) {
  make();
  // What an interrupted rewrite by the application leaves: part of it.
  ASSERT_TRUE(rig_->usr().write_file("/main.py", bytes("import ut")));
  ASSERT_TRUE(rig_->usr().unlink("/lib/util.py"));
  ASSERT_TRUE(rig_->usr().rmdir("/lib"));
  // In checksum.json's order (shipped sorted by path).
  EXPECT_EQ(reboot(), (Restored{{"/usr/lib/util.py", "missing"}, {"/usr/main.py", "checksum"}}));
  EXPECT_EQ(text(rig_->usr(), "/main.py"), kApp[0].content);
  EXPECT_EQ(text(rig_->usr(), "/lib/util.py"), kApp[2].content);
  EXPECT_EQ(reboot(), Restored{});
}

TEST_F(Guardian, Trigger3AnEditWithoutUpdatingChecksumJsonIsUndone) {
  make();
  ASSERT_TRUE(rig_->usr().write_file("/apn_cfg.json", bytes(R"({"apn": "other"})")));
  EXPECT_EQ(reboot(), (Restored{{"/usr/apn_cfg.json", "checksum"}}));
  EXPECT_EQ(text(rig_->usr(), "/apn_cfg.json"), kApp[1].content);
}

TEST_F(Guardian, AnEditWithChecksumUpdateSurvives) {
  make();
  const std::string edited = R"({"apn": "other"})";
  ASSERT_TRUE(rig_->usr().write_file("/apn_cfg.json", bytes(edited)));
  auto updated = qp::update_checksum(rig_->usr(), "/USR/APN_CFG.JSON");  // any case
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_TRUE(updated->changed);
  const std::uint32_t crc = updated->crc32;
  EXPECT_EQ(crc, fs::crc32(bytes(edited)));
  EXPECT_FALSE(qp::update_checksum(rig_->usr(), "/usr/apn_cfg.json")->changed);  // again: no-op
  EXPECT_EQ(reboot(), Restored{});
  EXPECT_EQ(text(rig_->usr(), "/apn_cfg.json"), edited);
  // Only the one entry moved; /bak keeps what was shipped.
  auto list = qp::parse_checksum_list(*rig_->usr().read_file("/checksum.json"));
  ASSERT_TRUE(list);
  EXPECT_EQ(qp::find_entry(*list, "/usr/apn_cfg.json")->crc32, crc);
  EXPECT_EQ(text(rig_->bak(), "/usr/apn_cfg.json"), kApp[1].content);
  // Not listed, not under /usr, no such file: refused, nothing written.
  EXPECT_EQ(qp::update_checksum(rig_->usr(), "/usr/new.py").error().code,
            fs::Errc::invalid_argument);
  EXPECT_EQ(qp::update_checksum(rig_->usr(), "/bak/main.py").error().code,
            fs::Errc::invalid_argument);
  ASSERT_TRUE(rig_->usr().unlink("/main.py"));
  EXPECT_EQ(qp::update_checksum(rig_->usr(), "/usr/main.py").error().code, fs::Errc::not_found);
}

TEST_F(Guardian, AnUnlistedFileIsNeverTouched) {
  make();
  ASSERT_TRUE(rig_->usr().write_file("/notes.txt", bytes("mine")));
  ASSERT_TRUE(rig_->usr().write_file("/main.py", bytes("edited")));  // so the boot writes
  ASSERT_TRUE(rig_->usr().unlink("/checksum.json"));
  const auto before = rig_->usr().stat("/notes.txt");
  ASSERT_TRUE(before);
  EXPECT_EQ(reboot(), (Restored{{"/usr/checksum.json", "checksum.json missing"},
                                {"/usr/main.py", "checksum"}}));
  const auto after = rig_->usr().stat("/notes.txt");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->id, before->id);
  EXPECT_EQ(text(rig_->usr(), "/notes.txt"), "mine");
}

TEST_F(Guardian, DisabledByBackupRestoreJsonNothingIsRestored) {
  make(/*backup=*/true, /*enabled=*/false);
  EXPECT_EQ(text(rig_->bak(), "/backup_restore.json"), "{\"enable\":false}\n");
  ASSERT_TRUE(rig_->usr().write_file("/main.py", bytes("edited")));
  ASSERT_TRUE(rig_->usr().unlink("/lib/util.py"));
  EXPECT_EQ(reboot(), Restored{});
  EXPECT_EQ(text(rig_->usr(), "/main.py"), "edited");
  EXPECT_FALSE(rig_->usr().stat("/checksum.json"));  // never copied either
}

TEST_F(Guardian, WithoutABackupBakIsEmptyAndNothingIsRestored) {
  make(/*backup=*/false);
  EXPECT_TRUE(rig_->bak().readdir("/")->empty());
  ASSERT_TRUE(rig_->usr().unlink("/main.py"));
  EXPECT_EQ(reboot(), Restored{});
}

TEST_F(Guardian, BakIsMountedReadOnly) {
  make();
  EXPECT_TRUE(rig_->bak().read_only());
  EXPECT_EQ(rig_->bak().write_file("/usr/main.py", bytes("x")).error().code, fs::Errc::read_only);
  EXPECT_EQ(rig_->bak().unlink("/usr/main.py").error().code, fs::Errc::read_only);
  EXPECT_EQ(rig_->bak().mkdir("/d").error().code, fs::Errc::read_only);
  EXPECT_EQ(text(rig_->bak(), "/usr/main.py"), kApp[0].content);
}

TEST_F(Guardian, AListedFileBakLacksIsReportedNotInvented) {
  make();
  // The application lists a file of its own (a hand-made entry).
  auto list = qp::parse_checksum_list(*rig_->usr().read_file("/checksum.json"));
  list->push_back({"/usr/own.py", 1});
  ASSERT_TRUE(rig_->usr().write_file("/checksum.json", bytes(qp::serialize_checksum_list(*list))));
  auto report = qp::restore_from_backup(rig_->usr(), rig_->bak());
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->restored.empty());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("/usr/own.py"), std::string::npos);
  EXPECT_FALSE(rig_->usr().stat("/own.py"));
}

TEST_F(Guardian, TemporaryFilesACutLeftAreRemoved) {
  make();
  ASSERT_TRUE(rig_->usr().write_file(std::string(qp::kRestoreTemp), bytes("half")));
  ASSERT_TRUE(rig_->usr().write_file(std::string(qp::kChecksumTemp), bytes("[")));
  EXPECT_EQ(reboot(), Restored{});
  EXPECT_FALSE(rig_->usr().stat(qp::kRestoreTemp));
  EXPECT_FALSE(rig_->usr().stat(qp::kChecksumTemp));
}

}  // namespace
}  // namespace vmodem::sim::testing
