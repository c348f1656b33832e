// Manifests and single-image bundles.
#include <fstream>

#include <vmodem/fota/delta.hpp>

#include "test_support.hpp"

namespace vmodem::fota::testing {
namespace {

class TempDir {
 public:
  TempDir() {
    path_ =
        std::filesystem::temp_directory_path() /
        ("vmodem-fota-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const Bytes& data) const {
    std::ofstream(path_ / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
  }
  void write_text(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }

 private:
  std::filesystem::path path_;
};

TEST(Bundle, ManifestNamesVersionAndImages) {
  TempDir dir;
  dir.write("a.bin", {1, 2, 3});
  dir.write("b.bin", {4});
  dir.write_text("fw.json", R"({"model":"BG95-M3","version":"V1",
      "images":[{"name":"app","file":"a.bin"},{"name":"modem","file":"b.bin"}]})");
  auto bundle = load_bundle(dir.path() / "fw.json");
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->model, "BG95-M3");
  EXPECT_EQ(bundle->version, "V1");
  ASSERT_EQ(bundle->images.size(), 2u);
  EXPECT_EQ(bundle->find("modem")->data, Bytes{4});
}

// A bundle written as a directory reads back as the same bundle; written
// again without replacing, nothing that is there is touched.
TEST(Bundle, ADirectoryReadsBackAndIsNeverOverwrittenUnasked) {
  TempDir dir;
  FirmwareBundle bundle{
      "BG95-M3", "V2", {{"modem", {1, 2, 3}}, {"manifest.json", {7}}, {"..", {8}}}};
  const auto out = dir.path() / "fw";
  auto written = write_bundle_directory(bundle, out, ExistingFiles::refuse);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->back(), out / "manifest.json");
  auto back = load_bundle(out / "manifest.json");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->model, "BG95-M3");
  EXPECT_EQ(back->version, "V2");
  ASSERT_EQ(back->images.size(), 3U);
  EXPECT_EQ(back->find("modem")->data, (Bytes{1, 2, 3}));
  EXPECT_EQ(back->find("manifest.json")->data, Bytes{7}) << "kept apart from the manifest";
  EXPECT_EQ(back->find("..")->data, Bytes{8});

  dir.write("fw/modem", {9});
  bundle.version = "V3";
  auto again = write_bundle_directory(bundle, out, ExistingFiles::refuse);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kIo);
  EXPECT_EQ(load_bundle(out / "manifest.json")->version, "V2") << "nothing was written";
  ASSERT_TRUE(write_bundle_directory(bundle, out, ExistingFiles::replace));
  EXPECT_EQ(load_bundle(out / "manifest.json")->find("modem")->data, (Bytes{1, 2, 3}));
}

TEST(Bundle, BadManifestsAreInvalidInput) {
  TempDir dir;
  dir.write("a.bin", {1});
  const char* bad[] = {
      "not json",
      R"({"version":"V1","images":[{"name":"a","file":"a.bin"}]})",
      R"({"model":"m","version":"V1","images":[]})",
      R"({"model":"m","version":"V1","images":[{"name":"../x","file":"a.bin"}]})",
      R"({"model":"m","version":"V1","images":[{"name":"a","file":"a.bin"},{"name":"a","file":"a.bin"}]})",
  };
  for (const char* text : bad) {
    dir.write_text("m.json", text);
    auto bundle = load_bundle(dir.path() / "m.json");
    ASSERT_FALSE(bundle) << text;
    EXPECT_EQ(bundle.error().code, ErrorCode::kInvalidInput) << text;
  }
  dir.write_text("m.json",
                 R"({"model":"m","version":"V1","images":[{"name":"a","file":"missing.bin"}]})");
  auto missing = load_bundle(dir.path() / "m.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
}

TEST(Bundle, PlainFileIsASingleImageBundle) {
  TempDir dir;
  dir.write("fw-2.0.bin", {9, 9});
  auto bundle = load_bundle(dir.path() / "fw-2.0.bin");
  ASSERT_TRUE(bundle);
  EXPECT_EQ(bundle->version, "fw-2.0");
  ASSERT_EQ(bundle->images.size(), 1u);
  EXPECT_EQ(bundle->images[0].name, "firmware");
}

TEST(DeltaApi, MakeInfoApplyOnFiles) {
  TempDir dir;
  const Bytes old_data = random_bytes(10'000, 51);
  Bytes new_data = old_data;
  new_data[5000] ^= 0x33;
  dir.write("old.bin", old_data);
  dir.write("new.bin", new_data);
  MakeOptions options;
  options.model = "UC20";
  options.old_version = "UC20A1";
  options.new_version = "UC20A2";
  options.generator = fast_options();
  auto stats = make(dir.path() / "old.bin", dir.path() / "new.bin", dir.path() / "d.pkg", options);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->package_size, std::filesystem::file_size(dir.path() / "d.pkg"));

  auto json = info(dir.path() / "d.pkg");
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ((*json)["model"], "UC20");
  EXPECT_EQ((*json)["source_version"], "UC20A1");
  EXPECT_EQ((*json)["target_version"], "UC20A2");
  EXPECT_EQ((*json)["images"][0]["target"]["size"], 10'000);

  auto applied = apply(dir.path() / "old.bin", dir.path() / "d.pkg", dir.path() / "out.bin");
  ASSERT_TRUE(applied) << applied.error().message;
  auto out = read_file(dir.path() / "out.bin", 1 << 20);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, new_data);

  // Applying to the wrong firmware creates nothing.
  auto wrong = apply(dir.path() / "new.bin", dir.path() / "d.pkg", dir.path() / "out2.bin");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kFirmwareMismatch);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "out2.bin"));
}

TEST(DeltaApi, ManifestToManifestWritesADirectory) {
  TempDir dir;
  dir.write("a1.bin", random_bytes(2000, 52));
  dir.write("b1.bin", random_bytes(3000, 53));
  dir.write("a2.bin", random_bytes(2100, 54));
  dir.write_text(
      "v1.json",
      R"({"model":"m","version":"1","images":[{"name":"a","file":"a1.bin"},{"name":"b","file":"b1.bin"}]})");
  dir.write_text(
      "v2.json",
      R"({"model":"m","version":"2","images":[{"name":"a","file":"a2.bin"},{"name":"b","file":"b1.bin"}]})");
  MakeOptions options;
  options.generator = fast_options();
  ASSERT_TRUE(make(dir.path() / "v1.json", dir.path() / "v2.json", dir.path() / "p.pkg", options));
  auto applied = apply(dir.path() / "v1.json", dir.path() / "p.pkg", dir.path() / "out");
  ASSERT_TRUE(applied) << applied.error().message;
  auto result = load_bundle(dir.path() / "out" / "manifest.json");
  ASSERT_TRUE(result) << result.error().message;
  auto expected = load_bundle(dir.path() / "v2.json");
  ASSERT_TRUE(expected);
  EXPECT_EQ(result->version, "2");
  EXPECT_EQ(firmware_digest(*result), firmware_digest(*expected));
}

// Offline apply checks the package against the old firmware as the module's
// boot-time update does: model, source version, the whole firmware's digest.
TEST(DeltaApi, PackageForOtherFirmwareIsRefusedLikeAtBoot) {
  TempDir dir;
  dir.write("a1.bin", random_bytes(2000, 52));
  dir.write("b1.bin", random_bytes(3000, 53));
  dir.write("c1.bin", random_bytes(100, 55));
  dir.write("a2.bin", random_bytes(2100, 54));
  const auto manifest = [&dir](const std::string& name, const std::string& model,
                               const std::string& version, const std::string& a,
                               bool with_c = false) {
    dir.write_text(name, R"({"model":")" + model + R"(","version":")" + version +
                             R"(","images":[{"name":"a","file":")" + a +
                             R"("},{"name":"b","file":"b1.bin"})" +
                             (with_c ? R"(,{"name":"c","file":"c1.bin"})" : "") + "]}");
  };
  manifest("v1.json", "m", "1", "a1.bin");
  manifest("v1_other_model.json", "x", "1", "a1.bin");
  manifest("v2_other_model.json", "x", "2", "a2.bin");
  manifest("v1_other_version.json", "m", "1b", "a1.bin");
  manifest("v2.json", "m", "2", "a2.bin");
  manifest("v1_extra_image.json", "m", "1", "a1.bin", true);
  MakeOptions options;
  options.generator = fast_options();
  ASSERT_TRUE(make(dir.path() / "v1_other_model.json", dir.path() / "v2_other_model.json",
                   dir.path() / "model.pkg", options));
  ASSERT_TRUE(make(dir.path() / "v1_other_version.json", dir.path() / "v2.json",
                   dir.path() / "version.pkg", options));
  ASSERT_TRUE(make(dir.path() / "v1.json", dir.path() / "v2.json", dir.path() / "p.pkg", options));
  struct Case {
    const char* old_fw;
    const char* package;
    const char* why;
  };
  for (const Case& c :
       {Case{"v1.json", "model.pkg", "model"}, Case{"v1.json", "version.pkg", "'1b'"},
        Case{"v1_extra_image.json", "p.pkg", "other images"}}) {
    auto refused = apply(dir.path() / c.old_fw, dir.path() / c.package, dir.path() / "out");
    ASSERT_FALSE(refused) << c.package;
    EXPECT_EQ(refused.error().code, ErrorCode::kFirmwareMismatch) << refused.error().message;
    EXPECT_NE(refused.error().message.find(c.why), std::string::npos) << refused.error().message;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "out")) << c.package;
  }
  EXPECT_TRUE(apply(dir.path() / "v1.json", dir.path() / "p.pkg", dir.path() / "out"));
}

// A bundle file's model and version are bytes; manifest.json holds only
// UTF-8. The output is refused before anything is written (it used to abort).
TEST(DeltaApi, VersionThatIsNotUtf8CannotGoIntoAManifest) {
  TempDir dir;
  const FirmwareBundle old_fw{
      "m", "1", {{"a", random_bytes(2000, 1)}, {"b", random_bytes(900, 2)}}};
  const FirmwareBundle new_fw{
      "m", "2\xFF", {{"a", random_bytes(2100, 3)}, {"b", random_bytes(900, 2)}}};
  dir.write("old.fwb", serialize_bundle(old_fw));
  dir.write("new.fwb", serialize_bundle(new_fw));
  MakeOptions options;
  options.generator = fast_options();
  ASSERT_TRUE(make(dir.path() / "old.fwb", dir.path() / "new.fwb", dir.path() / "p.pkg", options));
  auto applied = apply(dir.path() / "old.fwb", dir.path() / "p.pkg", dir.path() / "out");
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kUnsupported) << applied.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "out"));
}

}  // namespace
}  // namespace vmodem::fota::testing
