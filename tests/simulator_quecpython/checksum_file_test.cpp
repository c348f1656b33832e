// The JSON layouts of checksum.json and backup_restore.json, and the
// host-tree reader of `vmodem image create --app` (hostile input).
#include "quecpython/checksum_file.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "bytes.hpp"
#include "quecpython/app_tree.hpp"
#include "temp_dir.hpp"

namespace vmodem::sim::quecpython {
namespace {

std::vector<std::uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

TEST(ChecksumFile, RoundTripsAndKeepsQuectelsFieldOrder) {
  const ChecksumList list = {{"/usr/main.py", 0xdeadbeef}, {"/usr/lib/a.py", 7}};
  const std::string text = serialize_checksum_list(list);
  EXPECT_EQ(text,
            "[\n {\"name\":\"/usr/main.py\",\"crc32\":3735928559},\n"
            " {\"name\":\"/usr/lib/a.py\",\"crc32\":7}\n]\n");
  auto back = parse_checksum_list(bytes(text));
  ASSERT_TRUE(back) << back.error();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].name, "/usr/main.py");
  EXPECT_EQ((*back)[0].crc32, 0xdeadbeefu);
  EXPECT_EQ(serialize_checksum_list({}), "[]\n");
}

TEST(ChecksumFile, ReadsTheCrcAsANumberOrAHexString) {
  auto list = parse_checksum_list(
      bytes(R"([{"name":"/usr/a","crc32":"deadbeef"},{"name":"/usr/b","crc32":"0xDEADBEEF"},)"
            R"({"name":"/usr/c","crc32":4294967295}])"));
  ASSERT_TRUE(list) << list.error();
  EXPECT_EQ((*list)[0].crc32, 0xdeadbeefu);
  EXPECT_EQ((*list)[1].crc32, 0xdeadbeefu);
  EXPECT_EQ((*list)[2].crc32, 0xffffffffu);
}

TEST(ChecksumFile, RefusesWhatIsNoChecksumList) {
  for (const std::string bad :
       {"", "{", "{}", "[1]", R"([{"name":"/usr/a"}])", R"([{"crc32":1}])",
        R"([{"name":"/bak/a","crc32":1}])", R"([{"name":"/usr/../etc","crc32":1}])",
        R"([{"name":"/usr/","crc32":1}])", R"([{"name":"/usr//a","crc32":1}])",
        R"([{"name":"/usr/a","crc32":4294967296}])", R"([{"name":"/usr/a","crc32":-1}])",
        R"([{"name":"/usr/a","crc32":"xyz"}])", R"([{"name":"/usr/a","crc32":"123456789"}])",
        R"([{"name":"/usr/a","crc32":1.5}])", R"([{"name":7,"crc32":1}])"}) {
    EXPECT_FALSE(parse_checksum_list(bytes(bad))) << bad;
  }
}

// The boot's quick reading of the plain form and the full JSON parser it
// falls back to give the same answers (checksum_file.cpp, PlainList).
TEST(ChecksumFile, ThePlainFormAndTheFullParserAgree) {
  for (const std::string good :
       {" [ ] ", "[]", "\t[ {\"crc32\" : 5 ,\r\n \"name\" : \"/usr/a\"} ]\n",
        R"([{"name":"/usr/a","crc32":0},{"name":"/usr/b b","crc32":4294967295}])",
        R"([{"name":"/usr/a","crc32":1,"size":3}])", R"([{"name":"/usr/\u0061","crc32":1}])",
        R"([{"name":"/usr/é","crc32":1}])"}) {
    auto list = parse_checksum_list(bytes(good));
    ASSERT_TRUE(list) << good << ": " << list.error();
    const auto doc = nlohmann::json::parse(good);
    ASSERT_EQ(list->size(), doc.size()) << good;
    for (std::size_t i = 0; i < doc.size(); ++i) {
      EXPECT_EQ((*list)[i].name, doc[i]["name"].get<std::string>()) << good;
      EXPECT_EQ((*list)[i].crc32, doc[i]["crc32"].get<std::uint32_t>()) << good;
    }
  }
  for (const std::string bad :
       {"[]x", "[", R"([{"name":"/usr/a","crc32":012}])", R"([{"name":"/usr/a","crc32":1e3}])",
        R"([{"name":"/usr/a","crc32":1},])", R"([{"name":"/usr/a" "crc32":1}])",
        R"([{"name":"/usr/a	b","crc32":1}])"}) {
    EXPECT_FALSE(parse_checksum_list(bytes(bad))) << bad;
  }
}

TEST(ChecksumFile, ReadsNoMoreThanQuecPythonDoes) {
  ChecksumList list;
  while (serialize_checksum_list(list).size() <= kChecksumMaxBytes)
    list.push_back({"/usr/file" + std::to_string(list.size()) + ".py", 1});
  const auto refused = parse_checksum_list(bytes(serialize_checksum_list(list)));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("16384"), std::string::npos) << refused.error();
  list.pop_back();
  EXPECT_TRUE(parse_checksum_list(bytes(serialize_checksum_list(list))));
}

TEST(ChecksumFile, FindsANameWithoutRegardToCase) {
  ChecksumList list = {{"/usr/Main.py", 1}};
  ASSERT_NE(find_entry(list, "/USR/MAIN.PY"), nullptr);
  EXPECT_EQ(find_entry(list, "/usr/main.pyc"), nullptr);
  EXPECT_EQ(fs_path_of("/usr/lib/a.py"), "/lib/a.py");
  EXPECT_EQ(fs_path_of("/usrx/a"), std::nullopt);
  EXPECT_EQ(name_of("/lib/a.py"), "/usr/lib/a.py");
}

TEST(EnableFlag, TrueFalseOneOrZero) {
  EXPECT_EQ(parse_enable(bytes(serialize_enable(true))), true);
  EXPECT_EQ(parse_enable(bytes(serialize_enable(false))), false);
  EXPECT_EQ(parse_enable(bytes(R"({"enable":1})")), true);
  EXPECT_EQ(parse_enable(bytes(R"({"enable":0})")), false);
  for (const std::string bad : {"", "[]", "{}", R"({"enable":2})", R"({"enable":"yes"})"})
    EXPECT_FALSE(parse_enable(bytes(bad))) << bad;
}

class AppTree : public ::testing::Test {
 protected:
  void put(const std::string& rel, const std::string& content) {
    const auto path = dir_ / rel;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }
  tl::expected<std::vector<fs::FactoryFile>, std::string> load(AppTreeLimits limits = {}) {
    return load_app_tree(dir_.path(), limits);
  }
  void expect_refused(const std::string& words, AppTreeLimits limits = {}) {
    auto got = load(limits);
    ASSERT_FALSE(got) << "accepted";
    EXPECT_NE(got.error().find(words), std::string::npos) << got.error();
  }
  vmodem::testing::TempDir dir_;
};

TEST_F(AppTree, ReadsRegularFilesSortedByPath) {
  put("main.py", "print(1)\n");
  put("lib/util.py", "x = 1\n");
  std::filesystem::create_directories(dir_ / "empty");
  auto files = load();
  ASSERT_TRUE(files) << files.error();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "/lib/util.py");
  EXPECT_EQ((*files)[1].path, "/main.py");
  EXPECT_EQ(std::string((*files)[1].data.begin(), (*files)[1].data.end()), "print(1)\n");
}

TEST_F(AppTree, RefusesASymbolicLink) {
  put("main.py", "x");
  std::filesystem::create_symlink("/etc/hostname", dir_ / "link.py");
  expect_refused("link.py: a symbolic link");
}

TEST_F(AppTree, RefusesALinkedDirectory) {
  std::filesystem::create_directory_symlink("/etc", dir_ / "etc");
  expect_refused("etc: a symbolic link");
}

TEST_F(AppTree, RefusesAFifo) {
  ASSERT_EQ(::mkfifo((dir_ / "pipe").c_str(), 0600), 0);
  expect_refused("pipe: a FIFO");
}

TEST_F(AppTree, RefusesANameThatIsNotUtf8) {
  put("caf\xe9.py", "x");                                // Latin-1, not UTF-8
  expect_refused("caf\\xe9.py: the name is not UTF-8");  // the message stays text
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(valid_utf8("\xe2\x82"));      // truncated
}

TEST_F(AppTree, RefusesWhatPassesTheModulesLimits) {
  put("a/b/c/deep.py", "x");
  AppTreeLimits shallow;
  shallow.max_depth = 2;
  expect_refused("deeper than", shallow);
  AppTreeLimits small;
  small.max_file_size = 3;
  put("big.bin", "four");
  expect_refused("big.bin: larger (4 bytes)", small);
  AppTreeLimits tight;
  tight.max_total_bytes = 4;
  expect_refused("more than the 4 bytes", tight);
  AppTreeLimits short_names;
  short_names.max_name = 5;
  expect_refused("longer than", short_names);
}

TEST_F(AppTree, ARootThatIsNoDirectoryIsRefused) {
  put("file", "x");
  auto got = load_app_tree(dir_ / "file", {});
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().find("not a directory"), std::string::npos);
  EXPECT_FALSE(load_app_tree(dir_ / "missing", {}));
}

TEST(BackupContent, AddsTheChecksumListAndTheFlag) {
  const std::vector<fs::FactoryFile> app = {{"/main.py", bytes("print(1)\n")}};
  auto out = backup_content(app, true);
  ASSERT_TRUE(out) << out.error();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[0].path, "/backup_restore.json");
  EXPECT_EQ((*out)[1].path, "/checksum.json");
  EXPECT_EQ((*out)[2].path, "/usr/main.py");  // /bak/usr/main.py backs up /usr/main.py
  EXPECT_EQ((*out)[2].data, app[0].data);
  auto list = parse_checksum_list((*out)[1].data);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "/usr/main.py");
  EXPECT_EQ((*list)[0].crc32, fs::crc32(app[0].data));
  EXPECT_EQ(parse_enable((*out)[0].data), true);
  EXPECT_EQ(parse_enable((*backup_content(app, false))[0].data), false);
}

TEST(BackupContent, RefusesCollisionsAndAListQuecPythonCannotRead) {
  EXPECT_FALSE(backup_content({{"/checksum.json", {}}}, true));
  EXPECT_TRUE(backup_content({{"/backup_restore.json", {}}}, true));  // /bak/usr/...: no clash
  std::vector<fs::FactoryFile> many;
  for (int i = 0; i < 400; ++i)
    many.push_back({"/lib/module_" + std::to_string(i) + ".py", {}});
  const auto refused = backup_content(many, true);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("16384"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace vmodem::sim::quecpython
