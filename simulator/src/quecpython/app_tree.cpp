#include "quecpython/app_tree.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "quecpython/checksum_file.hpp"

namespace vmodem::sim::quecpython {

namespace {

namespace stdfs = std::filesystem;

std::string kind_of(stdfs::file_type type) {
  switch (type) {
    case stdfs::file_type::symlink:
      return "a symbolic link (not followed: copy the file it points to)";
    case stdfs::file_type::fifo:
      return "a FIFO";
    case stdfs::file_type::socket:
      return "a socket";
    case stdfs::file_type::block:
    case stdfs::file_type::character:
      return "a device";
    default:
      return "not a regular file or directory";
  }
}

// A host path for a message: bytes that are not UTF-8 as \xNN, so the
// message itself stays text (a terminal, a JSON log).
std::string printable(const std::string& path) {
  if (valid_utf8(path)) return path;
  std::string out;
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

// One walk over the tree; the first problem ends it.
class Walker {
 public:
  Walker(const stdfs::path& root, const AppTreeLimits& limits) : root_(root), limits_(limits) {}

  tl::expected<std::vector<fs::FactoryFile>, std::string> run() {
    std::error_code ec;
    const auto status = stdfs::symlink_status(root_, ec);
    if (ec) return fail(root_, ec.message());
    if (status.type() != stdfs::file_type::directory) return fail(root_, "not a directory");
    if (!walk(root_, "", 0)) return tl::unexpected(error_);
    std::sort(files_.begin(), files_.end(),
              [](const auto& a, const auto& b) { return a.path < b.path; });
    return std::move(files_);
  }

 private:
  tl::unexpected<std::string> fail(const stdfs::path& at, const std::string& why) {
    error_ = printable(at.string()) + ": " + why;
    return tl::unexpected(error_);
  }
  bool refuse(const stdfs::path& at, const std::string& why) {
    (void)fail(at, why);
    return false;
  }

  bool check_name(const stdfs::path& at, const std::string& name) {
    if (!valid_utf8(name)) return refuse(at, "the name is not UTF-8");
    if (name.size() > limits_.max_name) {
      return refuse(at, "the name is longer than the module's " + std::to_string(limits_.max_name) +
                            " bytes");
    }
    for (const char c : name) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return refuse(at, "the name holds a control character");
      }
    }
    return true;
  }

  bool walk(const stdfs::path& dir, const std::string& prefix, std::uint32_t depth) {
    std::error_code ec;
    stdfs::directory_iterator it(dir, ec), end;
    if (ec) return refuse(dir, ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return refuse(dir, ec.message());
      const stdfs::path& at = it->path();
      const std::string name = at.filename().string();
      if (!check_name(at, name)) return false;
      if (++entries_ > limits_.max_files) {
        return refuse(root_,
                      "more than " + std::to_string(limits_.max_files) + " files and directories");
      }
      const auto type = it->symlink_status(ec).type();
      if (ec) return refuse(at, ec.message());
      std::string path = prefix;
      path += '/';
      path += name;
      if (type == stdfs::file_type::directory) {
        if (depth + 1 > limits_.max_depth) {
          return refuse(at, "deeper than the module's " + std::to_string(limits_.max_depth) +
                                " directory levels");
        }
        if (!walk(at, path, depth + 1)) return false;
        continue;
      }
      if (type != stdfs::file_type::regular) return refuse(at, kind_of(type));
      if (!read(at, path)) return false;
    }
    return true;
  }

  bool read(const stdfs::path& at, const std::string& path) {
    // A file swapped for something else between the walk and this read is
    // caught by the size check below only when its size differs: the tree
    // is the user's own, not an attacker racing the tool.
    std::ifstream in(at, std::ios::binary);
    if (!in) return refuse(at, "cannot be read");
    std::error_code ec;
    const auto size = stdfs::file_size(at, ec);
    if (ec) return refuse(at, ec.message());
    if (limits_.max_file_size && size > limits_.max_file_size) {
      return refuse(at, "larger (" + std::to_string(size) + " bytes) than the module's " +
                            std::to_string(limits_.max_file_size) + "-byte file limit");
    }
    total_ += size;
    if (limits_.max_total_bytes && total_ > limits_.max_total_bytes) {
      return refuse(root_, "the files hold more than the " +
                               std::to_string(limits_.max_total_bytes) +
                               " bytes the file system can take");
    }
    fs::FactoryFile file;
    file.path = path;
    file.data.assign(std::istreambuf_iterator<char>(in), {});
    if (in.bad() || file.data.size() != size) return refuse(at, "changed or failed while read");
    files_.push_back(std::move(file));
    return true;
  }

  stdfs::path root_;
  const AppTreeLimits& limits_;
  std::vector<fs::FactoryFile> files_;
  std::uint64_t total_ = 0;
  std::uint32_t entries_ = 0;
  std::string error_;
};

}  // namespace

tl::expected<std::vector<fs::FactoryFile>, std::string> load_app_tree(
    const std::filesystem::path& dir, const AppTreeLimits& limits) {
  return Walker(dir, limits).run();
}

tl::expected<std::vector<fs::FactoryFile>, std::string> backup_content(
    const std::vector<fs::FactoryFile>& app, bool enable) {
  ChecksumList list;
  std::vector<fs::FactoryFile> out;
  out.reserve(app.size() + 2);
  for (const fs::FactoryFile& file : app) {
    if (file.path == kChecksumPath) {
      return tl::unexpected("the application holds " + file.path +
                            ", which the backup generates (and the boot copies into /usr): "
                            "rename or remove it");
    }
    // In /bak under the name it has in the list: /bak/usr/<path>.
    list.push_back({name_of(file.path), fs::crc32(file.data)});
    out.push_back({name_of(file.path), file.data});
  }
  const std::string checksums = serialize_checksum_list(list);
  if (checksums.size() > kChecksumMaxBytes) {
    return tl::unexpected("checksum.json for " + std::to_string(app.size()) + " files would be " +
                          std::to_string(checksums.size()) + " bytes; QuecPython reads " +
                          std::to_string(kChecksumMaxBytes) + " at most: back up fewer files");
  }
  const std::string flag = serialize_enable(enable);
  out.push_back({std::string(kChecksumPath), {checksums.begin(), checksums.end()}});
  out.push_back({std::string(kEnablePath), {flag.begin(), flag.end()}});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

}  // namespace vmodem::sim::quecpython
