// QuecPython's application update (quecpython/app_update.hpp) on a module
// flash in RAM: the package round trip, the boot that applies it (files,
// checksum.json, the APP_FOTA event), and hostile packages — truncated,
// corrupt, for another profile, naming a path outside /usr or with "..",
// naming /usr/checksum.json, or made for other files — each refused with a
// clear message before anything is written, /usr left as it was.
#include "quecpython/app_update.hpp"

#include <gtest/gtest.h>

#include <vmodem/fota/app_package.hpp>

#include "qpy_rig.hpp"
#include "quecpython/guardian.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim::testing {
namespace {

namespace qp = quecpython;
using Bytes = std::vector<std::uint8_t>;

const std::vector<AppFile> kOld = {
    {"/main.py", "print('v1')\n"},
    {"/apn_cfg.json", R"({"apn": "iot.example"})"},
    {"/lib/gone.py", "x = 1\n"},
};

fota::AppFile file(const std::string& path, const std::string& content) {
  return {path, {content.begin(), content.end()}};
}

std::vector<fota::AppFile> old_files() {
  std::vector<fota::AppFile> out;
  out.reserve(kOld.size());
  for (const AppFile& f : kOld)
    out.push_back(file(qp::name_of(f.path), f.content));
  return out;
}

std::vector<fota::AppFile> new_files() {
  return {file("/usr/main.py", "print('v2')\n"),
          file("/usr/apn_cfg.json", R"({"apn": "iot.example"})"),
          file("/usr/lib/new.py", "y = 2\n")};
}

// The package's trailing check recomputed after a test changed its bytes,
// so the parser's deeper checks are what refuses it.
void reseal(Bytes& package) {
  package.resize(package.size() - fota::kPackageCheckBytes);
  const fota::Digest check = fota::sha256(package);
  package.insert(package.end(), check.begin(), check.begin() + fota::kPackageCheckBytes);
}

// Replaces the first occurrence of `from` with `to` (same length) in place.
bool replace_bytes(Bytes& package, const std::string& from, const std::string& to) {
  auto at = std::search(package.begin(), package.end(), from.begin(), from.end());
  if (at == package.end() || from.size() != to.size()) return false;
  std::copy(to.begin(), to.end(), at);
  return true;
}

class AppUpdate : public ::testing::Test {
 protected:
  void SetUp() override {
    write_app(app_.path(), kOld);
    auto made = QpyRig::create(app_.path(), /*backup=*/true, /*enabled=*/true);
    ASSERT_TRUE(made) << made.error();
    rig_ = std::move(*made);
    ASSERT_EQ(rig_->power_on(), Booted::up);
    ASSERT_TRUE(record(rig_->usr(), "/", before_));
  }

  Bytes package(const std::string& model = "bg95-m3-quecpython") {
    auto made = fota::make_app_package(model, old_files(), new_files(), {false, true});
    EXPECT_TRUE(made) << made.error().message;
    return made ? *made : Bytes{};
  }

  // Staging must refuse `bytes` with `code` and a message holding `says`,
  // and /usr must be as it was.
  void refused(const Bytes& bytes, fota::ErrorCode code, const std::string& says) {
    auto staged = qp::stage_app_update(rig_->usr(), bytes, options());
    ASSERT_TRUE(staged) << staged.error().message();
    ASSERT_TRUE(staged->refused);
    EXPECT_EQ(staged->refused->code, code) << staged->refused->message;
    EXPECT_NE(staged->refused->message.find(says), std::string::npos) << staged->refused->message;
    Tree now;
    ASSERT_TRUE(record(rig_->usr(), "/", now));
    EXPECT_EQ(now, before_);
  }

  qp::AppUpdateOptions options() const { return {.model = rig_->profile().name, .journal = true}; }
  std::string read(const std::string& path) {
    auto data = rig_->usr().read_file(path);
    return data ? std::string(data->begin(), data->end()) : "<" + data.error().message() + ">";
  }

  vmodem::testing::TempDir app_;
  std::unique_ptr<QpyRig> rig_;
  Tree before_;
};

TEST_F(AppUpdate, PackageListsOnlyWhatChangesAndRoundTrips) {
  const Bytes bytes = package();
  auto parsed = fota::parse_app_package(bytes);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->files.size(), 3u);  // apn_cfg.json is unchanged
  EXPECT_EQ(parsed->files[0].path, "/usr/lib/gone.py");
  EXPECT_TRUE(parsed->files[0].removed());
  EXPECT_EQ(parsed->files[1].path, "/usr/lib/new.py");
  EXPECT_TRUE(parsed->files[1].added());
  EXPECT_EQ(parsed->files[2].path, "/usr/main.py");
  const std::string old_main = "print('v1')\n";
  auto target = fota::app_file_target(bytes, *parsed, parsed->files[2],
                                      Bytes(old_main.begin(), old_main.end()));
  ASSERT_TRUE(target) << target.error().message;
  EXPECT_EQ(std::string(target->begin(), target->end()), "print('v2')\n");
  // Another source is refused, not patched into something else.
  const std::string other = "print('v0')\n";
  auto wrong =
      fota::app_file_target(bytes, *parsed, parsed->files[2], Bytes(other.begin(), other.end()));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, fota::ErrorCode::kFirmwareMismatch);
}

TEST_F(AppUpdate, TheNextBootAppliesItAndWritesChecksumJsonLast) {
  auto staged = qp::stage_app_update(rig_->usr(), package(), options());
  ASSERT_TRUE(staged && !staged->refused);
  rig_->power_off();
  ASSERT_EQ(rig_->power_on(), Booted::up);
  ASSERT_EQ(rig_->app_events().size(), 1u);
  const auto& event = rig_->app_events().front();
  EXPECT_EQ(event["state"], "applied");
  EXPECT_EQ(event["code"], 0);
  EXPECT_EQ(event["files"],
            nlohmann::json({"/usr/lib/gone.py", "/usr/lib/new.py", "/usr/main.py"}));
  EXPECT_EQ(rig_->files_restored(), 0u);
  EXPECT_EQ(read("/main.py"), "print('v2')\n");
  EXPECT_EQ(read("/lib/new.py"), "y = 2\n");
  EXPECT_FALSE(rig_->usr().stat("/lib/gone.py"));
  EXPECT_FALSE(rig_->usr().stat(qp::kStagedPackage));
  EXPECT_FALSE(rig_->usr().stat(qp::kJournal));
  // The listed files that stay have their new CRC-32; the removed one's
  // entry is gone; the added one was never backed up, so it has none.
  auto list = qp::parse_checksum_list(*rig_->usr().read_file("/checksum.json"));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  for (const auto& entry : *list)
    EXPECT_EQ(entry.crc32, *qp::file_crc32(rig_->usr(), *qp::fs_path_of(entry.name))) << entry.name;
  // A second boot has nothing to do and restores nothing.
  rig_->power_off();
  ASSERT_EQ(rig_->power_on(), Booted::up);
  EXPECT_TRUE(rig_->app_events().empty());
  EXPECT_EQ(rig_->files_restored(), 0u);
}

TEST_F(AppUpdate, ATruncatedOrCorruptPackageIsRefused) {
  Bytes bytes = package();
  Bytes truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2));
  refused(truncated, fota::ErrorCode::kBadPackage, "checksum");
  Bytes corrupt = bytes;
  corrupt[corrupt.size() / 2] ^= 0x40;
  refused(corrupt, fota::ErrorCode::kBadPackage, "checksum");
  refused(Bytes(bytes.begin(), bytes.begin() + 12), fota::ErrorCode::kBadPackage, "short");
}

TEST_F(AppUpdate, APackageForAnotherProfileIsRefused) {
  refused(package("bg95-m3-quecpython-v9"), fota::ErrorCode::kFirmwareMismatch,
          "the package is for bg95-m3-quecpython-v9");
}

TEST_F(AppUpdate, PathsOutsideUsrOrWithDotDotAreRefused) {
  // The generator refuses them outright...
  auto made = fota::make_app_package("bg95-m3-quecpython", {}, {file("/bak/usr/main.py", "x")});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, fota::ErrorCode::kInvalidInput);
  ASSERT_FALSE(fota::make_app_package("bg95-m3-quecpython", {}, {file("/usr/../bak/x", "x")}));
  // ...and a package made by other means, checksum and all, is refused by
  // the parser before anything else.
  // A name that is not UTF-8 would reach JSON (delta info, APP_FOTA) and
  // could not be written there: refused like the others (fuzz_fota_app_package
  // found it).
  ASSERT_FALSE(fota::make_app_package("bg95-m3-quecpython", {}, {file("/usr/\xff.py", "x")}));
  for (const std::string evil : {"/usr/../", "/bak/lib",
                                 "/usr/l\xff"
                                 "b"}) {
    Bytes bytes = package();
    ASSERT_TRUE(replace_bytes(bytes, "/usr/lib", evil));
    reseal(bytes);
    refused(bytes, fota::ErrorCode::kBadPackage, "is not a path under /usr");
  }
}

TEST_F(AppUpdate, APackageThatWritesChecksumJsonOrTheJournalIsRefused) {
  for (const char* reserved : {"/usr/checksum.json", "/usr/.app_fota.journal"}) {
    auto made = fota::make_app_package("bg95-m3-quecpython", {}, {file(reserved, "[]")});
    ASSERT_TRUE(made);
    refused(*made, fota::ErrorCode::kBadPackage, "the module's own file");
  }
}

TEST_F(AppUpdate, APackageTheUserFileSystemCannotHoldIsRefused) {
  // 8 MB of zeros: a small package, a file larger than /usr.
  auto made = fota::make_app_package("bg95-m3-quecpython", {},
                                     {{"/usr/big.bin", Bytes(8 << 20, 0)}}, {false, false});
  ASSERT_TRUE(made) << made.error().message;
  refused(*made, fota::ErrorCode::kNoSpace, "bytes free");
}

TEST_F(AppUpdate, APackageForOtherFilesIsRefusedBeforeAnythingIsWritten) {
  const std::string edited = "print('edited')\n";
  ASSERT_TRUE(rig_->usr().write_file("/main.py", Bytes(edited.begin(), edited.end())));
  before_.clear();
  ASSERT_TRUE(record(rig_->usr(), "/", before_));
  refused(package(), fota::ErrorCode::kFirmwareMismatch, "/usr/main.py differs");
}

TEST_F(AppUpdate, AStagedPackageTheFilesNoLongerMatchIsRefusedAtBootAndRemoved) {
  ASSERT_TRUE(qp::stage_app_update(rig_->usr(), package(), options()));
  // The application rewrites a file the package changes after staging.
  const std::string edited = "print('edited')\n";
  ASSERT_TRUE(rig_->usr().write_file("/main.py", Bytes(edited.begin(), edited.end())));
  ASSERT_TRUE(qp::update_checksum(rig_->usr(), "/usr/main.py"));
  rig_->power_off();
  ASSERT_EQ(rig_->power_on(), Booted::up);
  ASSERT_EQ(rig_->app_events().size(), 1u);
  EXPECT_EQ(rig_->app_events().front()["state"], "refused");
  EXPECT_EQ(rig_->app_events().front()["code"], 510);
  EXPECT_EQ(read("/main.py"), edited);
  EXPECT_EQ(read("/lib/gone.py"), "x = 1\n");
  EXPECT_FALSE(rig_->usr().stat(qp::kStagedPackage));
  EXPECT_EQ(rig_->files_restored(), 0u);
}

}  // namespace
}  // namespace vmodem::sim::testing
